//===- Fuse.cpp - mk-fuse: graph ops into the blocks the megakernel runs ----===//
//
// Two greedy phases. The attention-input and gated-MLP blocks absorb their rms_norm
// whole, so they must match before the norm-prologue pattern rewrites the projections
// those blocks are recognized by; the norm prologue then takes every rms_norm left
// (the final norm before the LM head, and projections no block matched).
//
//   phase 1: rms_norm + q/k/v linear + head_norm? + rope + kv_append  -> mkg.qkv
//            rms_norm + gate/up linear + silu_mul                      -> mkg.gated_mlp
//   phase 2: linear(rms_norm(x))                 -> linear x norm(w) {eps}
//            add(linear(a), r) / add(r, linear(a)) -> linear a residual(r)
//            moe(rms_norm(x))                    -> moe x norm(w) {eps}
//            add(moe(a), r) / add(r, moe(a))     -> moe a residual(r)
//
// The greedy driver erases the pure ops left without uses (norms, ropes, head norms,
// linears); kv_append has a side effect, so the QKV pattern erases it itself. A fused
// op keeps the `layer` of the ops it absorbs; ops of different layers never fuse.
//===----------------------------------------------------------------------===//
#include "mk/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mk {
#define GEN_PASS_DEF_MKFUSE
#include "mk/Transforms/Passes.h.inc"
} // namespace mk

using namespace mlir;
using namespace mk::graph;

namespace {

/// The layer of the ops a pattern fuses into one (null ops are skipped): failure if
/// two name different layers, std::nullopt if none names one.
FailureOr<std::optional<int64_t>> commonLayer(ArrayRef<LayerOpInterface> ops) {
  std::optional<int64_t> layer;
  for (LayerOpInterface op : ops) {
    std::optional<int64_t> own = op ? op.getLayerIndex() : std::nullopt;
    if (own && layer && *own != *layer)
      return failure();
    if (own)
      layer = own;
  }
  return layer;
}

IntegerAttr layerAttr(Builder &builder, std::optional<int64_t> layer) {
  return layer ? builder.getI64IntegerAttr(*layer) : IntegerAttr();
}

/// A projection that has neither a norm prologue nor a residual epilogue yet.
bool isBareProjection(LinearOp op) { return !op.getNormWeight() && !op.getResidual(); }

/// One side of the attention input: `rope(head_norm?(linear(%n, %w [bias])))`.
struct RotatedProjection {
  LinearOp linear;
  HeadNormOp headNorm; // null without QK-norm
  RopeOp rope;
};

/// Matches the chain of RotatedProjection that ends in `value`.
std::optional<RotatedProjection> matchRotatedProjection(Value value) {
  RotatedProjection chain;
  chain.rope = value.getDefiningOp<RopeOp>();
  if (!chain.rope)
    return std::nullopt;
  Value projected = chain.rope.getX();
  if ((chain.headNorm = projected.getDefiningOp<HeadNormOp>()))
    projected = chain.headNorm.getX();
  chain.linear = projected.getDefiningOp<LinearOp>();
  if (!chain.linear)
    return std::nullopt;
  return chain;
}

/// The RoPE of q and k must be one rotation: mkg.qkv carries a single set of parameters.
bool sameRotation(RopeOp a, RopeOp b) {
  return a.getPositions() == b.getPositions() && a.getHeadDim() == b.getHeadDim() &&
         a.getThetaAttr() == b.getThetaAttr() &&
         a.getInterleaved() == b.getInterleaved() &&
         a.getLlama3ScalingAttr() == b.getLlama3ScalingAttr();
}

/// Rewrites one layer's attention input into mkg.qkv:
///
///   %n  = mkg.rms_norm %x, %ln {eps}
///   %q  = mkg.linear %n, %wq [bias(%bq)]        (likewise %k with %wk, %v with %wv)
///   %qn = mkg.head_norm %q, %wqn {eps = qk_eps}  (optional, likewise %kn)
///   %qr = mkg.rope %qn, %pos                     (likewise %kr)
///   %c  = mkg.kv_append %kr, %v
///   %a  = mkg.attention %qr, %c
/// becomes
///   %qf, %cf = mkg.qkv %x norm(%ln) weights(%wq, %wk, %wv) [bias(...)] [qk_norm(...)]
///                  positions(%pos)
///   %a  = mkg.attention %qf, %cf
///
/// The pattern is rooted at the attention because that is the only op that sees both
/// the rotated queries and the cache.
struct FuseAttentionInput : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp attention,
                                PatternRewriter &rewriter) const override {
    auto append = attention.getCache().getDefiningOp<KvAppendOp>();
    if (!append)
      return rewriter.notifyMatchFailure(attention, "cache is not an mkg.kv_append");
    // The append is erased below; another reader of its cache would lose its writer.
    if (!append.getCache().hasOneUse())
      return rewriter.notifyMatchFailure(attention, "the cache has other users");

    std::optional<RotatedProjection> q = matchRotatedProjection(attention.getQ());
    std::optional<RotatedProjection> k = matchRotatedProjection(append.getK());
    if (!q || !k)
      return rewriter.notifyMatchFailure(
          attention, "q or k is not rope(head_norm?(linear)) of the layer input");
    auto v = append.getV().getDefiningOp<LinearOp>();
    if (!v)
      return rewriter.notifyMatchFailure(attention, "v is not an mkg.linear");

    Value normed = q->linear.getX();
    auto norm = normed.getDefiningOp<RmsNormOp>();
    if (!norm)
      return rewriter.notifyMatchFailure(attention,
                                         "q projection input is not an rms_norm");
    if (k->linear.getX() != normed || v.getX() != normed)
      return rewriter.notifyMatchFailure(attention,
                                         "q, k and v do not project the same rms_norm");
    if (!isBareProjection(q->linear) || !isBareProjection(k->linear) ||
        !isBareProjection(v))
      return rewriter.notifyMatchFailure(
          attention, "a projection already has a norm prologue or residual epilogue");
    bool hasBias = static_cast<bool>(q->linear.getBias());
    if (static_cast<bool>(k->linear.getBias()) != hasBias ||
        static_cast<bool>(v.getBias()) != hasBias)
      return rewriter.notifyMatchFailure(attention,
                                         "biases are neither all present nor all absent");

    if (!sameRotation(q->rope, k->rope))
      return rewriter.notifyMatchFailure(
          attention, "q and k ropes differ in positions, head_dim, theta, interleaving "
                     "or llama3_scaling");
    if (q->rope.getHeadDim() != attention.getHeadDim())
      return rewriter.notifyMatchFailure(attention,
                                         "rope head_dim differs from attention head_dim");
    KvCacheType cacheType = append.getCache().getType();
    FailureOr<std::optional<int64_t>> layer =
        commonLayer({norm, q->linear, k->linear, v, q->headNorm, k->headNorm, q->rope,
                     k->rope, append, attention});
    if (failed(layer) || (*layer && **layer != cacheType.getLayer()))
      return rewriter.notifyMatchFailure(
          attention, "the ops of the block are not all in the cache's layer");

    FloatAttr qkEps;
    Value qNorm, kNorm;
    if (static_cast<bool>(q->headNorm) != static_cast<bool>(k->headNorm))
      return rewriter.notifyMatchFailure(attention,
                                         "only one of q and k has a head_norm");
    if (q->headNorm) {
      if (q->headNorm.getEpsAttr() != k->headNorm.getEpsAttr())
        return rewriter.notifyMatchFailure(attention, "q and k head_norm eps differ");
      if (q->headNorm.getHeadDim() != attention.getHeadDim() ||
          k->headNorm.getHeadDim() != attention.getHeadDim())
        return rewriter.notifyMatchFailure(
            attention, "head_norm head_dim differs from attention head_dim");
      qkEps = q->headNorm.getEpsAttr();
      qNorm = q->headNorm.getWeight();
      kNorm = k->headNorm.getWeight();
    }

    // Every operand of the chain dominates the attention, so the fused op goes there.
    rewriter.setInsertionPoint(attention);
    Location loc =
        rewriter.getFusedLoc({norm.getLoc(), q->linear.getLoc(), k->linear.getLoc(),
                              v.getLoc(), append.getLoc()});
    auto qkv = rewriter.create<QkvOp>(
        loc, attention.getQ().getType(), cacheType, norm.getX(), norm.getWeight(),
        q->linear.getWeight(), k->linear.getWeight(), v.getWeight(), q->linear.getBias(),
        k->linear.getBias(), v.getBias(), qNorm, kNorm, q->rope.getPositions(),
        rewriter.getI64IntegerAttr(cacheType.getLayer()), attention.getNumHeadsAttr(),
        attention.getNumKvHeadsAttr(), attention.getHeadDimAttr(), norm.getEpsAttr(),
        qkEps, q->rope.getThetaAttr(), q->rope.getInterleavedAttr(),
        q->rope.getLlama3ScalingAttr());
    rewriter.modifyOpInPlace(attention, [&] {
      attention.getQMutable().set(qkv.getQ());
      attention.getCacheMutable().set(qkv.getCache());
    });
    rewriter.eraseOp(append);
    return success();
  }
};

/// Rewrites the MLP input into mkg.gated_mlp:
///
///   %n = mkg.rms_norm %x, %ln {eps}
///   %g = mkg.linear %n, %wg
///   %u = mkg.linear %n, %wu
///   %m = mkg.silu_mul %g, %u
/// becomes
///   %m = mkg.gated_mlp %x norm(%ln) weights(%wg, %wu) {eps}
struct FuseGatedMlp : OpRewritePattern<SiluMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SiluMulOp siluMul,
                                PatternRewriter &rewriter) const override {
    auto gate = siluMul.getGate().getDefiningOp<LinearOp>();
    auto up = siluMul.getUp().getDefiningOp<LinearOp>();
    if (!gate || !up)
      return rewriter.notifyMatchFailure(siluMul, "gate or up is not an mkg.linear");
    // mkg.gated_mlp has no bias operands.
    if (!isBareProjection(gate) || !isBareProjection(up) || gate.getBias() ||
        up.getBias())
      return rewriter.notifyMatchFailure(
          siluMul, "gate or up has a bias, a norm prologue or a residual epilogue");
    if (gate.getX() != up.getX())
      return rewriter.notifyMatchFailure(siluMul, "gate and up project different inputs");
    auto norm = gate.getX().getDefiningOp<RmsNormOp>();
    if (!norm)
      return rewriter.notifyMatchFailure(siluMul, "gate/up input is not an rms_norm");
    FailureOr<std::optional<int64_t>> layer = commonLayer({norm, gate, up, siluMul});
    if (failed(layer))
      return rewriter.notifyMatchFailure(siluMul, "the ops of the block are in different "
                                                  "layers");
    if (!*layer)
      return rewriter.notifyMatchFailure(siluMul, "no op of the block names its layer");

    Location loc = rewriter.getFusedLoc(
        {norm.getLoc(), gate.getLoc(), up.getLoc(), siluMul.getLoc()});
    auto mlp = rewriter.create<GatedMlpOp>(
        loc, siluMul.getType(), norm.getX(), norm.getWeight(), gate.getWeight(),
        up.getWeight(), norm.getEpsAttr(), layerAttr(rewriter, *layer));
    rewriter.replaceOp(siluMul, mlp);
    return success();
  }
};

/// Replaces `replaced` by a copy of `linear` with the given x / norm / residual / layer.
void rebuildLinear(PatternRewriter &rewriter, LinearOp linear, Operation *replaced,
                   Value x, Value normWeight, FloatAttr eps, Value residual,
                   std::optional<int64_t> layer, Location loc) {
  auto rebuilt = rewriter.create<LinearOp>(loc, linear.getType(), x, linear.getWeight(),
                                           normWeight, linear.getBias(), residual, eps,
                                           layerAttr(rewriter, layer));
  rebuilt->setDiscardableAttrs(linear->getDiscardableAttrDictionary());
  rewriter.replaceOp(replaced, rebuilt);
}

/// Moves an rms_norm into the prologue of the projection it feeds:
///
///   %n = mkg.rms_norm %x, %w {eps}
///   %y = mkg.linear %n, %wl
/// becomes
///   %y = mkg.linear %x, %wl norm(%w) {eps}
///
/// The norm stays for its other users; each projection recomputes it per tile.
struct FuseNormPrologue : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp linear,
                                PatternRewriter &rewriter) const override {
    if (linear.getNormWeight())
      return rewriter.notifyMatchFailure(linear, "already has a norm prologue");
    auto norm = linear.getX().getDefiningOp<RmsNormOp>();
    if (!norm)
      return rewriter.notifyMatchFailure(linear, "x is not an rms_norm");
    FailureOr<std::optional<int64_t>> layer = commonLayer({linear, norm});
    if (failed(layer))
      return rewriter.notifyMatchFailure(linear, "the norm is in another layer");
    rewriter.setInsertionPoint(linear);
    rebuildLinear(rewriter, linear, linear, norm.getX(), norm.getWeight(),
                  norm.getEpsAttr(), linear.getResidual(), *layer,
                  rewriter.getFusedLoc({norm.getLoc(), linear.getLoc()}));
    return success();
  }
};

/// Moves a residual add into the epilogue of the projection it adds:
///
///   %o = mkg.linear %a, %wo
///   %h = mkg.add %r, %o          (or mkg.add %o, %r)
/// becomes
///   %h = mkg.linear %a, %wo residual(%r)
struct FuseResidualEpilogue : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add, PatternRewriter &rewriter) const override {
    // The projection's own result disappears, so nothing else may read it.
    auto absorbable = [](Value value) -> LinearOp {
      auto linear = value.getDefiningOp<LinearOp>();
      if (!linear || linear.getResidual() || !linear->hasOneUse())
        return {};
      return linear;
    };
    // Builders write `residual + projection`; prefer that reading when both fit.
    Value residual = add.getLhs();
    LinearOp linear = absorbable(add.getRhs());
    if (!linear) {
      residual = add.getRhs();
      linear = absorbable(add.getLhs());
    }
    if (!linear)
      return rewriter.notifyMatchFailure(
          add, "no operand is a single-use mkg.linear without a residual");
    FailureOr<std::optional<int64_t>> layer = commonLayer({linear, add});
    if (failed(layer))
      return rewriter.notifyMatchFailure(add, "the projection is in another layer");
    // The add is dominated by the projection's operands and by the residual.
    rewriter.setInsertionPoint(add);
    rebuildLinear(rewriter, linear, add, linear.getX(), linear.getNormWeight(),
                  linear.getEpsAttr(), residual, *layer,
                  rewriter.getFusedLoc({linear.getLoc(), add.getLoc()}));
    rewriter.eraseOp(linear);
    return success();
  }
};

/// Replaces `replaced` by a copy of `moe` with the given x / norm / residual.
void rebuildMoe(PatternRewriter &rewriter, MoeOp moe, Operation *replaced, Value x,
                Value normWeight, FloatAttr eps, Value residual, Location loc) {
  auto rebuilt = rewriter.create<MoeOp>(
      loc, moe.getType(), x, moe.getRouter(), moe.getWGate(), moe.getWUp(),
      moe.getWDown(), normWeight, residual, moe.getLayerAttr(), moe.getNumExpertsAttr(),
      moe.getTopKAttr(), moe.getNormTopkProbAttr(), eps);
  rebuilt->setDiscardableAttrs(moe->getDiscardableAttrDictionary());
  rewriter.replaceOp(replaced, rebuilt);
}

/// Moves the rms_norm a mixture-of-experts block routes into its prologue (the router
/// and every expert tile read the normed rows):
///
///   %n = mkg.rms_norm %x, %w {eps}
///   %y = mkg.moe %n router(...) gate(...) up(...) down(...)
/// becomes
///   %y = mkg.moe %x router(...) gate(...) up(...) down(...) norm(%w) {eps}
struct FuseMoeNormPrologue : OpRewritePattern<MoeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MoeOp moe, PatternRewriter &rewriter) const override {
    if (moe.getNormWeight())
      return rewriter.notifyMatchFailure(moe, "already has a norm prologue");
    auto norm = moe.getX().getDefiningOp<RmsNormOp>();
    if (!norm)
      return rewriter.notifyMatchFailure(moe, "x is not an rms_norm");
    if (failed(commonLayer({moe, norm})))
      return rewriter.notifyMatchFailure(moe, "the norm is in another layer");
    rewriter.setInsertionPoint(moe);
    rebuildMoe(rewriter, moe, moe, norm.getX(), norm.getWeight(), norm.getEpsAttr(),
               moe.getResidual(), rewriter.getFusedLoc({norm.getLoc(), moe.getLoc()}));
    return success();
  }
};

/// Moves the residual add after a mixture-of-experts block into its epilogue (the
/// combine adds it):
///
///   %y = mkg.moe %a ...
///   %h = mkg.add %r, %y          (or mkg.add %y, %r)
/// becomes
///   %h = mkg.moe %a ... residual(%r)
struct FuseMoeResidualEpilogue : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add, PatternRewriter &rewriter) const override {
    auto absorbable = [](Value value) -> MoeOp {
      auto moe = value.getDefiningOp<MoeOp>();
      if (!moe || moe.getResidual() || !moe->hasOneUse())
        return {};
      return moe;
    };
    Value residual = add.getLhs();
    MoeOp moe = absorbable(add.getRhs());
    if (!moe) {
      residual = add.getRhs();
      moe = absorbable(add.getLhs());
    }
    if (!moe)
      return rewriter.notifyMatchFailure(
          add, "no operand is a single-use mkg.moe without a residual");
    if (failed(commonLayer({moe, add})))
      return rewriter.notifyMatchFailure(add, "the block is in another layer");
    rewriter.setInsertionPoint(add);
    rebuildMoe(rewriter, moe, add, moe.getX(), moe.getNormWeight(), moe.getEpsAttr(),
               residual, rewriter.getFusedLoc({moe.getLoc(), add.getLoc()}));
    rewriter.eraseOp(moe);
    return success();
  }
};

struct MkFusePass : mk::impl::MkFuseBase<MkFusePass> {
  LogicalResult initialize(MLIRContext *context) override {
    RewritePatternSet blocks(context);
    blocks.add<FuseAttentionInput, FuseGatedMlp>(context);
    blockPatterns = std::move(blocks);
    RewritePatternSet prologuesAndEpilogues(context);
    prologuesAndEpilogues.add<FuseNormPrologue, FuseResidualEpilogue, FuseMoeNormPrologue,
                              FuseMoeResidualEpilogue>(context);
    prologueEpiloguePatterns = std::move(prologuesAndEpilogues);
    return success();
  }

  void runOnOperation() override {
    GreedyRewriteConfig config;
    // Visit ops in program order (layer 0 first); function bodies keep their blocks
    // as written, since simplifying control flow is not this pass's business.
    config.useTopDownTraversal = true;
    config.enableRegionSimplification = GreedySimplifyRegionLevel::Disabled;
    for (const FrozenRewritePatternSet *phase :
         {&blockPatterns, &prologueEpiloguePatterns}) {
      if (failed(applyPatternsAndFoldGreedily(getOperation(), *phase, config))) {
        getOperation().emitError() << "mk-fuse: the rewrite did not converge";
        return signalPassFailure();
      }
    }
  }

  FrozenRewritePatternSet blockPatterns;
  FrozenRewritePatternSet prologueEpiloguePatterns;
};

} // namespace
