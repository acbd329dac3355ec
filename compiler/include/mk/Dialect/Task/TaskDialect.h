//===- TaskDialect.h - The mk task dialect ----------------------------------===//
#pragma once

#include "mk/Dialect/Task/TaskEnums.h"
#include "mk/isa/task_kinds.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"

#include <optional>

#include "mk/Dialect/Task/TaskDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "mk/Dialect/Task/TaskAttrs.h.inc"

#define GET_OP_CLASSES
#include "mk/Dialect/Task/TaskOps.h.inc"
