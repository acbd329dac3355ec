//===- AllReduce.cpp - mk-tile: mkg.all_reduce -> all_reduce tasks -----------===//
//
// The all-reduce after a row-parallel O/down projection or MoE block: one comm site
// (aux[0], numbered in program order), tiled exactly like the producer's output
// columns, so all-reduce tile t waits only on producer tile t of this rank (the
// executor's flags wait for the other ranks' tile t):
//
//   l<L>.all_reduce.<tag>.<t>   out[:, c0:c1] = residual[:, c0:c1]
//                                 + sum over ranks, in rank order, of partial[:, c0:c1]
//
// with tag "attn" (after o_proj; out is l<L>.h_attn) or "mlp" (after down_proj or
// moe_combine; l<L>.h_mlp). aux[1] is the tile's index within the site.
//===----------------------------------------------------------------------===//
#include "TileLowering.h"

using namespace mlir;
using namespace mk;
using namespace mk::tile;
namespace mkg = mk::graph;

namespace {

constexpr isa::TaskKind kAllReduce = isa::TaskKind::AllReduce;

struct AllReduceLowering : OpTileLowering<mkg::AllReduceOp> {
  LogicalResult lower(mkg::AllReduceOp op, ProgramLowering &p) const override {
    const ColumnTiling *tiling = p.columnTiling(op.getPartial());
    if (!tiling)
      return op.emitOpError() << "mk-tile: an all-reduce must follow an O/down "
                                 "projection or an MoE block";
    if (static_cast<int64_t>(op.getRanks()) != p.ranks())
      return op.emitOpError() << "mk-tile: reduces over " << op.getRanks()
                              << " ranks in a module of " << p.ranks()
                              << " (mk.tensor_parallel)";
    FailureOr<FlatSymbolRefAttr> partial = p.tensorOf(op, op.getPartial());
    if (failed(partial))
      return failure();
    FlatSymbolRefAttr residual;
    if (op.getResidual()) {
      FailureOr<FlatSymbolRefAttr> r = p.tensorOf(op, op.getResidual());
      if (failed(r))
        return failure();
      residual = *r;
    }
    const int64_t rows = p.rows(), hidden = dimOf(op.getPartial(), 1), n = p.ranks();
    CommTensors &comm = p.comm();
    if (comm.hidden != 0 && comm.hidden != hidden)
      return op.emitOpError() << "mk-tile: all-reduces of one program share one "
                                 "exchange buffer of "
                              << comm.hidden << " columns, this one has " << hidden;
    comm.hidden = hidden;
    std::string prefix = op.getLayer() ? layerPrefix(*op.getLayer()) + "." : "";
    FlatSymbolRefAttr out = p.activation(op.getResult(), prefix + "h_" + tiling->tag);
    const int64_t cols = tiling->columns, tiles = ceilDiv(hidden, cols);
    const int64_t site = p.takeCommSite(tiles);
    for (int64_t c0 = 0, t = 0; c0 < hidden; c0 += cols, ++t) {
      int64_t c1 = std::min(hidden, c0 + cols);
      TaskSpec s(kAllReduce,
                 prefix + "all_reduce." + tiling->tag + "." + std::to_string(t));
      if (op.getLayer())
        s.layer = *op.getLayer();
      s.tile = {0, rows, c0, c1, 0, 0};
      s.aux = {site, t};
      s.set(role(kAllReduce, "partial"), *partial);
      s.set(role(kAllReduce, "comm"), comm.reduce);
      s.set(role(kAllReduce, "flags"), comm.flags);
      s.set(role(kAllReduce, "out"), out);
      // The comm tensors are in no box: peers write them, and the flag protocol
      // (protocol.h), not the scoreboard, orders those writes.
      s.reads = {p.box(*partial, {0, c0}, {rows, c1})};
      if (residual) {
        s.set(role(kAllReduce, "residual"), residual);
        s.reads.push_back(p.box(residual, {0, c0}, {rows, c1}));
      }
      s.writes = {p.box(out, {0, c0}, {rows, c1})};
      // Pushed to N ranks and N partials read back, + residual and out.
      const int64_t tileBytes = rows * (c1 - c0) * 2;
      s.bytes = (2 * n + (residual ? 2 : 1)) * tileBytes;
      s.flops = n * rows * (c1 - c0);
      if (failed(p.emit(op, s)))
        return failure();
    }
    return success();
  }
};

} // namespace

void mk::tile::populateAllReduceLowerings(TileLoweringSet &set) {
  set.add<AllReduceLowering>();
}
