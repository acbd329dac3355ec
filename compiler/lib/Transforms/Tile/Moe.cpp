//===- Moe.cpp - mk-tile: mkg.moe -> router, expert slot tiles, combine -----===//
//
// A mixture-of-experts block of R rows, E experts, top-k, hidden H, expert width I
// becomes, with Smax = min(E, R * k) expert slots (at most that many distinct experts
// are selected in one step):
//   l<L>.moe_router              one task: the RMSNorm prologue, the router logits,
//                                softmax, top-k; writes the slot list (moe_routes),
//                                the rows' weights and each slot's normed rows (moe_xg)
//   l<L>.moe_gate_up.s<s>.<t>    per slot s and column tile of I: SiLU(gate) * up of
//                                slot s's expert for its rows (moe_act)
//   l<L>.moe_down.s<s>.<t>       per slot s and column tile of H: the down projection
//                                (moe_expert_out)
//   l<L>.moe_combine.<t>         per column tile of H: the weighted sum over each
//                                row's k experts plus the residual (h_mlp); under
//                                tensor parallelism, without it (mlp_partial), for
//                                the all-reduce that follows
// A slot tile whose slot is unused this step finishes without reading a weight byte.
// The expert tiles' weight rows depend on the router's choice, so they list no weight
// boxes: their operands name expert 0's tensor of each group, and expert e's tensor is
// that id + e (the group's tensors are created here consecutively, in expert order).
//===----------------------------------------------------------------------===//
#include "TileLowering.h"

#include "mk/isa/moe_routes.h"

using namespace mlir;
using namespace mk;
using namespace mk::tile;
namespace mkg = mk::graph;

namespace {

constexpr isa::TaskKind kRouter = isa::TaskKind::MoeRouter;
constexpr isa::TaskKind kGateUp = isa::TaskKind::MoeGateUp;
constexpr isa::TaskKind kDown = isa::TaskKind::MoeDown;
constexpr isa::TaskKind kCombine = isa::TaskKind::MoeCombine;

/// The tensors of one expert group, in expert order; the tasks name the first, so
/// they must be consecutive: E distinct weights no earlier op created out of order.
FailureOr<FlatSymbolRefAttr> expertGroup(mkg::MoeOp op, ProgramLowering &p,
                                         OperandRange weights, StringRef group) {
  FlatSymbolRefAttr first;
  unsigned firstPosition = 0;
  for (auto [e, w] : llvm::enumerate(weights)) {
    FailureOr<FlatSymbolRefAttr> t = p.tensorOf(op, w);
    if (failed(t))
      return failure();
    unsigned position = p.tensors().positions.lookup(t->getValue());
    if (!first) {
      first = *t;
      firstPosition = position;
    } else if (position != firstPosition + e) {
      return op.emitOpError() << "mk-tile: the " << group << " weight of expert " << e
                              << " (" << *t << ") is not the tensor after expert "
                              << e - 1 << "'s: an expert group is " << weights.size()
                              << " distinct weights that no other op reads";
    }
  }
  return first;
}

struct MoeLowering : OpTileLowering<mkg::MoeOp> {
  MoeLowering()
      : OpTileLowering("have a norm prologue and a residual epilogue or an all-reduce "
                       "after it (mkg.moe)") {}

  bool match(mkg::MoeOp op) const override {
    if (!op.getNormWeight())
      return false;
    Value y = op.getResult();
    return op.getResidual() ||
           (y.hasOneUse() && llvm::isa<mkg::AllReduceOp>(*y.getUsers().begin()));
  }

  LogicalResult lower(mkg::MoeOp op, ProgramLowering &p) const override {
    FailureOr<FlatSymbolRefAttr> x = p.tensorOf(op, op.getX());
    FailureOr<FlatSymbolRefAttr> norm = p.tensorOf(op, op.getNormWeight());
    FailureOr<FlatSymbolRefAttr> router = p.tensorOf(op, op.getRouter());
    if (failed(x) || failed(norm) || failed(router))
      return failure();
    FlatSymbolRefAttr residual;
    if (op.getResidual()) {
      FailureOr<FlatSymbolRefAttr> r = p.tensorOf(op, op.getResidual());
      if (failed(r))
        return failure();
      residual = *r;
    }
    FailureOr<FlatSymbolRefAttr> wGate = expertGroup(op, p, op.getWGate(), "gate");
    if (failed(wGate))
      return failure();
    FailureOr<FlatSymbolRefAttr> wUp = expertGroup(op, p, op.getWUp(), "up");
    if (failed(wUp))
      return failure();
    FailureOr<FlatSymbolRefAttr> wDown = expertGroup(op, p, op.getWDown(), "down");
    if (failed(wDown))
      return failure();

    const int64_t layer = op.getLayer(), rows = p.rows();
    const int64_t experts = op.getNumExperts(), topK = op.getTopK();
    const int64_t hidden = dimOf(op.getX(), 1), inter = dimOf(op.getWGate()[0], 0);
    const int64_t slots = isa::moeSlots(experts, rows, topK);
    const std::string l = layerPrefix(layer);
    Builder &b = p.builder();
    auto bf16 = b.getBF16Type();

    FlatSymbolRefAttr xg =
        p.activation(RankedTensorType::get({slots, rows, hidden}, bf16), l + ".moe_xg");
    FlatSymbolRefAttr routes =
        p.activation(RankedTensorType::get(
                         {static_cast<int64_t>(isa::moeRoutesLength(rows, topK, slots))},
                         b.getI32Type()),
                     l + ".moe_routes");
    FlatSymbolRefAttr weights = p.activation(
        RankedTensorType::get({rows, topK}, b.getF32Type()), l + ".moe_route_weights");
    FlatSymbolRefAttr act =
        p.activation(RankedTensorType::get({slots, rows, inter}, bf16), l + ".moe_act");
    FlatSymbolRefAttr expertOut = p.activation(
        RankedTensorType::get({slots, rows, hidden}, bf16), l + ".moe_expert_out");
    FlatSymbolRefAttr out =
        p.activation(op.getResult(), l + (residual ? ".h_mlp" : ".mlp_partial"));

    // The router: every row's logits over all experts, so one task per layer.
    {
      TaskSpec s(kRouter, l + ".moe_router");
      s.layer = layer;
      s.tile = {0, rows, 0, experts, 0, 0};
      s.set(role(kRouter, "x"), *x);
      s.set(role(kRouter, "norm_w"), *norm);
      s.set(role(kRouter, "w"), *router);
      s.set(role(kRouter, "positions"), p.step().positions);
      s.set(role(kRouter, "xg"), xg);
      s.set(role(kRouter, "routes"), routes);
      s.set(role(kRouter, "route_weights"), weights);
      s.reads = {p.whole(*x), p.whole(*norm), p.whole(*router),
                 p.whole(p.step().positions)};
      s.writes = {p.whole(xg), p.whole(routes), p.whole(weights)};
      s.bytes = experts * hidden * 2 + hidden * 2 + rows * hidden * 2 +
                slots * rows * hidden * 2;
      s.flops = 2 * rows * experts * hidden;
      if (failed(p.emit(op, s)))
        return failure();
    }

    // Slot tiles. Costs assume every slot is used with all R rows: an upper bound.
    // (Boxes shared by many tiles are built once: attribute uniquing is the cost of
    // lowering a 128-expert layer.)
    int64_t upCols = p.sizer().expertColumnsPerTile(inter, hidden, rows, 2, slots);
    int64_t downCols = p.sizer().expertColumnsPerTile(hidden, inter, rows, 1, slots);
    p.setColumnTiling(op.getResult(), {downCols, "mlp"});
    task::BoxAttr allRoutes = p.whole(routes), allWeights = p.whole(weights);
    for (int64_t slot = 0; slot < slots; ++slot) {
      std::string sl = ".s" + std::to_string(slot) + ".";
      task::BoxAttr slotRows = p.box(xg, {slot, 0, 0}, {slot + 1, rows, hidden});
      task::BoxAttr slotAct = p.box(act, {slot, 0, 0}, {slot + 1, rows, inter});
      for (int64_t c0 = 0, t = 0; c0 < inter; c0 += upCols, ++t) {
        int64_t c1 = std::min(inter, c0 + upCols);
        TaskSpec s(kGateUp, l + ".moe_gate_up" + sl + std::to_string(t));
        s.layer = layer;
        s.tile = {0, rows, c0, c1, slot, slot + 1};
        s.set(role(kGateUp, "xg"), xg);
        s.set(role(kGateUp, "routes"), routes);
        s.set(role(kGateUp, "w_gate"), *wGate);
        s.set(role(kGateUp, "w_up"), *wUp);
        s.set(role(kGateUp, "out"), act);
        s.reads = {slotRows, allRoutes};
        s.writes = {p.box(act, {slot, 0, c0}, {slot + 1, rows, c1})};
        s.bytes = 2 * (c1 - c0) * hidden * 2 + rows * hidden * 2 + rows * (c1 - c0) * 2;
        s.flops = 4 * rows * (c1 - c0) * hidden;
        if (failed(p.emit(op, s)))
          return failure();
      }
      for (int64_t c0 = 0, t = 0; c0 < hidden; c0 += downCols, ++t) {
        int64_t c1 = std::min(hidden, c0 + downCols);
        TaskSpec s(kDown, l + ".moe_down" + sl + std::to_string(t));
        s.layer = layer;
        s.tile = {0, rows, c0, c1, slot, slot + 1};
        s.set(role(kDown, "act"), act);
        s.set(role(kDown, "routes"), routes);
        s.set(role(kDown, "w"), *wDown);
        s.set(role(kDown, "out"), expertOut);
        s.reads = {slotAct, allRoutes};
        s.writes = {p.box(expertOut, {slot, 0, c0}, {slot + 1, rows, c1})};
        s.bytes = (c1 - c0) * inter * 2 + rows * inter * 2 + rows * (c1 - c0) * 2;
        s.flops = 2 * rows * (c1 - c0) * inter;
        if (failed(p.emit(op, s)))
          return failure();
      }
    }

    // The combine takes the down tiles' columns, so each tile waits for one down tile
    // per slot.
    for (int64_t c0 = 0, t = 0; c0 < hidden; c0 += downCols, ++t) {
      int64_t c1 = std::min(hidden, c0 + downCols);
      TaskSpec s(kCombine, l + ".moe_combine." + std::to_string(t));
      s.layer = layer;
      s.tile = {0, rows, c0, c1, 0, 0};
      s.set(role(kCombine, "expert_out"), expertOut);
      s.set(role(kCombine, "routes"), routes);
      s.set(role(kCombine, "route_weights"), weights);
      s.set(role(kCombine, "out"), out);
      s.reads = {p.box(expertOut, {0, 0, c0}, {slots, rows, c1}), allRoutes, allWeights};
      if (residual) {
        s.set(role(kCombine, "residual"), residual);
        s.reads.push_back(p.box(residual, {0, c0}, {rows, c1}));
      }
      s.writes = {p.box(out, {0, c0}, {rows, c1})};
      s.bytes = (topK + (residual ? 2 : 1)) * rows * (c1 - c0) * 2;
      s.flops = 2 * rows * topK * (c1 - c0);
      if (failed(p.emit(op, s)))
        return failure();
    }
    return success();
  }
};

} // namespace

void mk::tile::populateMoeLowerings(TileLoweringSet &set) { set.add<MoeLowering>(); }
