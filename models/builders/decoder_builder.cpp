//===- decoder_builder.cpp - The decoder skeleton every family shares ------===//
#include "decoder_builder.h"

#include "mk/Transforms/ModelAttr.h"

using namespace mlir;
using namespace mk::models;
namespace mkg = mk::graph;

LogicalResult DecoderBuilder::checkSupported(Location loc) const {
  if (config_.oProjBias)
    return emitError(loc) << config_.sourceName
                          << ": 'attention_bias' = true puts a bias on o_proj, which mk "
                             "does not support yet";
  // Plans address tensors with 16-bit ids; refuse here rather than after every pass.
  if (uint64_t weights = numWeightTensors(config_); weights >= isa::kNoTensor)
    return emitError(loc) << config_.sourceName << ": " << weights
                          << " weight tensors (with " << config_.numExperts
                          << " experts in each of " << config_.numMoeLayers()
                          << " MoE layers) are more than a plan can address (tensor ids "
                             "are 16-bit: at most "
                          << isa::kNoTensor << " tensors)";
  return success();
}

Value DecoderBuilder::weight(const std::string &name, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, b_->getBF16Type());
  return b_->create<mkg::WeightOp>(loc_, type, b_->getStringAttr(name));
}

Value DecoderBuilder::linear(Value x, const std::string &prefix, int64_t outFeatures,
                             bool bias, IntegerAttr layer) {
  int64_t in = llvm::cast<RankedTensorType>(x.getType()).getDimSize(1);
  Value w = weight(prefix + ".weight", {outFeatures, in});
  Value b = bias ? weight(prefix + ".bias", {outFeatures}) : Value();
  auto type = RankedTensorType::get({rows_, outFeatures}, b_->getBF16Type());
  return b_->create<mkg::LinearOp>(loc_, type, x, w, /*norm_weight=*/Value(), b,
                                   /*residual=*/Value(), /*eps=*/FloatAttr(), layer);
}

Value DecoderBuilder::rope(Value x, IntegerAttr layer) {
  const RopeScaling &s = config_.ropeScaling;
  DenseF32ArrayAttr llama3;
  if (s.type == RopeScalingType::Llama3)
    llama3 = b_->getDenseF32ArrayAttr(
        {static_cast<float>(s.factor), static_cast<float>(s.lowFreqFactor),
         static_cast<float>(s.highFreqFactor),
         static_cast<float>(s.originalMaxPositionEmbeddings)});
  return b_->create<mkg::RopeOp>(
      loc_, x.getType(), x, positions_, b_->getI64IntegerAttr(config_.headDim),
      b_->getF32FloatAttr(config_.ropeTheta),
      options_.interleavedRope ? b_->getUnitAttr() : UnitAttr(), llama3, layer);
}

Value DecoderBuilder::denseMlp(Value m, uint32_t i, IntegerAttr l) {
  const TensorNames &t = names_;
  int64_t inter = config_.intermediateSize, hidden = config_.hiddenSize;
  Value gate = linear(m, tensorName(t.gate, i, ""), inter, false, l);
  Value up = linear(m, tensorName(t.up, i, ""), inter, false, l);
  Value act = b_->create<mkg::SiluMulOp>(loc_, gate, up, l);
  return linear(act, tensorName(t.down, i, ""), hidden, false, l);
}

Value DecoderBuilder::moe(Value m, uint32_t i, IntegerAttr l) {
  const ModelConfig &c = config_;
  const TensorNames &t = names_;
  int64_t hidden = c.hiddenSize, inter = c.moeIntermediateSize, experts = c.numExperts;
  Value router = weight(tensorName(t.router, i, ".weight"), {experts, hidden});
  // Each group's weights in expert order, the groups one after another: mk-tile gives
  // each group consecutive tensor ids in this order.
  auto group = [&](std::string_view path, ArrayRef<int64_t> shape) {
    SmallVector<Value> weights;
    weights.reserve(experts);
    for (uint32_t e = 0; e < c.numExperts; ++e)
      weights.push_back(weight(tensorName(path, i, e, ".weight"), shape));
    return weights;
  };
  SmallVector<Value> gate = group(t.expertGate, {inter, hidden});
  SmallVector<Value> up = group(t.expertUp, {inter, hidden});
  SmallVector<Value> down = group(t.expertDown, {hidden, inter});
  return b_->create<mkg::MoeOp>(
      loc_, m.getType(), m, router, gate, up, down, /*norm_weight=*/Value(),
      /*residual=*/Value(), l, b_->getI64IntegerAttr(experts),
      b_->getI64IntegerAttr(c.numExpertsPerTok),
      c.normTopkProb ? b_->getUnitAttr() : UnitAttr(), /*eps=*/FloatAttr());
}

Value DecoderBuilder::layer(Value h, int64_t i) {
  const ModelConfig &c = config_;
  const TensorNames &t = names_;
  auto p = [i](std::string_view path, std::string_view suffix = "") {
    return tensorName(path, static_cast<uint32_t>(i), suffix);
  };
  auto eps = b_->getF32FloatAttr(c.rmsNormEps);
  int64_t hidden = c.hiddenSize;
  // Every op of the layer carries it: mk-fuse keeps it, mk-tile names tasks by it.
  IntegerAttr l = b_->getI64IntegerAttr(i);

  Value ln = weight(p(t.inputNorm, ".weight"), {hidden});
  Value n = b_->create<mkg::RmsNormOp>(loc_, h, ln, eps, l);
  bool bias = c.attentionBias;
  Value q = linear(n, p(t.q), c.qDim(), bias, l);
  Value k = linear(n, p(t.k), c.kvDim(), bias, l);
  Value v = linear(n, p(t.v), c.kvDim(), bias, l);
  if (c.qkNorm) {
    auto hd = b_->getI64IntegerAttr(c.headDim);
    q = b_->create<mkg::HeadNormOp>(loc_, q, weight(p(t.qNorm, ".weight"), {c.headDim}),
                                    hd, eps, l);
    k = b_->create<mkg::HeadNormOp>(loc_, k, weight(p(t.kNorm, ".weight"), {c.headDim}),
                                    hd, eps, l);
  }
  q = rope(q, l);
  k = rope(k, l);
  auto cacheType = mkg::KvCacheType::get(b_->getContext(), i);
  Value cache = b_->create<mkg::KvAppendOp>(loc_, cacheType, k, v, l);
  IntegerAttr window =
      c.slidingWindow ? b_->getI64IntegerAttr(c.slidingWindow) : IntegerAttr();
  Value attn = b_->create<mkg::AttentionOp>(
      loc_, q.getType(), q, cache, b_->getI64IntegerAttr(c.numHeads),
      b_->getI64IntegerAttr(c.numKvHeads), b_->getI64IntegerAttr(c.headDim), window, l);
  Value o = linear(attn, p(t.o), hidden, false, l);
  h = b_->create<mkg::AddOp>(loc_, h, o, l);

  Value pln = weight(p(t.postAttentionNorm, ".weight"), {hidden});
  Value m = b_->create<mkg::RmsNormOp>(loc_, h, pln, eps, l);
  uint32_t index = static_cast<uint32_t>(i);
  Value mlp = c.isMoeLayer(index) ? moe(m, index, l) : denseMlp(m, index, l);
  return b_->create<mkg::AddOp>(loc_, h, mlp, l);
}

void DecoderBuilder::buildProgram(OpBuilder &builder, Location loc, StringRef name,
                                  mk::task::ProgramKind kind, int64_t rows) {
  b_ = &builder;
  loc_ = loc;
  rows_ = rows;
  const ModelConfig &c = config_;
  auto ids = RankedTensorType::get({rows}, builder.getI32Type());
  auto func =
      builder.create<func::FuncOp>(loc, name, builder.getFunctionType({ids, ids}, {ids}));
  mkg::MKGDialect::ProgramAttrHelper(builder.getContext())
      .setAttr(func, mkg::ProgramKindAttr::get(builder.getContext(), kind));
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(func.addEntryBlock());
  Value tokens = func.getArgument(0);
  positions_ = func.getArgument(1);

  int64_t vocab = c.vocabSize, hidden = c.hiddenSize;
  const TensorNames &t = names_;
  Value table = weight(std::string(t.embedding) + ".weight", {vocab, hidden});
  Value h = builder.create<mkg::EmbeddingOp>(
      loc, RankedTensorType::get({rows, hidden}, builder.getBF16Type()), tokens, table);
  for (uint32_t i = 0; i < c.numLayers; ++i)
    h = layer(h, i);
  Value norm = weight(std::string(t.finalNorm) + ".weight", {hidden});
  Value n = builder.create<mkg::RmsNormOp>(
      loc, h, norm, builder.getF32FloatAttr(c.rmsNormEps), /*layer=*/IntegerAttr());
  Value head = c.tieWordEmbeddings
                   ? table
                   : weight(std::string(t.lmHead) + ".weight", {vocab, hidden});
  Value logits = builder.create<mkg::LinearOp>(
      loc, RankedTensorType::get({rows, vocab}, builder.getF32Type()), n, head, Value(),
      Value(), Value(), FloatAttr(), /*layer=*/IntegerAttr());
  Value next = builder.create<mkg::ArgmaxOp>(loc, ids, logits);
  builder.create<func::ReturnOp>(loc, next);
}

OwningOpRef<ModuleOp> mk::models::buildModelGraph(MLIRContext &context,
                                                  const ModelConfig &config,
                                                  const GraphOptions &options) {
  context.loadDialect<func::FuncDialect, mkg::MKGDialect>();
  Location loc = FileLineColLoc::get(&context, config.sourceName, 0, 0);
  if (options.decodeBatch < 1 || options.prefillChunk < 0) {
    emitError(loc) << "decode batch must be >= 1 and prefill chunk >= 0, got "
                   << options.decodeBatch << " and " << options.prefillChunk;
    return nullptr;
  }
  if (options.kvBlockSize == 0 || options.maxSeqLen == 0 ||
      options.maxSeqLen % options.kvBlockSize != 0) {
    emitError(loc) << "max sequence length " << options.maxSeqLen
                   << " must be a positive multiple of the KV block size "
                   << options.kvBlockSize;
    return nullptr;
  }
  DecoderBuilder builder(config, options);
  if (failed(builder.checkSupported(loc)))
    return nullptr;

  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder b(&context);
  b.setInsertionPointToEnd(module->getBody());
  builder.buildProgram(b, loc, "decode", mk::task::ProgramKind::Decode,
                       options.decodeBatch);
  if (options.prefillChunk > 0)
    builder.buildProgram(b, loc, "prefill", mk::task::ProgramKind::Prefill,
                         options.prefillChunk);

  isa::ModelMeta meta = toModelMeta(config, options.maxSeqLen);
  meta.kvBlockSize = options.kvBlockSize;
  meta.ropeStyle =
      options.interleavedRope ? isa::RopeStyle::Interleaved : isa::RopeStyle::RotateHalf;
  (*module)->setAttr(kModelAttrName, modelMetaToAttr(&context, meta));
  return module;
}
