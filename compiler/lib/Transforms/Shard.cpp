//===- Shard.cpp - mk-shard: split a fused graph over tensor-parallel ranks -===//
//
// Megatron-style tensor parallelism on the fused graph, as one SPMD graph that every
// rank runs (N = ranks; shapes per rank):
//
//   qkv         wq [Hq/N * hd, H], wk/wv [max(1, Hkv/N) * hd, H]   (dim 0, by heads)
//   attention   Hq/N query heads, max(1, Hkv/N) KV heads
//   o_proj      wo [H, Hq/N * hd] (dim 1) -> partial [R, H] -> all_reduce(+ residual)
//   gated_mlp   w_gate/w_up [I/N, H] (dim 0)
//   down_proj   w_down [H, I/N] (dim 1) -> partial [R, H] -> all_reduce(+ residual)
//   moe         experts' gate/up [I/N, H], down [H, I/N]; router whole -> all_reduce
//   lm_head     w [V/N, H] (dim 0) -> logits [R, V/N] -> all_gather [R, V] -> argmax
//
// With fewer KV heads than ranks, ranks r with the same r / (N / Hkv) hold the same KV
// head: k/v are Hkv slices, each replicated on N / Hkv ranks, and rank r's query heads
// [r Hq/N, (r+1) Hq/N) all belong to that KV head's group.
//===----------------------------------------------------------------------===//
#include "mk/Transforms/ModelAttr.h"
#include "mk/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mk {
#define GEN_PASS_DEF_MKSHARD
#include "mk/Transforms/Passes.h.inc"
} // namespace mk

using namespace mlir;
using namespace mk;
namespace mkg = mk::graph;

namespace {

/// How a weight is split: `parts` equal slices along `dim`, each held by `replicas`
/// ranks. parts = 1: every rank holds the whole tensor.
struct Split {
  int64_t dim = 0, parts = 1, replicas = 1;
};

RankedTensorType withDim(Value v, unsigned d, int64_t extent) {
  auto type = llvm::cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[d] = extent;
  return RankedTensorType::get(shape, type.getElementType());
}

int64_t dimOf(Value v, unsigned d) {
  return llvm::cast<RankedTensorType>(v.getType()).getDimSize(d);
}

class Sharder {
public:
  explicit Sharder(int64_t ranks) : n_(ranks) {}

  LogicalResult run(func::FuncOp func) {
    // Collected first: the rewrites insert and erase ops.
    SmallVector<Operation *> ops;
    for (Operation &op : func.getBody().front())
      ops.push_back(&op);
    for (Operation *op : ops) {
      LogicalResult result =
          llvm::TypeSwitch<Operation *, LogicalResult>(op)
              .Case<mkg::WeightOp, mkg::EmbeddingOp, mkg::ArgmaxOp, func::ReturnOp>(
                  [](Operation *) { return success(); })
              .Case([&](mkg::QkvOp o) { return qkv(o); })
              .Case([&](mkg::AttentionOp o) { return attention(o); })
              .Case([&](mkg::GatedMlpOp o) { return gatedMlp(o); })
              .Case([&](mkg::MoeOp o) { return moe(o); })
              .Case([&](mkg::LinearOp o) { return linear(o); })
              .Case<mkg::AllReduceOp, mkg::AllGatherOp>([](Operation *o) {
                return o->emitOpError() << "mk-shard: the graph is already sharded";
              })
              .Default([](Operation *o) {
                return o->emitOpError()
                       << "mk-shard: no tensor-parallel form for this op; fused graphs "
                          "only (run mk-fuse first)";
              });
      if (failed(result))
        return failure();
    }
    // The whole weights a slice replaced (a tied embedding's table keeps its use).
    for (Operation *w : replaced_)
      if (w->use_empty())
        w->erase();
    replaced_.clear();
    return success();
  }

private:
  /// Replaces `user`'s use of `weight` (an mkg.weight) with this rank's slice.
  LogicalResult shard(Operation *user, Value weight, Split split, StringRef what) {
    if (split.parts == 1)
      return success();
    auto w = weight.getDefiningOp<mkg::WeightOp>();
    if (!w)
      return user->emitOpError() << "mk-shard: the " << what << " must be an mkg.weight";
    if (w.getShardPartsAttr())
      return user->emitOpError()
             << "mk-shard: the " << what << " '" << w.getName() << "' is already sharded";
    int64_t extent = dimOf(weight, split.dim);
    if (extent % split.parts != 0)
      return user->emitOpError() << "mk-shard: the " << what << " '" << w.getName()
                                 << "' has " << extent << " in dimension " << split.dim
                                 << ", not divisible into " << split.parts << " parts";
    OpBuilder b(w);
    auto slice = b.create<mkg::WeightOp>(
        w.getLoc(), withDim(weight, split.dim, extent / split.parts), w.getNameAttr(),
        b.getI64IntegerAttr(split.dim), b.getI64IntegerAttr(split.parts),
        b.getI64IntegerAttr(split.replicas));
    weight.replaceUsesWithIf(slice.getResult(),
                             [&](OpOperand &use) { return use.getOwner() == user; });
    replaced_.insert(w);
    return success();
  }

  /// The KV heads' split: by heads when there are at least as many as ranks, else
  /// each head replicated on N / Hkv ranks.
  FailureOr<Split> kvSplit(Operation *op, int64_t heads, int64_t kvHeads) {
    if (heads % n_ != 0)
      return op->emitOpError() << "mk-shard: num_heads (" << heads
                               << ") is not divisible by " << n_ << " ranks";
    if (kvHeads % n_ != 0 && n_ % kvHeads != 0)
      return op->emitOpError() << "mk-shard: num_kv_heads (" << kvHeads
                               << ") must be a multiple or a divisor of " << n_
                               << " ranks";
    int64_t parts = std::min(kvHeads, n_);
    return Split{0, parts, n_ / parts};
  }

  LogicalResult qkv(mkg::QkvOp op) {
    int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads();
    FailureOr<Split> kv = kvSplit(op, heads, kvHeads);
    if (failed(kv))
      return failure();
    Split q{0, n_, 1};
    if (failed(shard(op, op.getWq(), q, "q weight")) ||
        failed(shard(op, op.getWk(), *kv, "k weight")) ||
        failed(shard(op, op.getWv(), *kv, "v weight")))
      return failure();
    if (op.getBq() && (failed(shard(op, op.getBq(), q, "q bias")) ||
                       failed(shard(op, op.getBk(), *kv, "k bias")) ||
                       failed(shard(op, op.getBv(), *kv, "v bias"))))
      return failure();
    Builder b(op);
    op.setNumHeadsAttr(b.getI64IntegerAttr(heads / n_));
    op.setNumKvHeadsAttr(b.getI64IntegerAttr(kvHeads / kv->parts));
    op.getQ().setType(withDim(op.getQ(), 1, dimOf(op.getQ(), 1) / n_));
    return success();
  }

  LogicalResult attention(mkg::AttentionOp op) {
    int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads();
    FailureOr<Split> kv = kvSplit(op, heads, kvHeads);
    if (failed(kv))
      return failure();
    if (dimOf(op.getQ(), 1) != heads / n_ * static_cast<int64_t>(op.getHeadDim()))
      return op.emitOpError() << "mk-shard: q must come from a sharded mkg.qkv";
    Builder b(op);
    op.setNumHeadsAttr(b.getI64IntegerAttr(heads / n_));
    op.setNumKvHeadsAttr(b.getI64IntegerAttr(kvHeads / kv->parts));
    op.getResult().setType(op.getQ().getType());
    return success();
  }

  LogicalResult gatedMlp(mkg::GatedMlpOp op) {
    Split rows{0, n_, 1};
    if (failed(shard(op, op.getWGate(), rows, "gate weight")) ||
        failed(shard(op, op.getWUp(), rows, "up weight")))
      return failure();
    op.getResult().setType(withDim(op.getResult(), 1, dimOf(op.getWGate(), 0)));
    return success();
  }

  /// Follows `op` (whose result is this rank's partial sum and whose residual, if
  /// any, is `residual`) with the all-reduce that completes it.
  void allReduce(Operation *op, Value residual, std::optional<int64_t> layer) {
    OpBuilder b(op->getContext());
    b.setInsertionPointAfter(op);
    Value partial = op->getResult(0);
    auto sum = b.create<mkg::AllReduceOp>(
        op->getLoc(), partial.getType(), partial, residual, b.getI64IntegerAttr(n_),
        layer ? b.getI64IntegerAttr(*layer) : IntegerAttr());
    partial.replaceAllUsesExcept(sum.getResult(), sum);
  }

  LogicalResult moe(mkg::MoeOp op) {
    Split rows{0, n_, 1}, cols{1, n_, 1};
    // Copied: shard() rewrites the operands being iterated.
    SmallVector<Value> gates(op.getWGate()), ups(op.getWUp()), downs(op.getWDown());
    for (auto [gate, up, down] : llvm::zip(gates, ups, downs))
      if (failed(shard(op, gate, rows, "expert gate weight")) ||
          failed(shard(op, up, rows, "expert up weight")) ||
          failed(shard(op, down, cols, "expert down weight")))
        return failure();
    Value residual = op.getResidual();
    op.getResidualMutable().clear();
    allReduce(op, residual, op.getLayer());
    return success();
  }

  LogicalResult linear(mkg::LinearOp op) {
    Value result = op.getResult();
    if (result.hasOneUse() && llvm::isa<mkg::ArgmaxOp>(*result.getUsers().begin()))
      return lmHead(op);
    Operation *producer = op.getX().getDefiningOp();
    if (!producer || !llvm::isa<mkg::AttentionOp, mkg::GatedMlpOp>(producer))
      return op.emitOpError()
             << "mk-shard: a projection must be the LM head (feeding the argmax) or "
                "follow attention or the gated MLP (O/down projection); run mk-fuse "
                "first";
    // Each rank adds its partial product: a bias or a norm of the sharded input
    // would be applied once per rank.
    if (op.getBias() || op.getNormWeight())
      return op.emitOpError()
             << "mk-shard: an O/down projection takes no bias or norm prologue";
    if (failed(shard(op, op.getWeight(), Split{1, n_, 1}, "weight")))
      return failure();
    Value residual = op.getResidual();
    op.getResidualMutable().clear();
    allReduce(op, residual, op.getLayer());
    return success();
  }

  LogicalResult lmHead(mkg::LinearOp op) {
    if (op.getBias() || op.getResidual())
      return op.emitOpError() << "mk-shard: the LM head takes no bias or residual";
    if (failed(shard(op, op.getWeight(), Split{0, n_, 1}, "LM head weight")))
      return failure();
    Value logits = op.getResult();
    RankedTensorType whole = llvm::cast<RankedTensorType>(logits.getType());
    logits.setType(withDim(logits, 1, dimOf(op.getWeight(), 0)));
    OpBuilder b(op->getContext());
    b.setInsertionPointAfter(op);
    auto gather =
        b.create<mkg::AllGatherOp>(op.getLoc(), whole, logits, b.getI64IntegerAttr(n_));
    logits.replaceAllUsesExcept(gather.getResult(), gather);
    return success();
  }

  int64_t n_;
  llvm::SetVector<Operation *> replaced_;
};

struct MkShardPass : mk::impl::MkShardBase<MkShardPass> {
  using MkShardBase::MkShardBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (ranks < 1) {
      module.emitError() << "mk-shard: ranks must be at least 1, got "
                         << static_cast<int64_t>(ranks);
      return signalPassFailure();
    }
    if (ranks == 1)
      return markAllAnalysesPreserved();
    if (module->hasAttr(kTensorParallelAttrName)) {
      module.emitError() << "mk-shard: the module is already sharded ("
                         << kTensorParallelAttrName << " is set)";
      return signalPassFailure();
    }
    mkg::MKGDialect::ProgramAttrHelper programAttr(module.getContext());
    Sharder sharder(ranks);
    for (auto func : module.getOps<func::FuncOp>())
      if (programAttr.getAttr(func) && failed(sharder.run(func)))
        return signalPassFailure();
    module->setAttr(kTensorParallelAttrName,
                    IntegerAttr::get(IntegerType::get(module.getContext(), 64), ranks));
  }
};

} // namespace
