//===- GraphDialect.h - The mk graph dialect --------------------------------===//
#pragma once

#include "mk/Dialect/Task/TaskEnums.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>

#define GET_ATTRDEF_CLASSES
#include "mk/Dialect/Graph/GraphAttrs.h.inc"

#include "mk/Dialect/Graph/GraphDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "mk/Dialect/Graph/GraphTypes.h.inc"

#include "mk/Dialect/Graph/GraphOpInterfaces.h.inc"

#define GET_OP_CLASSES
#include "mk/Dialect/Graph/GraphOps.h.inc"
