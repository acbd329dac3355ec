//===- TaskOps.cpp - Verifiers of the mk task dialect -----------------------===//
#include "mk/Dialect/Task/TaskDialect.h"

#include "mk/isa/plan.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mk::task;
namespace mkisa = mk::isa;

//===----------------------------------------------------------------------===//
// TensorOp
//===----------------------------------------------------------------------===//

uint64_t TensorOp::getByteSize() {
  RankedTensorType type = getTensorType();
  uint64_t bytes = (type.getElementTypeBitWidth() + 7) / 8;
  for (int64_t d : type.getShape())
    bytes *= static_cast<uint64_t>(d);
  return bytes;
}

LogicalResult TensorOp::verify() {
  RankedTensorType type = getTensorType();
  if (!type.hasStaticShape() || type.getRank() < 1 ||
      type.getRank() > static_cast<int64_t>(mkisa::kMaxRank))
    return emitOpError() << "tensors are static with rank 1 to " << mkisa::kMaxRank
                         << ", got " << type;
  Type elem = type.getElementType();
  if (!elem.isBF16() && !elem.isF16() && !elem.isF32() && !elem.isSignlessInteger(32))
    return emitOpError() << "element type must be bf16, f16, f32 or i32, got " << elem;
  Placement placement = getPlacement();
  if (placement == Placement::Weight && !getWeightName())
    return emitOpError() << "weight tensors need a weight_name";
  if (placement == Placement::Activation && !getProgram())
    return emitOpError() << "activation tensors need the program that owns them";
  if (placement == Placement::Comm && !getProgram())
    return emitOpError() << "comm tensors need the program that owns them";
  if (getOffset() && !isActivation())
    return emitOpError() << "only activation tensors have an offset";
  if (placement == Placement::KvCache && !getLayer())
    return emitOpError() << "kv_cache tensors need the layer they cache";
  // Read signed: the I64Attr getters are unsigned, so -1 would pass as 2^64 - 1.
  if (getLayerAttr() && getLayerAttr().getInt() < 0)
    return emitOpError() << "layer must be non-negative, got " << getLayerAttr().getInt();
  if (getOffsetAttr() && getOffsetAttr().getInt() < 0)
    return emitOpError() << "offset must be non-negative, got "
                         << getOffsetAttr().getInt();
  IntegerAttr dim = getShardDimAttr(), parts = getShardPartsAttr(),
              replicas = getShardReplicasAttr();
  if (!dim && !parts && !replicas)
    return success();
  if (!dim || !parts || !replicas)
    return emitOpError() << "shard_dim, shard_parts and shard_replicas come together";
  if (placement != Placement::Weight)
    return emitOpError() << "only weight tensors are sharded";
  if (dim.getInt() < 0 || dim.getInt() >= type.getRank())
    return emitOpError() << "shard_dim " << dim.getInt() << " is not a dimension of "
                         << type;
  if (parts.getInt() < 2 || replicas.getInt() < 1)
    return emitOpError() << "a sharded weight has shard_parts >= 2 and shard_replicas "
                            ">= 1, got "
                         << parts.getInt() << " and " << replicas.getInt();
  return success();
}

//===----------------------------------------------------------------------===//
// ProgramOp / EventOp
//===----------------------------------------------------------------------===//

void ProgramOp::build(OpBuilder &builder, OperationState &state, StringRef name,
                      ProgramKind kind, int64_t rows) {
  state.addAttribute(getSymNameAttrName(state.name), builder.getStringAttr(name));
  state.addAttribute(getKindAttrName(state.name),
                     ProgramKindAttr::get(builder.getContext(), kind));
  state.addAttribute(getRowsAttrName(state.name), builder.getI64IntegerAttr(rows));
  Region *body = state.addRegion();
  body->push_back(new Block());
}

RegionKind ProgramOp::getRegionKind(unsigned) { return RegionKind::Graph; }

LogicalResult ProgramOp::verify() {
  // Read signed: the I64Attr getter is unsigned and would let rows(-1) through.
  int64_t rows = getRowsAttr().getInt();
  if (rows <= 0)
    return emitOpError() << "rows must be positive, got " << rows;
  for (Operation &op : getBody().front())
    if (!llvm::isa<TaskOp, EventOp>(op))
      return op.emitOpError() << "is not allowed in a program (only tasks and events)";
  return success();
}

LogicalResult EventOp::verify() {
  int64_t count = getCountAttr().getInt(); // signed, as for ProgramOp rows
  if (count <= 0)
    return emitOpError() << "count must be positive, got " << count;
  return success();
}

//===----------------------------------------------------------------------===//
// TaskOp
//===----------------------------------------------------------------------===//

LogicalResult TaskOp::verify() {
  const mkisa::TaskKindInfo &info = mkisa::taskKindInfo(getKind());
  if (getOperands().size() != info.numOperands)
    return emitOpError() << "kind '" << info.name << "' has " << info.numOperands
                         << " operand roles, got " << getOperands().size() << " operands";
  for (auto [i, operand] : llvm::enumerate(getOperands())) {
    const char *role = info.operandRoles[i];
    if (llvm::isa<UnitAttr>(operand)) {
      if (!mkisa::roleIsOptional(role))
        return emitOpError() << "operand role '" << role << "' of '" << info.name
                             << "' is required";
      continue;
    }
    if (!llvm::isa<FlatSymbolRefAttr>(operand))
      return emitOpError() << "operands are tensor symbols or unit, got " << operand;
  }
  ArrayRef<int64_t> tile = getTile();
  if (tile.size() != 6)
    return emitOpError() << "tile must hold 3 ranges [b0, e0, b1, e1, b2, e2], got "
                         << tile.size() << " values";
  for (unsigned d = 0; d < 3; ++d)
    if (tile[2 * d] < 0 || tile[2 * d] > tile[2 * d + 1])
      return emitOpError() << "tile range " << d << " [" << tile[2 * d] << ", "
                           << tile[2 * d + 1] << ") is invalid";
  if (getAux().size() > 2)
    return emitOpError() << "at most 2 aux values, got " << getAux().size();
  if (getWaits() && getWaits()->size() > mkisa::kMaxWaits)
    return emitOpError() << "waits on " << getWaits()->size() << " events; at most "
                         << mkisa::kMaxWaits;
  if (getSignals() &&
      (getSignals()->empty() || getSignals()->size() > mkisa::kMaxSignals))
    return emitOpError() << "signals 1 or 2 events, got " << getSignals()->size();
  if (getWrites().empty())
    return emitOpError() << "writes nothing";
  return success();
}

LogicalResult TaskOp::verifySymbolUses(SymbolTableCollection &symbols) {
  // A task names a handful of tensors, most of them more than once (an operand and
  // its boxes): look each up in the module's table once. This runs for every task
  // each time the IR is verified, so it is on the compiler's hot path.
  SymbolTable &table = symbols.getSymbolTable((*this)->getParentOp()->getParentOp());
  SmallVector<std::pair<StringAttr, TensorOp>, 12> seen;
  auto lookupTensor = [&](FlatSymbolRefAttr ref) -> TensorOp {
    StringAttr name = ref.getAttr();
    for (auto &[n, op] : seen)
      if (n == name)
        return op;
    auto op = table.lookup<TensorOp>(name);
    seen.push_back({name, op});
    return op;
  };
  for (Attribute operand : getOperands()) {
    auto ref = dyn_cast<FlatSymbolRefAttr>(operand);
    if (ref && !lookupTensor(ref))
      return emitOpError() << "operand " << ref << " is not an mkt.tensor";
  }
  for (auto [boxes, written] :
       {std::pair(getReads(), false), std::pair(getWrites(), true)}) {
    for (auto box : boxes.getAsRange<BoxAttr>()) {
      TensorOp tensor = lookupTensor(box.getTensor());
      if (!tensor)
        return emitOpError() << "box names " << box.getTensor()
                             << ", which is not an mkt.tensor";
      ArrayRef<int64_t> shape = tensor.getTensorType().getShape();
      if (box.getHi().size() != shape.size())
        return emitOpError() << "box of " << box.getTensor() << " has rank "
                             << box.getHi().size() << " but the tensor has rank "
                             << shape.size();
      for (size_t d = 0; d < shape.size(); ++d)
        if (box.getHi()[d] > shape[d])
          return emitOpError() << "box of " << box.getTensor() << " reaches "
                               << box.getHi()[d] << " in dimension " << d
                               << " but the tensor has " << shape[d];
      if (written && tensor.getPlacement() == Placement::Weight)
        return emitOpError() << "writes weight " << box.getTensor();
    }
  }
  Operation *program = (*this)->getParentOp();
  if (getWaits())
    for (auto wait : getWaits()->getAsRange<WaitAttr>()) {
      auto event = symbols.lookupSymbolIn<EventOp>(program, wait.getEvent());
      if (!event)
        return emitOpError() << "waits on " << wait.getEvent()
                             << ", which is not an event";
      if (wait.getCount() != event.getCount())
        return emitOpError() << "waits for " << wait.getCount() << " signals of "
                             << wait.getEvent() << ", which has " << event.getCount()
                             << " producers";
      if (wait.getBack() > 1)
        return emitOpError() << "cross-step waits reach back one step, got "
                             << wait.getBack();
    }
  if (getSignals())
    for (auto ref : getSignals()->getAsRange<FlatSymbolRefAttr>())
      if (!symbols.lookupSymbolIn<EventOp>(program, ref))
        return emitOpError() << "signals " << ref << ", which is not an event";
  return success();
}

//===----------------------------------------------------------------------===//
// custom<TaskKind>: the bare ISA name in mkt.task (`mkt.task @t qkv ...`)
//===----------------------------------------------------------------------===//

static ParseResult parseTaskKind(OpAsmParser &parser, TaskKindAttr &kind) {
  FailureOr<mkisa::TaskKind> parsed = TaskKindAttr::parseName(parser);
  if (failed(parsed))
    return failure();
  kind = TaskKindAttr::get(parser.getContext(), *parsed);
  return success();
}

static void printTaskKind(OpAsmPrinter &printer, TaskOp, TaskKindAttr kind) {
  printer << mkisa::taskKindName(kind.getValue());
}

#define GET_OP_CLASSES
#include "mk/Dialect/Task/TaskOps.cpp.inc"
