//===- TaskDialect.cpp - The mk task dialect --------------------------------===//
#include "mk/Dialect/Task/TaskDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mk::task;

#include "mk/Dialect/Task/TaskDialect.cpp.inc"

#include "mk/Dialect/Task/TaskEnums.cpp.inc"

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

// Spelled by the ISA table's names, so the attribute needs no list of its own.
FailureOr<mk::isa::TaskKind> TaskKindAttr::parseName(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef name;
  if (parser.parseKeyword(&name))
    return failure();
  for (uint32_t k = 0; k < mk::isa::kNumTaskKinds; ++k)
    if (name == mk::isa::kTaskKindInfo[k].name)
      return static_cast<mk::isa::TaskKind>(k);
  return parser.emitError(loc) << "unknown task kind '" << name << "'";
}

Attribute TaskKindAttr::parse(AsmParser &parser, Type) {
  FailureOr<mk::isa::TaskKind> kind;
  if (parser.parseLess() || failed(kind = parseName(parser)) || parser.parseGreater())
    return {};
  return get(parser.getContext(), *kind);
}

void TaskKindAttr::print(AsmPrinter &printer) const {
  printer << '<' << mk::isa::taskKindName(getValue()) << '>';
}

bool BoxAttr::overlaps(BoxAttr other) const {
  if (getTensor() != other.getTensor() || getLo().size() != other.getLo().size())
    return false;
  for (size_t i = 0; i < getLo().size(); ++i)
    if (getHi()[i] <= other.getLo()[i] || other.getHi()[i] <= getLo()[i])
      return false;
  return true;
}
