//===- GraphDialect.cpp - The mk graph dialect ------------------------------===//
#include "mk/Dialect/Graph/GraphDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mk::graph;

#include "mk/Dialect/Graph/GraphDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "mk/Dialect/Graph/GraphAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "mk/Dialect/Graph/GraphTypes.cpp.inc"

#include "mk/Dialect/Graph/GraphOpInterfaces.cpp.inc"

void MKGDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "mk/Dialect/Graph/GraphAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "mk/Dialect/Graph/GraphTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "mk/Dialect/Graph/GraphOps.cpp.inc"
      >();
}

LogicalResult MKGDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  if (attr.getName() != getProgramAttrHelper().getName())
    return op->emitError() << "unknown graph-dialect attribute '" << attr.getName().str()
                           << "'";
  if (!llvm::isa<ProgramKindAttr>(attr.getValue()))
    return op->emitError() << "'" << attr.getName().str()
                           << "' must be #mkg.program_kind<decode> or <prefill>, got "
                           << attr.getValue();
  return success();
}
