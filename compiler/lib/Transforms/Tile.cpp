//===- Tile.cpp - mk-tile: lower fused graph functions to tile tasks --------===//
//
// Each function with `mkg.program` becomes an `mkt.program`. Tensors:
//   @w.<hf name>          weights (module level, shared by programs)
//   @kv.l<i>.k / .v       paged KV caches [blocks, block_size, kv_heads, head_dim]
//   @<prog>.<value>       activations of one program
//   @<prog>.tokens ...    step state of one program (tokens, positions, seq_lens,
//                         block_table, kv_slots; prefill also tokens_out)
// Tiles (sizes from TileSizer, i.e. from the target):
//   embedding    columns of the hidden dimension
//   qkv          whole heads of one section (Q/K/V) of one KV-head group
//   attn_decode  one KV head x one block of KV positions (flash-decoding partial)
//   attn_merge   one KV head, all its query heads
//   attn_prefill one KV head x a block of rows
//   o_proj, gate_up, down_proj, lm_head   output columns
//   argmax       all rows
//===----------------------------------------------------------------------===//
#include "mk/Analysis/TileSizing.h"
#include "mk/Transforms/Passes.h"
#include "mk/isa/task_record.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mk {
#define GEN_PASS_DEF_MKTILE
#include "mk/Transforms/Passes.h.inc"
} // namespace mk

using namespace mlir;
using namespace mk;
using namespace mk::task;
namespace mkg = mk::graph;

namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

int64_t dimOf(Value v, unsigned i) {
  return llvm::cast<RankedTensorType>(v.getType()).getDimSize(i);
}

/// State shared by the programs of one module: weights and KV caches.
struct ModuleTensors {
  ModuleOp module;
  OpBuilder builder;
  llvm::StringMap<FlatSymbolRefAttr> byName;
  llvm::StringMap<SmallVector<int64_t, 4>> shapes;
  int64_t kvBlocks = 0;
  int64_t kvBlockSize = 16;

  explicit ModuleTensors(ModuleOp m) : module(m), builder(m.getContext()) {
    builder.setInsertionPointToStart(m.getBody());
  }

  FlatSymbolRefAttr create(StringRef sym, Placement placement, RankedTensorType type,
                           function_ref<void(TensorOp)> extra = {}) {
    auto it = byName.find(sym);
    if (it != byName.end())
      return it->second;
    auto op = builder.create<TensorOp>(
        module.getLoc(), builder.getStringAttr(sym),
        PlacementAttr::get(builder.getContext(), placement), TypeAttr::get(type),
        StringAttr(), IntegerAttr(), FlatSymbolRefAttr(), IntegerAttr());
    if (extra)
      extra(op);
    auto ref = FlatSymbolRefAttr::get(builder.getContext(), sym);
    byName[sym] = ref;
    shapes[sym] = SmallVector<int64_t, 4>(type.getShape());
    return ref;
  }

  FlatSymbolRefAttr weight(mkg::WeightOp w) {
    std::string sym = ("w." + w.getName()).str();
    return create(sym, Placement::Weight, w.getResult().getType(), [&](TensorOp op) {
      op.setWeightNameAttr(builder.getStringAttr(w.getName()));
    });
  }

  FlatSymbolRefAttr kvCache(int64_t layer, bool isValue, int64_t kvHeads,
                            int64_t headDim) {
    std::string sym = "kv.l" + std::to_string(layer) + (isValue ? ".v" : ".k");
    auto type = RankedTensorType::get({kvBlocks, kvBlockSize, kvHeads, headDim},
                                      builder.getBF16Type());
    return create(sym, Placement::KvCache, type, [&](TensorOp op) {
      op.setLayerAttr(builder.getI64IntegerAttr(layer));
    });
  }
};

/// Lowers one fused graph function to one mkt.program.
class ProgramLowering {
public:
  ProgramLowering(ModuleTensors &tensors, const TileSizer &sizer, func::FuncOp func,
                  ProgramKind kind, int64_t maxSeqLen)
      : tensors_(tensors), sizer_(sizer), func_(func), kind_(kind),
        name_(func.getSymName().str()), maxSeqLen_(maxSeqLen),
        builder_(func.getContext()) {}

  LogicalResult run();

private:
  using Box = BoxAttr;

  MLIRContext *ctx() { return builder_.getContext(); }
  bool isDecode() const { return kind_ == ProgramKind::Decode; }

  Box box(FlatSymbolRefAttr t, ArrayRef<int64_t> lo, ArrayRef<int64_t> hi) {
    return BoxAttr::get(ctx(), t, lo, hi);
  }
  /// The whole of a tensor.
  Box whole(FlatSymbolRefAttr t) {
    ArrayRef<int64_t> shape = tensors_.shapes[t.getValue()];
    return box(t, SmallVector<int64_t>(shape.size(), 0), shape);
  }

  FlatSymbolRefAttr stepState(StringRef name, ArrayRef<int64_t> shape) {
    return tensors_.create(name_ + "." + name.str(), Placement::StepState,
                           RankedTensorType::get(shape, builder_.getI32Type()));
  }

  FlatSymbolRefAttr activation(Value value, StringRef name) {
    return activation(llvm::cast<RankedTensorType>(value.getType()), name, value);
  }
  FlatSymbolRefAttr activation(RankedTensorType type, StringRef name, Value value = {}) {
    FlatSymbolRefAttr ref = tensors_.create(
        name_ + "." + name.str(), Placement::Activation, type,
        [&](TensorOp op) { op.setProgramAttr(FlatSymbolRefAttr::get(ctx(), name_)); });
    if (value)
      valueTensor_[value] = ref;
    return ref;
  }

  FailureOr<FlatSymbolRefAttr> tensorOf(Operation *user, Value value) {
    if (auto w = value.getDefiningOp<mkg::WeightOp>())
      return tensors_.weight(w);
    auto it = valueTensor_.find(value);
    if (it != valueTensor_.end())
      return it->second;
    return user->emitOpError() << "mk-tile: operand has no tensor (unsupported producer)";
  }

  Attribute operandOrUnit(Operation *user, Value value) {
    if (!value)
      return UnitAttr::get(ctx());
    FailureOr<FlatSymbolRefAttr> ref = tensorOf(user, value);
    return succeeded(ref) ? Attribute(*ref) : Attribute(UnitAttr::get(ctx()));
  }

  struct TaskSpec {
    std::string name;
    isa::TaskKind kind;
    std::optional<int64_t> layer;
    std::array<int64_t, 6> tile = {0, 0, 0, 0, 0, 0};
    SmallVector<int64_t, 2> aux;
    int64_t flags = 0;
    SmallVector<Attribute> operands;
    SmallVector<Attribute> reads, writes;
    int64_t bytes = 0, flops = 0;
  };
  void emit(const TaskSpec &spec);

  LogicalResult lowerEmbedding(mkg::EmbeddingOp op);
  LogicalResult lowerQkv(mkg::QkvOp op);
  LogicalResult lowerAttention(mkg::AttentionOp op);
  LogicalResult lowerLinear(mkg::LinearOp op);
  LogicalResult lowerGatedMlp(mkg::GatedMlpOp op);
  LogicalResult lowerArgmax(mkg::ArgmaxOp op);
  LogicalResult lowerLmHead(mkg::LinearOp op, mkg::ArgmaxOp argmax);

  ModuleTensors &tensors_;
  const TileSizer &sizer_;
  func::FuncOp func_;
  ProgramKind kind_;
  std::string name_;
  int64_t maxSeqLen_;
  int64_t rows_ = 0;
  OpBuilder builder_;
  ProgramOp program_;
  llvm::DenseMap<Value, FlatSymbolRefAttr> valueTensor_;
  // Per layer: the K and V cache tensors written by that layer's qkv.
  llvm::DenseMap<int64_t, std::pair<FlatSymbolRefAttr, FlatSymbolRefAttr>> caches_;
  FlatSymbolRefAttr tokens_, positions_, seqLens_, blockTable_, kvSlots_;
  FlatSymbolRefAttr lmHeadPartials_;
  int64_t lmHeadTiles_ = 0;
};

void ProgramLowering::emit(const TaskSpec &s) {
  OpBuilder::InsertionGuard guard(builder_);
  builder_.setInsertionPointToEnd(&program_.getBody().front());
  auto task = builder_.create<TaskOp>(
      func_.getLoc(), builder_.getStringAttr(s.name),
      TaskKindAttr::get(builder_.getContext(), s.kind),
      s.layer ? builder_.getI64IntegerAttr(*s.layer) : IntegerAttr(),
      builder_.getDenseI64ArrayAttr(s.tile), builder_.getDenseI64ArrayAttr(s.aux),
      builder_.getI64IntegerAttr(s.flags), builder_.getArrayAttr(s.operands),
      builder_.getArrayAttr(s.reads), builder_.getArrayAttr(s.writes), ArrayAttr(),
      ArrayAttr(), builder_.getI64IntegerAttr(s.bytes),
      builder_.getI64IntegerAttr(s.flops), IntegerAttr());
  (void)task;
}

LogicalResult ProgramLowering::lowerEmbedding(mkg::EmbeddingOp op) {
  FailureOr<FlatSymbolRefAttr> table = tensorOf(op, op.getTable());
  if (failed(table))
    return failure();
  int64_t vocab = dimOf(op.getTable(), 0), hidden = dimOf(op.getTable(), 1);
  FlatSymbolRefAttr out = activation(op.getResult(), "h0");
  // A gather reads one table row per token: size tiles by the bytes it moves.
  int64_t cols = sizer_.columnsPerTile(hidden, rows_, rows_, 1);
  for (int64_t c0 = 0, t = 0; c0 < hidden; c0 += cols, ++t) {
    int64_t c1 = std::min(hidden, c0 + cols);
    TaskSpec s;
    s.name = "embedding." + std::to_string(t);
    s.kind = isa::TaskKind::Embedding;
    s.tile = {0, rows_, c0, c1, 0, 0};
    s.operands = {tokens_, *table, out};
    s.reads = {box(tokens_, {0}, {rows_}), box(*table, {0, c0}, {vocab, c1})};
    s.writes = {box(out, {0, c0}, {rows_, c1})};
    s.bytes = 2 * rows_ * (c1 - c0) * 2;
    emit(s);
  }
  return success();
}

LogicalResult ProgramLowering::lowerQkv(mkg::QkvOp op) {
  int64_t layer = op.getLayer(), heads = op.getNumHeads(), kvHeads = op.getNumKvHeads();
  int64_t hd = op.getHeadDim(), hidden = dimOf(op.getX(), 1);
  int64_t group = heads / kvHeads;
  FailureOr<FlatSymbolRefAttr> x = tensorOf(op, op.getX());
  FailureOr<FlatSymbolRefAttr> norm = tensorOf(op, op.getNormWeight());
  if (failed(x) || failed(norm))
    return failure();
  std::string l = "l" + std::to_string(layer);
  FlatSymbolRefAttr q = activation(op.getQ(), l + ".q");
  FlatSymbolRefAttr kc = tensors_.kvCache(layer, false, kvHeads, hd);
  FlatSymbolRefAttr vc = tensors_.kvCache(layer, true, kvHeads, hd);
  caches_[layer] = {kc, vc};
  int64_t flags = 0;
  if (op.getInterleaved())
    flags |= isa::kFlagRopeInterleaved;
  if (op.getLlama3Scaling())
    flags |= isa::kFlagRopeLlama3;

  int64_t headsPerTile = sizer_.queryHeadsPerTile(group, heads, hd, hidden);
  struct Section {
    isa::QkvSection id;
    const char *name;
    Value w, bias, headNorm;
  };
  Section sections[] = {{isa::QkvSection::Q, "q", op.getWq(), op.getBq(), op.getQNorm()},
                        {isa::QkvSection::K, "k", op.getWk(), op.getBk(), op.getKNorm()},
                        {isa::QkvSection::V, "v", op.getWv(), op.getBv(), Value()}};
  for (int64_t g = 0; g < kvHeads; ++g) {
    for (const Section &sec : sections) {
      FailureOr<FlatSymbolRefAttr> w = tensorOf(op, sec.w);
      if (failed(w))
        return failure();
      // Q tiles split the group's query heads; K and V have one head per group.
      int64_t first = sec.id == isa::QkvSection::Q ? g * group : g;
      int64_t last = sec.id == isa::QkvSection::Q ? (g + 1) * group : g + 1;
      int64_t step = sec.id == isa::QkvSection::Q ? headsPerTile : 1;
      for (int64_t h0 = first, t = 0; h0 < last; h0 += step, ++t) {
        int64_t h1 = std::min(last, h0 + step);
        TaskSpec s;
        s.name =
            l + ".qkv." + sec.name + ".g" + std::to_string(g) + "." + std::to_string(t);
        s.kind = isa::TaskKind::Qkv;
        s.layer = layer;
        s.tile = {0, rows_, h0, h1, 0, 0};
        s.aux = {static_cast<int64_t>(sec.id)};
        s.flags = sec.id == isa::QkvSection::V ? 0 : flags;
        FlatSymbolRefAttr out = sec.id == isa::QkvSection::Q   ? q
                                : sec.id == isa::QkvSection::K ? kc
                                                               : vc;
        s.operands = {*x,
                      *norm,
                      *w,
                      operandOrUnit(op, sec.bias),
                      operandOrUnit(op, sec.headNorm),
                      out,
                      positions_,
                      kvSlots_,
                      blockTable_};
        s.reads = {box(*x, {0, 0}, {rows_, hidden}),
                   whole(*norm),
                   box(*w, {h0 * hd, 0}, {h1 * hd, hidden}),
                   box(positions_, {0}, {rows_}),
                   box(kvSlots_, {0}, {rows_}),
                   whole(blockTable_)};
        if (sec.bias)
          s.reads.push_back(
              box(llvm::cast<FlatSymbolRefAttr>(s.operands[3]), {h0 * hd}, {h1 * hd}));
        if (sec.headNorm)
          s.reads.push_back(whole(llvm::cast<FlatSymbolRefAttr>(s.operands[4])));
        if (sec.id == isa::QkvSection::Q)
          s.writes = {box(q, {0, h0 * hd}, {rows_, h1 * hd})};
        else
          s.writes = {
              box(out, {0, 0, h0, 0}, {tensors_.kvBlocks, tensors_.kvBlockSize, h1, hd})};
        s.bytes =
            (h1 - h0) * hd * hidden * 2 + rows_ * hidden * 2 + rows_ * (h1 - h0) * hd * 2;
        s.flops = 2 * rows_ * (h1 - h0) * hd * hidden;
        emit(s);
      }
    }
  }
  return success();
}

LogicalResult ProgramLowering::lowerAttention(mkg::AttentionOp op) {
  auto cacheType = op.getCache().getType();
  int64_t layer = cacheType.getLayer();
  auto it = caches_.find(layer);
  if (it == caches_.end())
    return op.emitOpError() << "mk-tile: the cache of layer " << layer
                            << " is not produced by an mkg.qkv (run mk-fuse first)";
  auto [kc, vc] = it->second;
  int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads(), hd = op.getHeadDim();
  int64_t group = heads / kvHeads;
  FailureOr<FlatSymbolRefAttr> q = tensorOf(op, op.getQ());
  if (failed(q))
    return failure();
  std::string l = "l" + std::to_string(layer);
  FlatSymbolRefAttr out = activation(op.getResult(), l + ".attn");
  int64_t window =
      op.getSlidingWindow() ? static_cast<int64_t>(*op.getSlidingWindow()) : 0;
  int64_t flags = window ? int64_t(isa::kFlagSlidingWindow) : 0;
  auto cacheHead = [&](FlatSymbolRefAttr c, int64_t g) {
    return box(c, {0, 0, g, 0}, {tensors_.kvBlocks, tensors_.kvBlockSize, g + 1, hd});
  };

  if (isDecode()) {
    int64_t splits = sizer_.decodeKvSplits(kvHeads, maxSeqLen_, tensors_.kvBlockSize);
    int64_t span =
        ceilDiv(ceilDiv(maxSeqLen_, splits), tensors_.kvBlockSize) * tensors_.kvBlockSize;
    auto f32 = builder_.getF32Type();
    FlatSymbolRefAttr po = activation(
        RankedTensorType::get({rows_, heads, splits, hd}, f32), l + ".attn_partial_o");
    FlatSymbolRefAttr plse = activation(
        RankedTensorType::get({rows_, heads, splits}, f32), l + ".attn_partial_lse");
    for (int64_t g = 0; g < kvHeads; ++g) {
      for (int64_t s = 0; s < splits; ++s) {
        int64_t p0 = s * span, p1 = std::min(maxSeqLen_, (s + 1) * span);
        TaskSpec t;
        t.name = l + ".attn.g" + std::to_string(g) + ".s" + std::to_string(s);
        t.kind = isa::TaskKind::AttnDecode;
        t.layer = layer;
        t.tile = {0, rows_, g, g + 1, p0, p1};
        t.aux = {s, window};
        t.flags = flags;
        t.operands = {*q, kc, vc, blockTable_, seqLens_, po, plse};
        t.reads = {box(*q, {0, g * group * hd}, {rows_, (g + 1) * group * hd}),
                   cacheHead(kc, g), cacheHead(vc, g), whole(blockTable_),
                   whole(seqLens_)};
        t.writes = {box(po, {0, g * group, s, 0}, {rows_, (g + 1) * group, s + 1, hd}),
                    box(plse, {0, g * group, s}, {rows_, (g + 1) * group, s + 1})};
        t.bytes = rows_ * (p1 - p0) * hd * 2 * 2;
        t.flops = 4 * rows_ * group * (p1 - p0) * hd;
        emit(t);
      }
      TaskSpec m;
      m.name = l + ".merge.g" + std::to_string(g);
      m.kind = isa::TaskKind::AttnMerge;
      m.layer = layer;
      m.tile = {0, rows_, g, g + 1, 0, splits};
      m.aux = {splits};
      m.operands = {po, plse, out};
      m.reads = {box(po, {0, g * group, 0, 0}, {rows_, (g + 1) * group, splits, hd}),
                 box(plse, {0, g * group, 0}, {rows_, (g + 1) * group, splits})};
      m.writes = {box(out, {0, g * group * hd}, {rows_, (g + 1) * group * hd})};
      m.bytes = rows_ * group * splits * (hd + 1) * 4 + rows_ * group * hd * 2;
      m.flops = 3 * rows_ * group * splits * hd;
      emit(m);
    }
    return success();
  }

  int64_t tileRows = sizer_.prefillAttentionRows(rows_, kvHeads);
  for (int64_t g = 0; g < kvHeads; ++g) {
    for (int64_t r0 = 0, t = 0; r0 < rows_; r0 += tileRows, ++t) {
      int64_t r1 = std::min(rows_, r0 + tileRows);
      TaskSpec p;
      p.name = l + ".attn.g" + std::to_string(g) + ".r" + std::to_string(t);
      p.kind = isa::TaskKind::AttnPrefill;
      p.layer = layer;
      p.tile = {r0, r1, g, g + 1, 0, 0};
      p.aux = {0, window};
      p.flags = flags;
      p.operands = {*q, kc, vc, blockTable_, positions_, out};
      p.reads = {box(*q, {r0, g * group * hd}, {r1, (g + 1) * group * hd}),
                 cacheHead(kc, g), cacheHead(vc, g), whole(blockTable_),
                 box(positions_, {r0}, {r1})};
      p.writes = {box(out, {r0, g * group * hd}, {r1, (g + 1) * group * hd})};
      int64_t keys = std::min(maxSeqLen_, r1 + maxSeqLen_ / 2);
      p.bytes = keys * hd * 2 * 2 + (r1 - r0) * group * hd * 4;
      p.flops = 4 * (r1 - r0) * group * keys * hd;
      emit(p);
    }
  }
  return success();
}

LogicalResult ProgramLowering::lowerLinear(mkg::LinearOp op) {
  if (op.getResult().hasOneUse())
    if (auto argmax = llvm::dyn_cast<mkg::ArgmaxOp>(*op.getResult().getUsers().begin()))
      return lowerLmHead(op, argmax);
  if (!op.getResidual())
    return op.emitOpError() << "mk-tile: a projection without a residual epilogue that "
                               "does not feed an argmax is not a task (run mk-fuse)";
  if (op.getNormWeight() || op.getBias())
    return op.emitOpError()
           << "mk-tile: O/down projections take no norm prologue or bias";
  std::optional<uint64_t> opLayer = op.getLayer();
  if (!opLayer)
    return op.emitOpError() << "mk-tile: an O/down projection needs the `layer` it "
                               "belongs to";
  isa::TaskKind kind;
  std::string what;
  Operation *producer = op.getX().getDefiningOp();
  if (producer && llvm::isa<mkg::AttentionOp>(producer)) {
    kind = isa::TaskKind::OProj;
    what = "o_proj";
  } else if (producer && llvm::isa<mkg::GatedMlpOp>(producer)) {
    kind = isa::TaskKind::DownProj;
    what = "down_proj";
  } else {
    return op.emitOpError() << "mk-tile: a residual projection must follow attention "
                               "(o_proj) or the gated MLP (down_proj)";
  }
  FailureOr<FlatSymbolRefAttr> x = tensorOf(op, op.getX());
  FailureOr<FlatSymbolRefAttr> w = tensorOf(op, op.getWeight());
  FailureOr<FlatSymbolRefAttr> res = tensorOf(op, op.getResidual());
  if (failed(x) || failed(w) || failed(res))
    return failure();
  int64_t layer = *opLayer;
  std::string l = "l" + std::to_string(layer);
  FlatSymbolRefAttr out = activation(
      op.getResult(), l + (kind == isa::TaskKind::OProj ? ".h_attn" : ".h_mlp"));
  int64_t n = dimOf(op.getWeight(), 0), k = dimOf(op.getWeight(), 1);
  int64_t cols = sizer_.columnsPerTile(n, k, rows_, 1);
  for (int64_t c0 = 0, t = 0; c0 < n; c0 += cols, ++t) {
    int64_t c1 = std::min(n, c0 + cols);
    TaskSpec s;
    s.name = l + "." + what + "." + std::to_string(t);
    s.kind = kind;
    s.layer = layer;
    s.tile = {0, rows_, c0, c1, 0, 0};
    s.operands = {*x, *w, *res, out};
    s.reads = {box(*x, {0, 0}, {rows_, k}), box(*w, {c0, 0}, {c1, k}),
               box(*res, {0, c0}, {rows_, c1})};
    s.writes = {box(out, {0, c0}, {rows_, c1})};
    s.bytes = (c1 - c0) * k * 2 + rows_ * k * 2 + 2 * rows_ * (c1 - c0) * 2;
    s.flops = 2 * rows_ * (c1 - c0) * k;
    emit(s);
  }
  return success();
}

LogicalResult ProgramLowering::lowerGatedMlp(mkg::GatedMlpOp op) {
  FailureOr<FlatSymbolRefAttr> x = tensorOf(op, op.getX());
  FailureOr<FlatSymbolRefAttr> norm = tensorOf(op, op.getNormWeight());
  FailureOr<FlatSymbolRefAttr> wg = tensorOf(op, op.getWGate());
  FailureOr<FlatSymbolRefAttr> wu = tensorOf(op, op.getWUp());
  if (failed(x) || failed(norm) || failed(wg) || failed(wu))
    return failure();
  int64_t layer = op.getLayer();
  std::string l = "l" + std::to_string(layer);
  FlatSymbolRefAttr out = activation(op.getResult(), l + ".mlp");
  int64_t inter = dimOf(op.getWGate(), 0), hidden = dimOf(op.getWGate(), 1);
  int64_t cols = sizer_.columnsPerTile(inter, hidden, rows_, 2);
  for (int64_t c0 = 0, t = 0; c0 < inter; c0 += cols, ++t) {
    int64_t c1 = std::min(inter, c0 + cols);
    TaskSpec s;
    s.name = l + ".gate_up." + std::to_string(t);
    s.kind = isa::TaskKind::GateUp;
    s.layer = layer;
    s.tile = {0, rows_, c0, c1, 0, 0};
    s.operands = {*x, *norm, *wg, *wu, out};
    s.reads = {box(*x, {0, 0}, {rows_, hidden}), whole(*norm),
               box(*wg, {c0, 0}, {c1, hidden}), box(*wu, {c0, 0}, {c1, hidden})};
    s.writes = {box(out, {0, c0}, {rows_, c1})};
    s.bytes = 2 * (c1 - c0) * hidden * 2 + rows_ * hidden * 2 + rows_ * (c1 - c0) * 2;
    s.flops = 4 * rows_ * (c1 - c0) * hidden;
    emit(s);
  }
  return success();
}

LogicalResult ProgramLowering::lowerLmHead(mkg::LinearOp op, mkg::ArgmaxOp argmax) {
  if (!op.getNormWeight() || op.getResidual() || op.getBias())
    return op.emitOpError() << "mk-tile: the LM head takes the final RMSNorm as its "
                               "prologue and no bias or residual (run mk-fuse)";
  FailureOr<FlatSymbolRefAttr> x = tensorOf(op, op.getX());
  FailureOr<FlatSymbolRefAttr> norm = tensorOf(op, op.getNormWeight());
  FailureOr<FlatSymbolRefAttr> w = tensorOf(op, op.getWeight());
  if (failed(x) || failed(norm) || failed(w))
    return failure();
  int64_t vocab = dimOf(op.getWeight(), 0), hidden = dimOf(op.getWeight(), 1);
  auto resultType = llvm::cast<RankedTensorType>(op.getResult().getType());
  if (!resultType.getElementType().isF32())
    return op.emitOpError() << "mk-tile: logits must be f32, got " << resultType;
  FlatSymbolRefAttr logits = activation(op.getResult(), "logits");
  int64_t cols = sizer_.columnsPerTile(vocab, hidden, rows_, 1);
  lmHeadTiles_ = ceilDiv(vocab, cols);
  lmHeadPartials_ =
      activation(RankedTensorType::get({rows_, lmHeadTiles_, 2}, builder_.getF32Type()),
                 "partial_max");
  for (int64_t c0 = 0, t = 0; c0 < vocab; c0 += cols, ++t) {
    int64_t c1 = std::min(vocab, c0 + cols);
    TaskSpec s;
    s.name = "lm_head." + std::to_string(t);
    s.kind = isa::TaskKind::LmHead;
    s.tile = {0, rows_, c0, c1, 0, 0};
    s.aux = {t};
    s.operands = {*x, *norm, *w, logits, lmHeadPartials_};
    s.reads = {box(*x, {0, 0}, {rows_, hidden}), whole(*norm),
               box(*w, {c0, 0}, {c1, hidden})};
    s.writes = {box(logits, {0, c0}, {rows_, c1}),
                box(lmHeadPartials_, {0, t, 0}, {rows_, t + 1, 2})};
    s.bytes = (c1 - c0) * hidden * 2 + rows_ * hidden * 2 + rows_ * (c1 - c0) * 4;
    s.flops = 2 * rows_ * (c1 - c0) * hidden;
    emit(s);
  }
  (void)argmax;
  return success();
}

LogicalResult ProgramLowering::lowerArgmax(mkg::ArgmaxOp op) {
  if (!lmHeadPartials_)
    return op.emitOpError() << "mk-tile: argmax must consume the LM head's logits";
  // Decode writes the next step's input tokens in place (the loop-carried edge that
  // lets one launch run many steps); prefill writes a separate output.
  FlatSymbolRefAttr out = isDecode() ? tokens_ : stepState("tokens_out", {rows_});
  TaskSpec s;
  s.name = "argmax";
  s.kind = isa::TaskKind::Argmax;
  s.tile = {0, rows_, 0, lmHeadTiles_, 0, 0};
  s.aux = {lmHeadTiles_};
  s.operands = {lmHeadPartials_, out};
  s.reads = {whole(lmHeadPartials_)};
  s.writes = {box(out, {0}, {rows_})};
  s.bytes = rows_ * lmHeadTiles_ * 8 + rows_ * 4;
  s.flops = rows_ * lmHeadTiles_;
  emit(s);
  return success();
}

LogicalResult ProgramLowering::run() {
  Block &body = func_.getBody().front();
  if (func_.getNumArguments() != 2)
    return func_.emitOpError() << "mk-tile: a program takes (tokens, positions), got "
                               << func_.getNumArguments() << " arguments";
  rows_ = dimOf(body.getArgument(0), 0);
  int64_t seqs = isDecode() ? rows_ : 1;
  int64_t blocksPerSeq = ceilDiv(maxSeqLen_, tensors_.kvBlockSize);
  tokens_ = stepState("tokens", {rows_});
  positions_ = stepState("positions", {rows_});
  seqLens_ = stepState("seq_lens", {seqs});
  blockTable_ = stepState("block_table", {seqs, blocksPerSeq});
  kvSlots_ = stepState("kv_slots", {rows_});
  valueTensor_[body.getArgument(0)] = tokens_;
  valueTensor_[body.getArgument(1)] = positions_;

  // Tensors go at the start of the module, programs at its end.
  OpBuilder moduleBuilder(func_.getContext());
  moduleBuilder.setInsertionPointToEnd(tensors_.module.getBody());
  program_ = moduleBuilder.create<ProgramOp>(func_.getLoc(), name_, kind_, rows_);

  for (Operation &op : body) {
    LogicalResult result =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case<mkg::WeightOp, func::ReturnOp>([](auto) { return success(); })
            .Case<mkg::EmbeddingOp>([&](auto o) { return lowerEmbedding(o); })
            .Case<mkg::QkvOp>([&](auto o) { return lowerQkv(o); })
            .Case<mkg::AttentionOp>([&](auto o) { return lowerAttention(o); })
            .Case<mkg::LinearOp>([&](auto o) { return lowerLinear(o); })
            .Case<mkg::GatedMlpOp>([&](auto o) { return lowerGatedMlp(o); })
            .Case<mkg::ArgmaxOp>([&](auto o) { return lowerArgmax(o); })
            .Default([](Operation *o) {
              return o->emitOpError() << "mk-tile: no task lowers this op; fused graphs "
                                         "only (run mk-fuse first)";
            });
    if (failed(result))
      return failure();
  }
  return success();
}

struct MkTilePass : mk::impl::MkTileBase<MkTilePass> {
  using MkTileBase::MkTileBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const isa::TargetDesc *desc = isa::findTarget(target);
    if (!desc) {
      module.emitError() << "mk-tile: unknown target '" << target
                         << "' (known: host, a100, h100, h200)";
      return signalPassFailure();
    }
    // Options given explicitly win; otherwise the model metadata the builder recorded
    // (so `mk-opt -mk-tile` on a builder's graph tiles for the model's real limits).
    if (auto model = module->getAttrOfType<DictionaryAttr>("mk.model")) {
      if (auto v = model.getAs<IntegerAttr>("max_seq_len"); v && !maxSeqLen.hasValue())
        maxSeqLen = v.getInt();
      if (auto v = model.getAs<IntegerAttr>("kv_block_size");
          v && !kvBlockSize.hasValue())
        kvBlockSize = v.getInt();
    }
    if (maxSeqLen <= 0 || kvBlockSize <= 0 || maxSeqLen % kvBlockSize != 0) {
      // Cast: streamed as pass options, they print as a char.
      module.emitError() << "mk-tile: max-seq-len (" << static_cast<int64_t>(maxSeqLen)
                         << ") must be a positive multiple of kv-block-size ("
                         << static_cast<int64_t>(kvBlockSize) << ")";
      return signalPassFailure();
    }
    TileSizer sizer(*desc);
    // The mkg dialect verified the attribute: a ProgramKindAttr wherever it is set.
    mkg::MKGDialect::ProgramAttrHelper programAttr(module.getContext());
    SmallVector<std::pair<func::FuncOp, ProgramKind>> programs;
    int64_t maxSeqs = 1;
    for (auto func : module.getOps<func::FuncOp>()) {
      mkg::ProgramKindAttr kind = programAttr.getAttr(func);
      if (!kind)
        continue;
      if (func.getNumArguments() >= 1 && kind.getValue() == ProgramKind::Decode)
        maxSeqs = std::max(maxSeqs, dimOf(func.getArgument(0), 0));
      programs.push_back({func, kind.getValue()});
    }
    if (programs.empty()) {
      module.emitError() << "mk-tile: no function has an mkg.program attribute";
      return signalPassFailure();
    }
    ModuleTensors tensors(module);
    tensors.kvBlockSize = kvBlockSize;
    tensors.kvBlocks = maxSeqs * (maxSeqLen / kvBlockSize);
    for (auto &[func, kind] : programs) {
      ProgramLowering lowering(tensors, sizer, func, kind, maxSeqLen);
      if (failed(lowering.run()))
        return signalPassFailure();
    }
    for (auto &[func, kind] : programs)
      func.erase();
  }
};

} // namespace
