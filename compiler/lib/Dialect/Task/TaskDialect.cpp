//===- TaskDialect.cpp - The mk task dialect --------------------------------===//
#include "mk/Dialect/Task/TaskDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mk::task;

#include "mk/Dialect/Task/TaskDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "mk/Dialect/Task/TaskAttrs.cpp.inc"

void MKTDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "mk/Dialect/Task/TaskAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "mk/Dialect/Task/TaskOps.cpp.inc"
      >();
}

LogicalResult BoxAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              FlatSymbolRefAttr tensor, ArrayRef<int64_t> lo,
                              ArrayRef<int64_t> hi) {
  if (lo.size() != hi.size() || lo.empty())
    return emitError() << "box of " << tensor << " has " << lo.size() << " lower and "
                       << hi.size() << " upper bounds";
  for (size_t i = 0; i < lo.size(); ++i)
    if (lo[i] < 0 || lo[i] > hi[i])
      return emitError() << "box of " << tensor << " has an empty or negative range ["
                         << lo[i] << ", " << hi[i] << ") in dimension " << i;
  return success();
}

bool BoxAttr::overlaps(BoxAttr other) const {
  if (getTensor() != other.getTensor() || getLo().size() != other.getLo().size())
    return false;
  for (size_t i = 0; i < getLo().size(); ++i)
    if (getHi()[i] <= other.getLo()[i] || other.getHi()[i] <= getLo()[i])
      return false;
  return true;
}
