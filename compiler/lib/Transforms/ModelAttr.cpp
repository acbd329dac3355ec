//===- ModelAttr.cpp - The `mk.model` module attribute ----------------------===//
#include "mk/Transforms/ModelAttr.h"

#include "mlir/IR/Builders.h"

#include <cinttypes>
#include <cstdio>

using namespace mlir;
using namespace mk;

DictionaryAttr mk::modelMetaToAttr(MLIRContext *ctx, const isa::ModelMeta &m) {
  Builder b(ctx);
  auto i = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  auto f = [&](float v) { return b.getF32FloatAttr(v); };
  char hash[32];
  std::snprintf(hash, sizeof(hash), "%016" PRIx64, m.configHash);
  SmallVector<int64_t> eos(m.eosTokenIds.begin(), m.eosTokenIds.end());
  NamedAttribute entries[] = {
      b.getNamedAttr("family", b.getStringAttr(m.family)),
      b.getNamedAttr("vocab_size", i(m.vocabSize)),
      b.getNamedAttr("hidden_size", i(m.hiddenSize)),
      b.getNamedAttr("intermediate_size", i(m.intermediateSize)),
      b.getNamedAttr("num_layers", i(m.numLayers)),
      b.getNamedAttr("num_heads", i(m.numHeads)),
      b.getNamedAttr("num_kv_heads", i(m.numKvHeads)),
      b.getNamedAttr("head_dim", i(m.headDim)),
      b.getNamedAttr("max_seq_len", i(m.maxSeqLen)),
      b.getNamedAttr("kv_block_size", i(m.kvBlockSize)),
      b.getNamedAttr("sliding_window", i(m.slidingWindow)),
      b.getNamedAttr("rms_norm_eps", f(m.rmsNormEps)),
      b.getNamedAttr("rope_theta", f(m.ropeTheta)),
      b.getNamedAttr("rope_interleaved",
                     b.getBoolAttr(m.ropeStyle == isa::RopeStyle::Interleaved)),
      b.getNamedAttr("rope_llama3", b.getBoolAttr(m.ropeLlama3)),
      b.getNamedAttr("rope_factor", f(m.ropeFactor)),
      b.getNamedAttr("rope_low_freq_factor", f(m.ropeLowFreqFactor)),
      b.getNamedAttr("rope_high_freq_factor", f(m.ropeHighFreqFactor)),
      b.getNamedAttr("rope_original_max_pos", i(m.ropeOriginalMaxPos)),
      b.getNamedAttr("tie_word_embeddings", b.getBoolAttr(m.tieWordEmbeddings)),
      b.getNamedAttr("attention_bias", b.getBoolAttr(m.attentionBias)),
      b.getNamedAttr("qk_norm", b.getBoolAttr(m.qkNorm)),
      b.getNamedAttr("bos_token_id", i(m.bosTokenId)),
      b.getNamedAttr("eos_token_ids", b.getDenseI64ArrayAttr(eos)),
      b.getNamedAttr("config_hash", b.getStringAttr(hash)),
  };
  SmallVector<NamedAttribute> all(std::begin(entries), std::end(entries));
  // Dense models carry no expert keys, so their IR is what it was before MoE.
  if (m.numExperts) {
    all.push_back(b.getNamedAttr("num_experts", i(m.numExperts)));
    all.push_back(b.getNamedAttr("num_experts_per_tok", i(m.numExpertsPerTok)));
    all.push_back(b.getNamedAttr("norm_topk_prob", b.getBoolAttr(m.normTopkProb)));
    all.push_back(b.getNamedAttr("moe_intermediate_size", i(m.moeIntermediateSize)));
  }
  return b.getDictionaryAttr(all);
}

FailureOr<isa::ModelMeta> mk::modelMetaFromModule(ModuleOp module) {
  auto dict = module->getAttrOfType<DictionaryAttr>(kModelAttrName);
  if (!dict)
    return module.emitError() << "module has no '" << kModelAttrName
                              << "' dictionary (the graph builder sets it)";
  bool ok = true;
  auto fail = [&](StringRef key, StringRef what) {
    if (ok)
      module.emitError() << "'" << kModelAttrName << "." << key << "' must be " << what;
    ok = false;
  };
  auto getInt = [&](StringRef key) -> int64_t {
    auto a = dict.getAs<IntegerAttr>(key);
    if (!a)
      return fail(key, "an integer"), 0;
    return a.getInt();
  };
  auto getFloat = [&](StringRef key) -> float {
    auto a = dict.getAs<FloatAttr>(key);
    if (!a)
      return fail(key, "a float"), 0.0f;
    return a.getValueAsDouble();
  };
  auto getBool = [&](StringRef key) -> bool {
    auto a = dict.getAs<BoolAttr>(key);
    if (!a)
      return fail(key, "a bool"), false;
    return a.getValue();
  };
  isa::ModelMeta m;
  auto family = dict.getAs<StringAttr>("family");
  if (!family)
    fail("family", "a string");
  else
    m.family = family.str();
  m.vocabSize = getInt("vocab_size");
  m.hiddenSize = getInt("hidden_size");
  m.intermediateSize = getInt("intermediate_size");
  m.numLayers = getInt("num_layers");
  m.numHeads = getInt("num_heads");
  m.numKvHeads = getInt("num_kv_heads");
  m.headDim = getInt("head_dim");
  m.maxSeqLen = getInt("max_seq_len");
  m.kvBlockSize = getInt("kv_block_size");
  m.slidingWindow = getInt("sliding_window");
  m.rmsNormEps = getFloat("rms_norm_eps");
  m.ropeTheta = getFloat("rope_theta");
  m.ropeStyle = getBool("rope_interleaved") ? isa::RopeStyle::Interleaved
                                            : isa::RopeStyle::RotateHalf;
  m.ropeLlama3 = getBool("rope_llama3");
  m.ropeFactor = getFloat("rope_factor");
  m.ropeLowFreqFactor = getFloat("rope_low_freq_factor");
  m.ropeHighFreqFactor = getFloat("rope_high_freq_factor");
  m.ropeOriginalMaxPos = getInt("rope_original_max_pos");
  m.tieWordEmbeddings = getBool("tie_word_embeddings");
  m.attentionBias = getBool("attention_bias");
  m.qkNorm = getBool("qk_norm");
  m.bosTokenId = getInt("bos_token_id");
  if (auto eos = dict.getAs<DenseI64ArrayAttr>("eos_token_ids"))
    m.eosTokenIds.assign(eos.asArrayRef().begin(), eos.asArrayRef().end());
  else
    fail("eos_token_ids", "an i64 array");
  // Absent in dense models; when num_experts is there, so are the others.
  if (dict.get("num_experts")) {
    m.numExperts = getInt("num_experts");
    m.numExpertsPerTok = getInt("num_experts_per_tok");
    m.normTopkProb = getBool("norm_topk_prob");
    m.moeIntermediateSize = getInt("moe_intermediate_size");
  }
  auto hash = dict.getAs<StringAttr>("config_hash");
  if (!hash || hash.getValue().getAsInteger(16, m.configHash))
    fail("config_hash", "a hexadecimal string");
  if (!ok)
    return failure();
  return m;
}

FailureOr<int64_t> mk::tensorParallelOf(ModuleOp module) {
  Attribute attr = module->getAttr(kTensorParallelAttrName);
  if (!attr)
    return 1;
  auto ranks = llvm::dyn_cast<IntegerAttr>(attr);
  if (!ranks || ranks.getInt() < 1)
    return module.emitError() << "'" << kTensorParallelAttrName
                              << "' must be a positive integer, got " << attr;
  return ranks.getInt();
}
