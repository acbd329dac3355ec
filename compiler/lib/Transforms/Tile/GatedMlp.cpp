//===- GatedMlp.cpp - mk-tile: mkg.gated_mlp -> gate_up tasks ---------------===//
//
// Tiles: intermediate columns, all rows. A tile streams the same rows of both the
// gate and the up weight (so TileSizer::columnsPerTile counts two matrices), applies
// the RMSNorm prologue to all of x, and writes SiLU(gate) * up for its columns.
//===----------------------------------------------------------------------===//
#include "TileLowering.h"

using namespace mlir;
using namespace mk;
using namespace mk::tile;
namespace mkg = mk::graph;

namespace {

constexpr isa::TaskKind kGateUp = isa::TaskKind::GateUp;

struct GatedMlpLowering : OpTileLowering<mkg::GatedMlpOp> {
  LogicalResult lower(mkg::GatedMlpOp op, ProgramLowering &p) const override {
    FailureOr<FlatSymbolRefAttr> x = p.tensorOf(op, op.getX());
    FailureOr<FlatSymbolRefAttr> norm = p.tensorOf(op, op.getNormWeight());
    FailureOr<FlatSymbolRefAttr> wg = p.tensorOf(op, op.getWGate());
    FailureOr<FlatSymbolRefAttr> wu = p.tensorOf(op, op.getWUp());
    if (failed(x) || failed(norm) || failed(wg) || failed(wu))
      return failure();
    int64_t layer = op.getLayer(), rows = p.rows();
    std::string l = layerPrefix(layer);
    FlatSymbolRefAttr out = p.activation(op.getResult(), l + ".mlp");
    int64_t inter = dimOf(op.getWGate(), 0), hidden = dimOf(op.getWGate(), 1);
    int64_t cols = p.sizer().columnsPerTile(inter, hidden, rows, 2);
    for (int64_t c0 = 0, t = 0; c0 < inter; c0 += cols, ++t) {
      int64_t c1 = std::min(inter, c0 + cols);
      TaskSpec s(kGateUp, l + ".gate_up." + std::to_string(t));
      s.layer = layer;
      s.tile = {0, rows, c0, c1, 0, 0};
      s.set(role(kGateUp, "x"), *x);
      s.set(role(kGateUp, "norm_w"), *norm);
      s.set(role(kGateUp, "w_gate"), *wg);
      s.set(role(kGateUp, "w_up"), *wu);
      s.set(role(kGateUp, "out"), out);
      s.reads = {p.box(*x, {0, 0}, {rows, hidden}), p.whole(*norm),
                 p.box(*wg, {c0, 0}, {c1, hidden}), p.box(*wu, {c0, 0}, {c1, hidden})};
      s.writes = {p.box(out, {0, c0}, {rows, c1})};
      s.bytes = 2 * (c1 - c0) * hidden * 2 + rows * hidden * 2 + rows * (c1 - c0) * 2;
      s.flops = 4 * rows * (c1 - c0) * hidden;
      if (failed(p.emit(op, s)))
        return failure();
    }
    return success();
  }
};

} // namespace

void mk::tile::populateGatedMlpLowerings(TileLoweringSet &set) {
  set.add<GatedMlpLowering>();
}
