//===- Attention.cpp - mk-tile: mkg.attention -> attention tasks ------------===//
//
// Decode (flash-decoding): per KV head, one attn_decode tile per block of KV
// positions writes fp32 partial outputs and log-sum-exps, and one attn_merge folds
// the head's splits, in a fixed order, into its query heads' output columns. The split
// count comes from TileSizer::decodeKvSplits.
// Prefill: one attn_prefill tile per (KV head, block of rows), causal over the chunk.
// Both read the KV cache mkg.qkv wrote for the layer.
//===----------------------------------------------------------------------===//
#include "TileLowering.h"

using namespace mlir;
using namespace mk;
using namespace mk::tile;
namespace mkg = mk::graph;

namespace {

constexpr isa::TaskKind kDecode = isa::TaskKind::AttnDecode;
constexpr isa::TaskKind kMerge = isa::TaskKind::AttnMerge;
constexpr isa::TaskKind kPrefill = isa::TaskKind::AttnPrefill;

/// What decode and prefill tiles share: the layer, its caches and the query heads.
struct AttentionShape {
  int64_t layer, heads, kvHeads, headDim, group, window, flags;
  FlatSymbolRefAttr q, kCache, vCache, out;
  std::string prefix;
};

struct AttentionLowering : OpTileLowering<mkg::AttentionOp> {
  LogicalResult lower(mkg::AttentionOp op, ProgramLowering &p) const override {
    int64_t layer = op.getCache().getType().getLayer();
    if (!op.getCache().getDefiningOp<mkg::QkvOp>())
      return op.emitOpError() << "mk-tile: the cache of layer " << layer
                              << " is not produced by an mkg.qkv (run mk-fuse first)";
    AttentionShape a;
    a.layer = layer;
    a.heads = op.getNumHeads();
    a.kvHeads = op.getNumKvHeads();
    a.headDim = op.getHeadDim();
    a.group = a.heads / a.kvHeads;
    // mkg.qkv created the caches of the layer: these look them up.
    a.kCache = p.tensors().kvCache(layer, false, a.kvHeads, a.headDim);
    a.vCache = p.tensors().kvCache(layer, true, a.kvHeads, a.headDim);
    FailureOr<FlatSymbolRefAttr> q = p.tensorOf(op, op.getQ());
    if (failed(q))
      return failure();
    a.q = *q;
    a.prefix = layerPrefix(layer);
    a.out = p.activation(op.getResult(), a.prefix + ".attn");
    a.window = op.getSlidingWindow() ? static_cast<int64_t>(*op.getSlidingWindow()) : 0;
    a.flags = a.window ? int64_t(isa::kFlagSlidingWindow) : 0;
    return p.isDecode() ? lowerDecode(op, p, a) : lowerPrefill(op, p, a);
  }

private:
  /// The cache head of KV head g, all blocks.
  static task::BoxAttr cacheHead(ProgramLowering &p, FlatSymbolRefAttr cache,
                                 const AttentionShape &a, int64_t g) {
    return p.box(cache, {0, 0, g, 0},
                 {p.tensors().kvBlocks, p.tensors().kvBlockSize, g + 1, a.headDim});
  }

  static LogicalResult lowerDecode(mkg::AttentionOp op, ProgramLowering &p,
                                   const AttentionShape &a) {
    int64_t rows = p.rows(), maxSeqLen = p.maxSeqLen(), hd = a.headDim, group = a.group;
    int64_t blockSize = p.tensors().kvBlockSize;
    int64_t splits = p.sizer().decodeKvSplits(a.kvHeads, maxSeqLen, blockSize);
    int64_t span = ceilDiv(ceilDiv(maxSeqLen, splits), blockSize) * blockSize;
    const StepStateTensors &step = p.step();
    auto f32 = p.builder().getF32Type();
    FlatSymbolRefAttr po =
        p.activation(RankedTensorType::get({rows, a.heads, splits, hd}, f32),
                     a.prefix + ".attn_partial_o");
    FlatSymbolRefAttr plse =
        p.activation(RankedTensorType::get({rows, a.heads, splits}, f32),
                     a.prefix + ".attn_partial_lse");
    for (int64_t g = 0; g < a.kvHeads; ++g) {
      int64_t c0 = g * group, c1 = (g + 1) * group; // the group's query heads
      for (int64_t s = 0; s < splits; ++s) {
        int64_t p0 = s * span, p1 = std::min(maxSeqLen, (s + 1) * span);
        TaskSpec t(kDecode,
                   a.prefix + ".attn.g" + std::to_string(g) + ".s" + std::to_string(s));
        t.layer = a.layer;
        t.tile = {0, rows, g, g + 1, p0, p1};
        t.aux = {s, a.window};
        t.flags = a.flags;
        t.set(role(kDecode, "q"), a.q);
        t.set(role(kDecode, "k_cache"), a.kCache);
        t.set(role(kDecode, "v_cache"), a.vCache);
        t.set(role(kDecode, "block_table"), step.blockTable);
        t.set(role(kDecode, "seq_lens"), step.seqLens);
        t.set(role(kDecode, "partial_o"), po);
        t.set(role(kDecode, "partial_lse"), plse);
        t.reads = {p.box(a.q, {0, c0 * hd}, {rows, c1 * hd}),
                   cacheHead(p, a.kCache, a, g), cacheHead(p, a.vCache, a, g),
                   p.whole(step.blockTable), p.whole(step.seqLens)};
        t.writes = {p.box(po, {0, c0, s, 0}, {rows, c1, s + 1, hd}),
                    p.box(plse, {0, c0, s}, {rows, c1, s + 1})};
        t.bytes = rows * (p1 - p0) * hd * 2 * 2;
        t.flops = 4 * rows * group * (p1 - p0) * hd;
        if (failed(p.emit(op, t)))
          return failure();
      }
      TaskSpec m(kMerge, a.prefix + ".merge.g" + std::to_string(g));
      m.layer = a.layer;
      m.tile = {0, rows, g, g + 1, 0, splits};
      m.aux = {splits};
      m.set(role(kMerge, "partial_o"), po);
      m.set(role(kMerge, "partial_lse"), plse);
      m.set(role(kMerge, "out"), a.out);
      m.reads = {p.box(po, {0, c0, 0, 0}, {rows, c1, splits, hd}),
                 p.box(plse, {0, c0, 0}, {rows, c1, splits})};
      m.writes = {p.box(a.out, {0, c0 * hd}, {rows, c1 * hd})};
      m.bytes = rows * group * splits * (hd + 1) * 4 + rows * group * hd * 2;
      m.flops = 3 * rows * group * splits * hd;
      if (failed(p.emit(op, m)))
        return failure();
    }
    return success();
  }

  static LogicalResult lowerPrefill(mkg::AttentionOp op, ProgramLowering &p,
                                    const AttentionShape &a) {
    int64_t rows = p.rows(), maxSeqLen = p.maxSeqLen(), hd = a.headDim, group = a.group;
    const StepStateTensors &step = p.step();
    int64_t tileRows = p.sizer().prefillAttentionRows(rows, a.kvHeads);
    for (int64_t g = 0; g < a.kvHeads; ++g) {
      int64_t c0 = g * group * hd, c1 = (g + 1) * group * hd; // the group's columns
      for (int64_t r0 = 0, t = 0; r0 < rows; r0 += tileRows, ++t) {
        int64_t r1 = std::min(rows, r0 + tileRows);
        TaskSpec s(kPrefill,
                   a.prefix + ".attn.g" + std::to_string(g) + ".r" + std::to_string(t));
        s.layer = a.layer;
        s.tile = {r0, r1, g, g + 1, 0, 0};
        s.aux = {0, a.window};
        s.flags = a.flags;
        s.set(role(kPrefill, "q"), a.q);
        s.set(role(kPrefill, "k_cache"), a.kCache);
        s.set(role(kPrefill, "v_cache"), a.vCache);
        s.set(role(kPrefill, "block_table"), step.blockTable);
        s.set(role(kPrefill, "positions"), step.positions);
        s.set(role(kPrefill, "out"), a.out);
        s.reads = {p.box(a.q, {r0, c0}, {r1, c1}), cacheHead(p, a.kCache, a, g),
                   cacheHead(p, a.vCache, a, g), p.whole(step.blockTable),
                   p.box(step.positions, {r0}, {r1})};
        s.writes = {p.box(a.out, {r0, c0}, {r1, c1})};
        // Keys up to the tile's last row, the chunk taken to start half way into the
        // longest sequence.
        int64_t keys = std::min(maxSeqLen, r1 + maxSeqLen / 2);
        s.bytes = keys * hd * 2 * 2 + (r1 - r0) * group * hd * 4;
        s.flops = 4 * (r1 - r0) * group * keys * hd;
        if (failed(p.emit(op, s)))
          return failure();
      }
    }
    return success();
  }
};

} // namespace

void mk::tile::populateAttentionLowerings(TileLoweringSet &set) {
  set.add<AttentionLowering>();
}
