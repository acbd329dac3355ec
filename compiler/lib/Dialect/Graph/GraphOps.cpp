//===- GraphOps.cpp - Verifiers of the mk graph dialect ---------------------===//
//
// Every op checks the shapes it relies on, so that a builder bug or hand-written IR
// is caught at the op, not later as a wrong tile.
//===----------------------------------------------------------------------===//
#include "mk/Dialect/Graph/GraphDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mk::graph;

namespace {

/// Formats a shape as "[8, 4096]".
std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os);
  os << "]";
  return s;
}

/// Checks that `value`'s type is a ranked tensor of `shape` (-1 = any extent).
LogicalResult expectShape(Operation *op, StringRef what, Value value,
                          ArrayRef<int64_t> shape) {
  auto type = llvm::cast<RankedTensorType>(value.getType());
  bool ok = type.getRank() == static_cast<int64_t>(shape.size());
  for (size_t i = 0; ok && i < shape.size(); ++i)
    ok = shape[i] < 0 || type.getDimSize(i) == shape[i];
  if (ok)
    return success();
  return op->emitOpError() << what << " must have shape " << shapeString(shape)
                           << ", got " << shapeString(type.getShape());
}

LogicalResult expectRank(Operation *op, StringRef what, Value value, int64_t rank) {
  auto type = llvm::cast<RankedTensorType>(value.getType());
  if (type.getRank() == rank && type.hasStaticShape())
    return success();
  return op->emitOpError() << what << " must be a static rank-" << rank << " tensor, got "
                           << type;
}

LogicalResult expectIntElements(Operation *op, StringRef what, Value value) {
  if (llvm::cast<RankedTensorType>(value.getType())
          .getElementType()
          .isSignlessInteger(32))
    return success();
  return op->emitOpError() << what << " must hold i32 values";
}

int64_t dim(Value value, unsigned i) {
  return llvm::cast<RankedTensorType>(value.getType()).getDimSize(i);
}

LogicalResult verifyHeads(Operation *op, int64_t features, int64_t heads, int64_t headDim,
                          StringRef what) {
  if (headDim <= 0 || headDim % 2 != 0)
    return op->emitOpError() << "head_dim must be positive and even, got " << headDim;
  if (heads * headDim != features)
    return op->emitOpError() << what << " has " << features << " features, expected "
                             << heads << " heads x " << headDim;
  return success();
}

/// An op of a layer that also names a KV cache must name its own layer's.
LogicalResult verifyCacheLayer(Operation *op, std::optional<uint64_t> layer,
                               KvCacheType cache) {
  if (layer && *layer != cache.getLayer())
    return op->emitOpError() << "is in layer " << *layer << " but its cache is layer "
                             << cache.getLayer();
  return success();
}

LogicalResult verifyLlama3(Operation *op, std::optional<ArrayRef<float>> scaling) {
  if (scaling && scaling->size() != 4)
    return op->emitOpError() << "llama3_scaling must hold [factor, low_freq_factor, "
                                "high_freq_factor, original_max_position], got "
                             << scaling->size() << " values";
  return success();
}

} // namespace

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError() << "needs a tensor name";
  auto type = getResult().getType();
  if (!type.hasStaticShape() || type.getRank() < 1 || type.getRank() > 2)
    return emitOpError() << "weights are static rank-1 or rank-2 tensors, got " << type;
  // Read signed: the I64Attr getters are unsigned, so -1 would pass as 2^64 - 1.
  IntegerAttr dim = getShardDimAttr(), parts = getShardPartsAttr(),
              replicas = getShardReplicasAttr();
  if (!dim && !parts && !replicas)
    return success();
  if (!dim || !parts || !replicas)
    return emitOpError() << "shard_dim, shard_parts and shard_replicas come together";
  if (dim.getInt() < 0 || dim.getInt() >= type.getRank())
    return emitOpError() << "shard_dim " << dim.getInt() << " is not a dimension of "
                         << type;
  if (parts.getInt() < 2 || replicas.getInt() < 1)
    return emitOpError() << "a sharded weight has shard_parts >= 2 and shard_replicas "
                            ">= 1, got "
                         << parts.getInt() << " and " << replicas.getInt();
  return success();
}

LogicalResult AllReduceOp::verify() {
  if (failed(expectRank(*this, "partial", getPartial(), 2)))
    return failure();
  if (static_cast<int64_t>(getRanks()) < 2)
    return emitOpError() << "ranks must be at least 2, got "
                         << static_cast<int64_t>(getRanks());
  if (getResidual() && getResidual().getType() != getPartial().getType())
    return emitOpError() << "residual is " << getResidual().getType()
                         << " but partial is " << getPartial().getType();
  return success();
}

LogicalResult AllGatherOp::verify() {
  if (failed(expectRank(*this, "local", getLocal(), 2)))
    return failure();
  int64_t ranks = getRanks();
  if (ranks < 2)
    return emitOpError() << "ranks must be at least 2, got " << ranks;
  auto local = llvm::cast<RankedTensorType>(getLocal().getType());
  auto result = llvm::cast<RankedTensorType>(getResult().getType());
  if (result.getElementType() != local.getElementType())
    return emitOpError() << "result element type " << result.getElementType()
                         << " differs from local's " << local.getElementType();
  return expectShape(*this, "result", getResult(),
                     {dim(getLocal(), 0), ranks * dim(getLocal(), 1)});
}

LogicalResult EmbeddingOp::verify() {
  if (failed(expectRank(*this, "tokens", getTokens(), 1)) ||
      failed(expectIntElements(*this, "tokens", getTokens())) ||
      failed(expectRank(*this, "table", getTable(), 2)))
    return failure();
  return expectShape(*this, "result", getResult(),
                     {dim(getTokens(), 0), dim(getTable(), 1)});
}

LogicalResult RmsNormOp::verify() {
  if (failed(expectRank(*this, "x", getX(), 2)))
    return failure();
  return expectShape(*this, "weight", getWeight(), {dim(getX(), 1)});
}

LogicalResult LinearOp::verify() {
  if (failed(expectRank(*this, "x", getX(), 2)) ||
      failed(expectRank(*this, "weight", getWeight(), 2)))
    return failure();
  int64_t rows = dim(getX(), 0), k = dim(getX(), 1), n = dim(getWeight(), 0);
  if (dim(getWeight(), 1) != k)
    return emitOpError() << "weight is [" << n << ", " << dim(getWeight(), 1)
                         << "] but x has " << k << " features";
  if (failed(expectShape(*this, "result", getResult(), {rows, n})))
    return failure();
  if (getNormWeight() && failed(expectShape(*this, "norm weight", getNormWeight(), {k})))
    return failure();
  if (getNormWeight().operator bool() != getEps().has_value())
    return emitOpError() << "a norm prologue needs an eps, and eps needs a norm";
  if (getBias() && failed(expectShape(*this, "bias", getBias(), {n})))
    return failure();
  if (getResidual() && failed(expectShape(*this, "residual", getResidual(), {rows, n})))
    return failure();
  return success();
}

LogicalResult HeadNormOp::verify() {
  if (failed(expectRank(*this, "x", getX(), 2)))
    return failure();
  int64_t hd = getHeadDim();
  if (hd <= 0 || dim(getX(), 1) % hd != 0)
    return emitOpError() << "features (" << dim(getX(), 1)
                         << ") must be a multiple of head_dim (" << hd << ")";
  return expectShape(*this, "weight", getWeight(), {hd});
}

LogicalResult RopeOp::verify() {
  if (failed(expectRank(*this, "x", getX(), 2)) ||
      failed(expectShape(*this, "positions", getPositions(), {dim(getX(), 0)})) ||
      failed(expectIntElements(*this, "positions", getPositions())))
    return failure();
  int64_t hd = getHeadDim();
  if (hd <= 0 || hd % 2 != 0 || dim(getX(), 1) % hd != 0)
    return emitOpError() << "head_dim must be even and divide the features, got " << hd
                         << " for " << dim(getX(), 1);
  if (getTheta().convertToFloat() <= 0.0f)
    return emitOpError() << "theta must be positive";
  return verifyLlama3(*this, getLlama3Scaling());
}

LogicalResult KvAppendOp::verify() {
  if (failed(expectRank(*this, "k", getK(), 2)))
    return failure();
  if (getK().getType() != getV().getType())
    return emitOpError() << "k and v must have the same type, got " << getK().getType()
                         << " and " << getV().getType();
  return verifyCacheLayer(*this, getLayer(), getCache().getType());
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(), headDim = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
    return emitOpError() << "num_heads (" << heads
                         << ") must be a positive multiple of num_kv_heads (" << kvHeads
                         << ")";
  if (failed(expectRank(*this, "q", getQ(), 2)) ||
      failed(verifyHeads(*this, dim(getQ(), 1), heads, getHeadDim(), "q")))
    return failure();
  // I64Attr getters return uint64_t: compare signed, or -1 reads as a huge window.
  if (getSlidingWindow() && static_cast<int64_t>(*getSlidingWindow()) <= 0)
    return emitOpError() << "sliding_window must be positive";
  if (failed(verifyCacheLayer(*this, getLayer(), getCache().getType())))
    return failure();
  auto append = getCache().getDefiningOp<KvAppendOp>();
  auto fused = getCache().getDefiningOp<QkvOp>();
  int64_t kvFeatures = append  ? dim(append.getK(), 1)
                       : fused ? dim(fused.getWk(), 0)
                               : kvHeads * getHeadDim();
  if (kvFeatures != kvHeads * headDim)
    return emitOpError() << "the cache holds " << kvFeatures
                         << " features per token, expected " << kvHeads << " kv heads x "
                         << getHeadDim();
  return expectShape(*this, "result", getResult(), {dim(getQ(), 0), dim(getQ(), 1)});
}

LogicalResult ArgmaxOp::verify() {
  if (failed(expectRank(*this, "logits", getLogits(), 2)) ||
      failed(expectIntElements(*this, "result", getResult())))
    return failure();
  return expectShape(*this, "result", getResult(), {dim(getLogits(), 0)});
}

LogicalResult MoeOp::verify() {
  if (failed(expectRank(*this, "x", getX(), 2)) ||
      failed(expectRank(*this, "router", getRouter(), 2)))
    return failure();
  int64_t rows = dim(getX(), 0), hidden = dim(getX(), 1);
  int64_t experts = getNumExperts(), topK = getTopK();
  if (experts <= 0 || topK <= 0 || topK > experts)
    return emitOpError() << "top_k (" << topK << ") must be in [1, num_experts ("
                         << experts << ")]";
  if (failed(expectShape(*this, "router", getRouter(), {experts, hidden})))
    return failure();
  struct Group {
    const char *name;
    OperandRange weights;
  } groups[] = {{"gate", getWGate()}, {"up", getWUp()}, {"down", getWDown()}};
  for (const Group &g : groups)
    if (static_cast<int64_t>(g.weights.size()) != experts)
      return emitOpError() << "has " << g.weights.size() << " " << g.name
                           << " weights, expected one per expert (" << experts << ")";
  if (failed(expectRank(*this, "gate weight", getWGate()[0], 2)))
    return failure();
  int64_t inter = dim(getWGate()[0], 0);
  if (failed(expectShape(*this, "gate weights", getWGate()[0], {inter, hidden})) ||
      failed(expectShape(*this, "up weights", getWUp()[0], {inter, hidden})) ||
      failed(expectShape(*this, "down weights", getWDown()[0], {hidden, inter})))
    return failure();
  // Every expert's weights are like expert 0's (type equality is a pointer compare).
  for (const Group &g : groups)
    for (int64_t e = 1; e < experts; ++e)
      if (g.weights[e].getType() != g.weights[0].getType())
        return emitOpError() << g.name << " weight of expert " << e << " is "
                             << g.weights[e].getType() << ", expert 0's is "
                             << g.weights[0].getType();
  if (getNormWeight() &&
      failed(expectShape(*this, "norm weight", getNormWeight(), {hidden})))
    return failure();
  if (getNormWeight().operator bool() != getEps().has_value())
    return emitOpError() << "a norm prologue needs an eps, and eps needs a norm";
  if (getResidual() &&
      failed(expectShape(*this, "residual", getResidual(), {rows, hidden})))
    return failure();
  return expectShape(*this, "result", getResult(), {rows, hidden});
}

LogicalResult QkvOp::verify() {
  if (failed(expectRank(*this, "x", getX(), 2)))
    return failure();
  int64_t rows = dim(getX(), 0), hidden = dim(getX(), 1);
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(), hd = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
    return emitOpError() << "num_heads (" << heads
                         << ") must be a positive multiple of num_kv_heads (" << kvHeads
                         << ")";
  if (hd <= 0 || hd % 2 != 0)
    return emitOpError() << "head_dim must be positive and even, got " << hd;
  if (failed(expectShape(*this, "norm weight", getNormWeight(), {hidden})) ||
      failed(expectShape(*this, "wq", getWq(), {heads * hd, hidden})) ||
      failed(expectShape(*this, "wk", getWk(), {kvHeads * hd, hidden})) ||
      failed(expectShape(*this, "wv", getWv(), {kvHeads * hd, hidden})) ||
      failed(expectShape(*this, "positions", getPositions(), {rows})) ||
      failed(expectShape(*this, "q", getQ(), {rows, heads * hd})))
    return failure();
  if (getBq() && (failed(expectShape(*this, "bq", getBq(), {heads * hd})) ||
                  failed(expectShape(*this, "bk", getBk(), {kvHeads * hd})) ||
                  failed(expectShape(*this, "bv", getBv(), {kvHeads * hd}))))
    return failure();
  if (getQNorm()) {
    if (failed(expectShape(*this, "q_norm", getQNorm(), {hd})) ||
        failed(expectShape(*this, "k_norm", getKNorm(), {hd})))
      return failure();
    if (!getQkEps())
      return emitOpError() << "qk_norm needs qk_eps";
  }
  if (getCache().getType().getLayer() != getLayer())
    return emitOpError() << "cache type is for layer " << getCache().getType().getLayer()
                         << " but the op is layer " << getLayer();
  return verifyLlama3(*this, getLlama3Scaling());
}

LogicalResult GatedMlpOp::verify() {
  if (failed(expectRank(*this, "x", getX(), 2)) ||
      failed(expectRank(*this, "w_gate", getWGate(), 2)))
    return failure();
  int64_t rows = dim(getX(), 0), hidden = dim(getX(), 1), inter = dim(getWGate(), 0);
  if (failed(expectShape(*this, "norm weight", getNormWeight(), {hidden})) ||
      failed(expectShape(*this, "w_gate", getWGate(), {inter, hidden})) ||
      failed(expectShape(*this, "w_up", getWUp(), {inter, hidden})))
    return failure();
  return expectShape(*this, "result", getResult(), {rows, inter});
}

#define GET_OP_CLASSES
#include "mk/Dialect/Graph/GraphOps.cpp.inc"
