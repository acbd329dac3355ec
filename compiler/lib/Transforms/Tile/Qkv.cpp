//===- Qkv.cpp - mk-tile: mkg.qkv -> qkv tasks ------------------------------===//
//
// Tiles: whole heads of one section (Q, K or V) of one KV-head group, all rows (RoPE
// and QK-norm need whole heads). A Q tile holds up to TileSizer::queryHeadsPerTile of
// the group's query heads and writes their columns of q; the K and V tiles of group g
// hold KV head g and write exactly that head of the layer's cache.
//===----------------------------------------------------------------------===//
#include "TileLowering.h"

using namespace mlir;
using namespace mk;
using namespace mk::tile;
namespace mkg = mk::graph;

namespace {

constexpr isa::TaskKind kQkv = isa::TaskKind::Qkv;

struct QkvLowering : OpTileLowering<mkg::QkvOp> {
  LogicalResult lower(mkg::QkvOp op, ProgramLowering &p) const override {
    int64_t layer = op.getLayer(), heads = op.getNumHeads(), kvHeads = op.getNumKvHeads();
    int64_t hd = op.getHeadDim(), hidden = dimOf(op.getX(), 1);
    int64_t group = heads / kvHeads, rows = p.rows();
    FailureOr<FlatSymbolRefAttr> x = p.tensorOf(op, op.getX());
    FailureOr<FlatSymbolRefAttr> norm = p.tensorOf(op, op.getNormWeight());
    if (failed(x) || failed(norm))
      return failure();
    std::string l = layerPrefix(layer);
    FlatSymbolRefAttr q = p.activation(op.getQ(), l + ".q");
    FlatSymbolRefAttr kc = p.tensors().kvCache(layer, false, kvHeads, hd);
    FlatSymbolRefAttr vc = p.tensors().kvCache(layer, true, kvHeads, hd);
    const StepStateTensors &step = p.step();
    int64_t flags = 0;
    if (op.getInterleaved())
      flags |= isa::kFlagRopeInterleaved;
    if (op.getLlama3Scaling())
      flags |= isa::kFlagRopeLlama3;

    int64_t headsPerTile = p.sizer().queryHeadsPerTile(group, heads, hd, hidden);
    struct Section {
      isa::QkvSection id;
      const char *name;
      Value w, bias, headNorm;
      FlatSymbolRefAttr out;
    };
    Section sections[] = {
        {isa::QkvSection::Q, "q", op.getWq(), op.getBq(), op.getQNorm(), q},
        {isa::QkvSection::K, "k", op.getWk(), op.getBk(), op.getKNorm(), kc},
        {isa::QkvSection::V, "v", op.getWv(), op.getBv(), Value(), vc}};
    for (int64_t g = 0; g < kvHeads; ++g) {
      for (const Section &sec : sections) {
        FailureOr<FlatSymbolRefAttr> w = p.tensorOf(op, sec.w);
        if (failed(w))
          return failure();
        // Q tiles split the group's query heads; K and V have one head per group.
        bool isQ = sec.id == isa::QkvSection::Q;
        int64_t first = isQ ? g * group : g;
        int64_t last = isQ ? (g + 1) * group : g + 1;
        int64_t stride = isQ ? headsPerTile : 1;
        for (int64_t h0 = first, t = 0; h0 < last; h0 += stride, ++t) {
          int64_t h1 = std::min(last, h0 + stride);
          TaskSpec s(kQkv, l + ".qkv." + sec.name + ".g" + std::to_string(g) + "." +
                               std::to_string(t));
          s.layer = layer;
          s.tile = {0, rows, h0, h1, 0, 0};
          s.aux = {static_cast<int64_t>(sec.id)};
          s.flags = sec.id == isa::QkvSection::V ? 0 : flags;
          s.set(role(kQkv, "x"), *x);
          s.set(role(kQkv, "norm_w"), *norm);
          s.set(role(kQkv, "w"), *w);
          s.set(role(kQkv, "out"), sec.out);
          s.set(role(kQkv, "positions"), step.positions);
          s.set(role(kQkv, "kv_slots"), step.kvSlots);
          s.set(role(kQkv, "block_table"), step.blockTable);
          s.reads = {p.box(*x, {0, 0}, {rows, hidden}),
                     p.whole(*norm),
                     p.box(*w, {h0 * hd, 0}, {h1 * hd, hidden}),
                     p.box(step.positions, {0}, {rows}),
                     p.box(step.kvSlots, {0}, {rows}),
                     p.whole(step.blockTable)};
          if (sec.bias) {
            FailureOr<FlatSymbolRefAttr> bias = p.tensorOf(op, sec.bias);
            if (failed(bias))
              return failure();
            s.set(role(kQkv, "bias"), *bias);
            s.reads.push_back(p.box(*bias, {h0 * hd}, {h1 * hd}));
          }
          if (sec.headNorm) {
            FailureOr<FlatSymbolRefAttr> headNorm = p.tensorOf(op, sec.headNorm);
            if (failed(headNorm))
              return failure();
            s.set(role(kQkv, "head_norm_w"), *headNorm);
            s.reads.push_back(p.whole(*headNorm));
          }
          if (isQ)
            s.writes = {p.box(q, {0, h0 * hd}, {rows, h1 * hd})};
          else
            s.writes = {p.box(sec.out, {0, 0, h0, 0},
                              {p.tensors().kvBlocks, p.tensors().kvBlockSize, h1, hd})};
          s.bytes =
              (h1 - h0) * hd * hidden * 2 + rows * hidden * 2 + rows * (h1 - h0) * hd * 2;
          s.flops = 2 * rows * (h1 - h0) * hd * hidden;
          if (failed(p.emit(op, s)))
            return failure();
        }
      }
    }
    return success();
  }
};

} // namespace

void mk::tile::populateQkvLowerings(TileLoweringSet &set) { set.add<QkvLowering>(); }
