//===- ResidualProjection.cpp - mk-tile: O/down projections + residual ------===//
//
// mkg.linear with a residual epilogue: after attention it is the O projection
// (o_proj), after the gated MLP the down projection (down_proj). Tiles: output
// columns, all rows; each reads all of x, its rows of the weight and its own columns of
// the residual. Columns per tile from TileSizer::columnsPerTile.
// Under tensor parallelism the projection feeds an mkg.all_reduce instead and has no
// residual: its tiles write this rank's partial sum (`l<L>.attn_partial`,
// `l<L>.mlp_partial`), and the all-reduce's tiles take the same columns.
//===----------------------------------------------------------------------===//
#include "TileLowering.h"

using namespace mlir;
using namespace mk;
using namespace mk::tile;
namespace mkg = mk::graph;

namespace {

/// O and down projections share their roles and tiling; Kind picks the task, and its
/// tasks are named l<layer>.<kind>.<tile>.
template <isa::TaskKind Kind>
LogicalResult lowerProjection(mkg::LinearOp op, ProgramLowering &p, int64_t layer,
                              StringRef tag) {
  FailureOr<FlatSymbolRefAttr> x = p.tensorOf(op, op.getX());
  FailureOr<FlatSymbolRefAttr> w = p.tensorOf(op, op.getWeight());
  if (failed(x) || failed(w))
    return failure();
  FlatSymbolRefAttr res;
  if (op.getResidual()) {
    FailureOr<FlatSymbolRefAttr> r = p.tensorOf(op, op.getResidual());
    if (failed(r))
      return failure();
    res = *r;
  }
  std::string l = layerPrefix(layer);
  FlatSymbolRefAttr out = p.activation(
      op.getResult(), l + "." + (res ? "h_" + tag.str() : tag.str() + "_partial"));
  int64_t rows = p.rows();
  int64_t n = dimOf(op.getWeight(), 0), k = dimOf(op.getWeight(), 1);
  int64_t cols = p.sizer().columnsPerTile(n, k, rows, 1);
  p.setColumnTiling(op.getResult(), {cols, tag.str()});
  for (int64_t c0 = 0, t = 0; c0 < n; c0 += cols, ++t) {
    int64_t c1 = std::min(n, c0 + cols);
    TaskSpec s(Kind, l + "." + isa::taskKindName(Kind) + "." + std::to_string(t));
    s.layer = layer;
    s.tile = {0, rows, c0, c1, 0, 0};
    s.set(role(Kind, "x"), *x);
    s.set(role(Kind, "w"), *w);
    s.set(role(Kind, "out"), out);
    s.reads = {p.box(*x, {0, 0}, {rows, k}), p.box(*w, {c0, 0}, {c1, k})};
    if (res) {
      s.set(role(Kind, "residual"), res);
      s.reads.push_back(p.box(res, {0, c0}, {rows, c1}));
    }
    s.writes = {p.box(out, {0, c0}, {rows, c1})};
    s.bytes = (c1 - c0) * k * 2 + rows * k * 2 + (res ? 2 : 1) * rows * (c1 - c0) * 2;
    s.flops = 2 * rows * (c1 - c0) * k;
    if (failed(p.emit(op, s)))
      return failure();
  }
  return success();
}

struct ResidualProjectionLowering : OpTileLowering<mkg::LinearOp> {
  ResidualProjectionLowering()
      : OpTileLowering("have a residual epilogue or feed an all-reduce (O/down "
                       "projection)") {}

  bool match(mkg::LinearOp op) const override {
    if (op.getResidual())
      return true;
    Value y = op.getResult();
    return y.hasOneUse() && llvm::isa<mkg::AllReduceOp>(*y.getUsers().begin());
  }

  LogicalResult lower(mkg::LinearOp op, ProgramLowering &p) const override {
    if (op.getNormWeight() || op.getBias())
      return op.emitOpError()
             << "mk-tile: O/down projections take no norm prologue or bias";
    std::optional<uint64_t> layer = op.getLayer();
    if (!layer)
      return op.emitOpError() << "mk-tile: an O/down projection needs the `layer` it "
                                 "belongs to";
    Operation *producer = op.getX().getDefiningOp();
    if (producer && llvm::isa<mkg::AttentionOp>(producer))
      return lowerProjection<isa::TaskKind::OProj>(op, p, *layer, "attn");
    if (producer && llvm::isa<mkg::GatedMlpOp>(producer))
      return lowerProjection<isa::TaskKind::DownProj>(op, p, *layer, "mlp");
    return op.emitOpError() << "mk-tile: a residual projection must follow attention "
                               "(o_proj) or the gated MLP (down_proj)";
  }
};

} // namespace

void mk::tile::populateResidualProjectionLowerings(TileLoweringSet &set) {
  set.add<ResidualProjectionLowering>();
}
