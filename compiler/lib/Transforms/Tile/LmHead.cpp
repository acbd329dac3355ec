//===- LmHead.cpp - mk-tile: LM head + argmax -> lm_head, argmax tasks ------===//
//
// The LM head is the mkg.linear whose only user is mkg.argmax. Tiles: vocabulary
// columns, all rows; tile t applies the final RMSNorm prologue, writes its logits and
// its slot t of `partial_max` [rows, tiles, 2] (each row's best value and index in
// the tile). One argmax task reduces the slots in a fixed order into the tokens:
// decode writes the next step's input tokens in place (the loop-carried edge that
// lets one launch run many steps), prefill a separate `tokens_out`.
// Under tensor parallelism the LM head feeds an mkg.all_gather: each rank's tiles
// cover its V/N rows of the weight (the executor makes the indices in partial_max
// global), one all_gather task (a comm site, like an all-reduce) collects every
// rank's partial_max into `partial_max_all` [rows, N T, 2] (rank q's tile t at q T + t),
// and the argmax reduces that instead: ties still go to the lowest global index.
//===----------------------------------------------------------------------===//
#include "TileLowering.h"

using namespace mlir;
using namespace mk;
using namespace mk::tile;
namespace mkg = mk::graph;

namespace {

constexpr isa::TaskKind kLmHead = isa::TaskKind::LmHead;
constexpr isa::TaskKind kArgmax = isa::TaskKind::Argmax;
constexpr isa::TaskKind kAllGather = isa::TaskKind::AllGather;
/// The activation the LM head's tiles write their partial maxima to.
constexpr llvm::StringLiteral kPartialMax = "partial_max";
/// Every rank's partial maxima (tensor parallelism), what the argmax then reads.
constexpr llvm::StringLiteral kPartialMaxAll = "partial_max_all";

/// The single user of `v`, if it has exactly one.
Operation *onlyUser(Value v) { return v.hasOneUse() ? *v.getUsers().begin() : nullptr; }

struct LmHeadLowering : OpTileLowering<mkg::LinearOp> {
  LmHeadLowering()
      : OpTileLowering("feed an argmax, directly or through an all-gather (the LM "
                       "head)") {}

  bool match(mkg::LinearOp op) const override {
    Operation *user = onlyUser(op.getResult());
    if (user && llvm::isa<mkg::AllGatherOp>(user))
      user = onlyUser(user->getResult(0));
    return user && llvm::isa<mkg::ArgmaxOp>(user);
  }

  LogicalResult lower(mkg::LinearOp op, ProgramLowering &p) const override {
    if (!op.getNormWeight() || op.getResidual() || op.getBias())
      return op.emitOpError() << "mk-tile: the LM head takes the final RMSNorm as its "
                                 "prologue and no bias or residual (run mk-fuse)";
    FailureOr<FlatSymbolRefAttr> x = p.tensorOf(op, op.getX());
    FailureOr<FlatSymbolRefAttr> norm = p.tensorOf(op, op.getNormWeight());
    FailureOr<FlatSymbolRefAttr> w = p.tensorOf(op, op.getWeight());
    if (failed(x) || failed(norm) || failed(w))
      return failure();
    int64_t rows = p.rows();
    int64_t vocab = dimOf(op.getWeight(), 0), hidden = dimOf(op.getWeight(), 1);
    auto resultType = llvm::cast<RankedTensorType>(op.getResult().getType());
    if (!resultType.getElementType().isF32())
      return op.emitOpError() << "mk-tile: logits must be f32, got " << resultType;
    FlatSymbolRefAttr logits = p.activation(op.getResult(), "logits");
    int64_t cols = p.sizer().columnsPerTile(vocab, hidden, rows, 1);
    int64_t tiles = ceilDiv(vocab, cols);
    FlatSymbolRefAttr partials = p.activation(
        RankedTensorType::get({rows, tiles, 2}, p.builder().getF32Type()), kPartialMax);
    for (int64_t c0 = 0, t = 0; c0 < vocab; c0 += cols, ++t) {
      int64_t c1 = std::min(vocab, c0 + cols);
      TaskSpec s(kLmHead, "lm_head." + std::to_string(t));
      s.tile = {0, rows, c0, c1, 0, 0};
      s.aux = {t};
      s.set(role(kLmHead, "x"), *x);
      s.set(role(kLmHead, "norm_w"), *norm);
      s.set(role(kLmHead, "w"), *w);
      s.set(role(kLmHead, "logits"), logits);
      s.set(role(kLmHead, "partial_max"), partials);
      s.reads = {p.box(*x, {0, 0}, {rows, hidden}), p.whole(*norm),
                 p.box(*w, {c0, 0}, {c1, hidden})};
      s.writes = {p.box(logits, {0, c0}, {rows, c1}),
                  p.box(partials, {0, t, 0}, {rows, t + 1, 2})};
      s.bytes = (c1 - c0) * hidden * 2 + rows * hidden * 2 + rows * (c1 - c0) * 4;
      s.flops = 2 * rows * (c1 - c0) * hidden;
      if (failed(p.emit(op, s)))
        return failure();
    }
    return success();
  }
};

struct AllGatherLowering : OpTileLowering<mkg::AllGatherOp> {
  AllGatherLowering() : OpTileLowering("gather the LM head's logits for the argmax") {}

  bool match(mkg::AllGatherOp op) const override {
    return op.getLocal().getDefiningOp<mkg::LinearOp>() &&
           llvm::isa_and_nonnull<mkg::ArgmaxOp>(onlyUser(op.getResult()));
  }

  LogicalResult lower(mkg::AllGatherOp op, ProgramLowering &p) const override {
    FlatSymbolRefAttr partials = p.lookup(kPartialMax);
    if (!partials)
      return op.emitOpError() << "mk-tile: the all-gather must take the LM head's logits";
    if (static_cast<int64_t>(op.getRanks()) != p.ranks())
      return op.emitOpError() << "mk-tile: gathers over " << op.getRanks()
                              << " ranks in a module of " << p.ranks()
                              << " (mk.tensor_parallel)";
    const int64_t rows = p.rows(), tiles = p.shapeOf(partials)[1], n = p.ranks();
    FlatSymbolRefAttr all = p.activation(
        RankedTensorType::get({rows, n * tiles, 2}, p.builder().getF32Type()),
        kPartialMaxAll);
    CommTensors &comm = p.comm();
    comm.gatherTiles = tiles;
    TaskSpec s(kAllGather, "all_gather");
    s.tile = {0, rows, 0, tiles, 0, 0};
    s.aux = {p.takeCommSite(1), 0};
    s.set(role(kAllGather, "local"), partials);
    s.set(role(kAllGather, "comm"), comm.gather);
    s.set(role(kAllGather, "flags"), comm.flags);
    s.set(role(kAllGather, "out"), all);
    // The comm tensors are in no box: peers write them, and the flag protocol
    // (protocol.h), not the scoreboard, orders those writes.
    s.reads = {p.whole(partials)};
    s.writes = {p.whole(all)};
    // Pushed to N ranks, then N partials read and copied out.
    s.bytes = 3 * n * rows * tiles * 8;
    s.flops = 0;
    return p.emit(op, s);
  }
};

struct ArgmaxLowering : OpTileLowering<mkg::ArgmaxOp> {
  LogicalResult lower(mkg::ArgmaxOp op, ProgramLowering &p) const override {
    // Under tensor parallelism: every rank's partial maxima, gathered.
    auto gather = op.getLogits().getDefiningOp<mkg::AllGatherOp>();
    auto head =
        (gather ? gather.getLocal() : op.getLogits()).getDefiningOp<mkg::LinearOp>();
    FlatSymbolRefAttr partials = p.lookup(gather ? kPartialMaxAll : kPartialMax);
    if (!head || !partials)
      return op.emitOpError() << "mk-tile: argmax must consume the LM head's logits";
    int64_t rows = p.rows(), tiles = p.shapeOf(partials)[1];
    FlatSymbolRefAttr out =
        p.isDecode() ? p.step().tokens : p.stepState("tokens_out", {rows});
    TaskSpec s(kArgmax, "argmax");
    s.tile = {0, rows, 0, tiles, 0, 0};
    s.aux = {tiles};
    s.set(role(kArgmax, "partial_max"), partials);
    s.set(role(kArgmax, "tokens_out"), out);
    s.reads = {p.whole(partials)};
    s.writes = {p.box(out, {0}, {rows})};
    s.bytes = rows * tiles * 8 + rows * 4;
    s.flops = rows * tiles;
    return p.emit(op, s);
  }
};

} // namespace

void mk::tile::populateLmHeadLowerings(TileLoweringSet &set) {
  set.add<LmHeadLowering>();
  set.add<AllGatherLowering>();
  set.add<ArgmaxLowering>();
}
