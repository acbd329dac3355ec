//===- GraphDialect.cpp - The mk graph dialect ------------------------------===//
#include "mk/Dialect/Graph/GraphDialect.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mk::graph;

#include "mk/Dialect/Graph/GraphDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "mk/Dialect/Graph/GraphTypes.cpp.inc"

void MKGDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "mk/Dialect/Graph/GraphTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "mk/Dialect/Graph/GraphOps.cpp.inc"
      >();
}
