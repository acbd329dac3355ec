//===- Tile.cpp - mk-tile: lower fused graph functions to tile tasks --------===//
//
// Each function with `mkg.program` becomes an `mkt.program`. Tensors:
//   @w.<hf name>          weights (module level, shared by programs)
//   @kv.l<i>.k / .v       paged KV caches [blocks, block_size, kv_heads, head_dim]
//   @<prog>.<value>       activations of one program
//   @<prog>.tokens ...    step state of one program (tokens, positions, seq_lens,
//                         block_table, kv_slots; prefill also tokens_out)
//   @<prog>.comm.*        comm tensors of a tensor-parallel program (CommTensors)
// Every other op is lowered, in body order, by the lowering its family registers
// (Tile/<Family>.cpp: tiling rule, boxes, cost); this file is the driver and the
// helpers the families share.
//===----------------------------------------------------------------------===//
#include "TileLowering.h"

#include "mk/Transforms/ModelAttr.h"
#include "mk/Transforms/Passes.h"

#include "llvm/ADT/STLExtras.h"

namespace mk {
#define GEN_PASS_DEF_MKTILE
#include "mk/Transforms/Passes.h.inc"
} // namespace mk

using namespace mlir;
using namespace mk;
using namespace mk::task;
using namespace mk::tile;
namespace mkg = mk::graph;

//===----------------------------------------------------------------------===//
// ModuleTensors
//===----------------------------------------------------------------------===//

ModuleTensors::ModuleTensors(ModuleOp m) : module(m), builder(m.getContext()) {
  builder.setInsertionPointToStart(m.getBody());
}

FlatSymbolRefAttr ModuleTensors::create(StringRef sym, Placement placement,
                                        RankedTensorType type,
                                        function_ref<void(TensorOp)> extra) {
  auto it = byName.find(sym);
  if (it != byName.end())
    return it->second;
  auto op = builder.create<TensorOp>(module.getLoc(), builder.getStringAttr(sym),
                                     PlacementAttr::get(builder.getContext(), placement),
                                     TypeAttr::get(type), StringAttr(), IntegerAttr(),
                                     FlatSymbolRefAttr(), IntegerAttr(), IntegerAttr(),
                                     IntegerAttr(), IntegerAttr());
  if (extra)
    extra(op);
  auto ref = FlatSymbolRefAttr::get(builder.getContext(), sym);
  positions[sym] = byName.size();
  byName[sym] = ref;
  shapes[sym] = SmallVector<int64_t, 4>(type.getShape());
  return ref;
}

FlatSymbolRefAttr ModuleTensors::weight(mkg::WeightOp w) {
  std::array<int64_t, 3> split = {0, 1, 1};
  if (w.getShardPartsAttr())
    split = {w.getShardDimAttr().getInt(), w.getShardPartsAttr().getInt(),
             w.getShardReplicasAttr().getInt()};
  const std::string base = ("w." + w.getName()).str();
  std::string sym = base;
  for (int i = 1; byName.count(sym) && weightSplits.lookup(sym) != split; ++i)
    sym = base + ".shard" + (i > 1 ? std::to_string(i) : "");
  weightSplits[sym] = split;
  return create(sym, Placement::Weight, w.getResult().getType(), [&](TensorOp op) {
    op.setWeightNameAttr(builder.getStringAttr(w.getName()));
    if (split[1] > 1) {
      op.setShardDimAttr(builder.getI64IntegerAttr(split[0]));
      op.setShardPartsAttr(builder.getI64IntegerAttr(split[1]));
      op.setShardReplicasAttr(builder.getI64IntegerAttr(split[2]));
    }
  });
}

FlatSymbolRefAttr ModuleTensors::kvCache(int64_t layer, bool isValue, int64_t kvHeads,
                                         int64_t headDim) {
  std::string sym = "kv." + layerPrefix(layer) + (isValue ? ".v" : ".k");
  auto type = RankedTensorType::get({kvBlocks, kvBlockSize, kvHeads, headDim},
                                    builder.getBF16Type());
  return create(sym, Placement::KvCache, type,
                [&](TensorOp op) { op.setLayerAttr(builder.getI64IntegerAttr(layer)); });
}

//===----------------------------------------------------------------------===//
// ProgramLowering
//===----------------------------------------------------------------------===//

ProgramLowering::ProgramLowering(ModuleTensors &tensors, const TileSizer &sizer,
                                 const TileLoweringSet &lowerings, func::FuncOp func,
                                 ProgramKind kind, int64_t maxSeqLen)
    : tensors_(tensors), sizer_(sizer), lowerings_(lowerings), func_(func), kind_(kind),
      name_(func.getSymName().str()), maxSeqLen_(maxSeqLen), builder_(func.getContext()) {
  auto commRef = [&](StringRef which) {
    return FlatSymbolRefAttr::get(getContext(), name_ + ".comm." + which.str());
  };
  comm_.reduce = commRef("reduce");
  comm_.gather = commRef("gather");
  comm_.flags = commRef("flags");
}

int64_t ProgramLowering::takeCommSite(int64_t tiles) {
  comm_.maxTiles = std::max(comm_.maxTiles, tiles);
  return comm_.sites++;
}

LogicalResult ProgramLowering::declareCommTensors() {
  if (comm_.sites == 0)
    return success();
  // The executor binds all three for any program with a comm task.
  if (comm_.hidden == 0 || comm_.gatherTiles == 0)
    return func_.emitOpError() << "mk-tile: a tensor-parallel program needs its "
                                  "all-reduces and the LM head's all-gather";
  const int64_t n = ranks();
  auto comm = [&](FlatSymbolRefAttr ref, ArrayRef<int64_t> shape, Type element) {
    tensors_.create(ref.getValue(), Placement::Comm,
                    RankedTensorType::get(shape, element), [&](TensorOp op) {
                      op.setProgramAttr(FlatSymbolRefAttr::get(getContext(), name_));
                    });
  };
  comm(comm_.reduce, {2, n, rows_, comm_.hidden}, builder_.getBF16Type());
  comm(comm_.gather, {2, n, rows_, 2 * comm_.gatherTiles}, builder_.getF32Type());
  comm(comm_.flags, {2, comm_.maxTiles, n}, builder_.getI32Type());
  return success();
}

BoxAttr ProgramLowering::box(FlatSymbolRefAttr t, ArrayRef<int64_t> lo,
                             ArrayRef<int64_t> hi) {
  return BoxAttr::get(getContext(), t, lo, hi);
}

BoxAttr ProgramLowering::whole(FlatSymbolRefAttr t) {
  ArrayRef<int64_t> shape = shapeOf(t);
  return box(t, SmallVector<int64_t>(shape.size(), 0), shape);
}

ArrayRef<int64_t> ProgramLowering::shapeOf(FlatSymbolRefAttr t) {
  return tensors_.shapes[t.getValue()];
}

FlatSymbolRefAttr ProgramLowering::stepState(StringRef name, ArrayRef<int64_t> shape) {
  return tensors_.create(name_ + "." + name.str(), Placement::StepState,
                         RankedTensorType::get(shape, builder_.getI32Type()));
}

FlatSymbolRefAttr ProgramLowering::activation(Value value, StringRef name) {
  FlatSymbolRefAttr ref = activation(llvm::cast<RankedTensorType>(value.getType()), name);
  valueTensor_[value] = ref;
  return ref;
}

FlatSymbolRefAttr ProgramLowering::activation(RankedTensorType type, StringRef name) {
  return tensors_.create(name_ + "." + name.str(), Placement::Activation, type,
                         [&](TensorOp op) {
                           op.setProgramAttr(FlatSymbolRefAttr::get(getContext(), name_));
                         });
}

FlatSymbolRefAttr ProgramLowering::lookup(StringRef name) {
  return tensors_.byName.lookup(name_ + "." + name.str());
}

FailureOr<FlatSymbolRefAttr> ProgramLowering::tensorOf(Operation *user, Value value) {
  if (auto w = value.getDefiningOp<mkg::WeightOp>())
    return tensors_.weight(w);
  auto it = valueTensor_.find(value);
  if (it != valueTensor_.end())
    return it->second;
  return user->emitOpError() << "mk-tile: operand has no tensor (unsupported producer)";
}

LogicalResult ProgramLowering::emit(Operation *op, const TaskSpec &s) {
  const isa::TaskKindInfo &info = isa::taskKindInfo(s.kind());
  SmallVector<Attribute> operands;
  for (uint32_t i = 0; i < info.numOperands; ++i) {
    if (s.operands_[i]) {
      operands.push_back(s.operands_[i]);
      continue;
    }
    if (!isa::roleIsOptional(info.operandRoles[i]))
      return op->emitOpError() << "mk-tile: task '" << s.name()
                               << "' leaves operand role '"
                               << isa::roleName(info.operandRoles[i]) << "' of '"
                               << info.name << "' unset";
    operands.push_back(UnitAttr::get(getContext()));
  }
  OpBuilder::InsertionGuard guard(builder_);
  builder_.setInsertionPointToEnd(&program_.getBody().front());
  builder_.create<TaskOp>(
      func_.getLoc(), builder_.getStringAttr(s.name()),
      TaskKindAttr::get(getContext(), s.kind()),
      s.layer ? builder_.getI64IntegerAttr(*s.layer) : IntegerAttr(),
      builder_.getDenseI64ArrayAttr(s.tile), builder_.getDenseI64ArrayAttr(s.aux),
      builder_.getI64IntegerAttr(s.flags), builder_.getArrayAttr(operands),
      builder_.getArrayAttr(s.reads), builder_.getArrayAttr(s.writes), ArrayAttr(),
      ArrayAttr(), builder_.getI64IntegerAttr(s.bytes),
      builder_.getI64IntegerAttr(s.flops), IntegerAttr());
  return success();
}

LogicalResult ProgramLowering::run() {
  Block &body = func_.getBody().front();
  if (func_.getNumArguments() != 2)
    return func_.emitOpError() << "mk-tile: a program takes (tokens, positions), got "
                               << func_.getNumArguments() << " arguments";
  rows_ = dimOf(body.getArgument(0), 0);
  int64_t seqs = isDecode() ? rows_ : 1;
  int64_t blocksPerSeq = ceilDiv(maxSeqLen_, tensors_.kvBlockSize);
  step_.tokens = stepState("tokens", {rows_});
  step_.positions = stepState("positions", {rows_});
  step_.seqLens = stepState("seq_lens", {seqs});
  step_.blockTable = stepState("block_table", {seqs, blocksPerSeq});
  step_.kvSlots = stepState("kv_slots", {rows_});
  valueTensor_[body.getArgument(0)] = step_.tokens;
  valueTensor_[body.getArgument(1)] = step_.positions;

  // Tensors go at the start of the module, programs at its end.
  OpBuilder moduleBuilder(func_.getContext());
  moduleBuilder.setInsertionPointToEnd(tensors_.module.getBody());
  program_ = moduleBuilder.create<ProgramOp>(func_.getLoc(), name_, kind_, rows_);

  for (Operation &op : body) {
    // Weights become tensors when a task first reads them; the return is no task.
    if (llvm::isa<mkg::WeightOp, func::ReturnOp>(op))
      continue;
    ArrayRef<const TileLowering *> candidates = lowerings_.lookup(&op);
    if (candidates.empty())
      return op.emitOpError() << "mk-tile: no task lowers this op; fused graphs only "
                                 "(run mk-fuse first)";
    auto chosen =
        llvm::find_if(candidates, [&](const TileLowering *l) { return l->match(&op); });
    if (chosen == candidates.end()) {
      InFlightDiagnostic diag = op.emitOpError()
                                << "mk-tile: no task lowers this op as it is; it must ";
      llvm::interleave(
          candidates, [&](const TileLowering *l) { diag << l->requirement(); },
          [&] { diag << " or "; });
      return diag << " (run mk-fuse)";
    }
    if (failed((*chosen)->lower(&op, *this)))
      return failure();
  }
  return declareCommTensors();
}

//===----------------------------------------------------------------------===//
// TileLoweringSet
//===----------------------------------------------------------------------===//

ArrayRef<const TileLowering *> TileLoweringSet::lookup(Operation *op) const {
  auto it = byRoot_.find(op->getName().getTypeID());
  if (it == byRoot_.end())
    return {};
  return it->second;
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {

struct MkTilePass : mk::impl::MkTileBase<MkTilePass> {
  using MkTileBase::MkTileBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const isa::TargetDesc *desc = isa::findTarget(target);
    if (!desc) {
      module.emitError() << "mk-tile: unknown target '" << target
                         << "' (known: host, a100, h100, h200)";
      return signalPassFailure();
    }
    // Options given explicitly win; otherwise the model metadata the builder recorded
    // (so `mk-opt -mk-tile` on a builder's graph tiles for the model's real limits).
    if (auto model = module->getAttrOfType<DictionaryAttr>("mk.model")) {
      if (auto v = model.getAs<IntegerAttr>("max_seq_len"); v && !maxSeqLen.hasValue())
        maxSeqLen = v.getInt();
      if (auto v = model.getAs<IntegerAttr>("kv_block_size");
          v && !kvBlockSize.hasValue())
        kvBlockSize = v.getInt();
    }
    if (maxSeqLen <= 0 || kvBlockSize <= 0 || maxSeqLen % kvBlockSize != 0) {
      // Cast: streamed as pass options, they print as a char.
      module.emitError() << "mk-tile: max-seq-len (" << static_cast<int64_t>(maxSeqLen)
                         << ") must be a positive multiple of kv-block-size ("
                         << static_cast<int64_t>(kvBlockSize) << ")";
      return signalPassFailure();
    }

    // The mkg dialect verified the attribute: a ProgramKindAttr wherever it is set.
    mkg::MKGDialect::ProgramAttrHelper programAttr(module.getContext());
    SmallVector<std::pair<func::FuncOp, ProgramKind>> programs;
    int64_t maxSeqs = 1;
    for (auto func : module.getOps<func::FuncOp>()) {
      mkg::ProgramKindAttr kind = programAttr.getAttr(func);
      if (!kind)
        continue;
      if (func.getNumArguments() >= 1 && kind.getValue() == ProgramKind::Decode)
        maxSeqs = std::max(maxSeqs, dimOf(func.getArgument(0), 0));
      programs.push_back({func, kind.getValue()});
    }
    if (programs.empty()) {
      module.emitError() << "mk-tile: no function has an mkg.program attribute";
      return signalPassFailure();
    }

    TileLoweringSet lowerings;
    populateEmbeddingLowerings(lowerings);
    populateQkvLowerings(lowerings);
    populateAttentionLowerings(lowerings);
    populateLmHeadLowerings(lowerings);
    populateResidualProjectionLowerings(lowerings);
    populateGatedMlpLowerings(lowerings);
    populateMoeLowerings(lowerings);
    populateAllReduceLowerings(lowerings);

    FailureOr<int64_t> ranks = tensorParallelOf(module);
    if (failed(ranks))
      return signalPassFailure();
    TileSizer sizer(*desc);
    ModuleTensors tensors(module);
    tensors.ranks = *ranks;
    tensors.kvBlockSize = kvBlockSize;
    tensors.kvBlocks = maxSeqs * (maxSeqLen / kvBlockSize);
    for (auto &[func, kind] : programs) {
      ProgramLowering lowering(tensors, sizer, lowerings, func, kind, maxSeqLen);
      if (failed(lowering.run()))
        return signalPassFailure();
    }
    for (auto &[func, kind] : programs)
      func.erase();
  }
};

} // namespace
