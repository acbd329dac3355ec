//===- model_meta.cpp - What is derived from a validated ModelConfig ------===//

#include "json_fields.h"
#include "mk/models/config.h"

#include <algorithm>
#include <cstdio>

namespace mk::models {

bool ModelConfig::isMoeLayer(uint32_t layer) const {
  return numExperts > 0 && (layer + 1) % decoderSparseStep == 0 &&
         !std::binary_search(mlpOnlyLayers.begin(), mlpOnlyLayers.end(), layer);
}

uint32_t ModelConfig::numMoeLayers() const {
  uint32_t n = 0;
  for (uint32_t i = 0; i < numLayers; ++i)
    n += isMoeLayer(i);
  return n;
}

mk::isa::ModelMeta toModelMeta(const ModelConfig &cfg, uint32_t maxSeqLen) {
  mk::isa::ModelMeta m;
  m.family = familyName(cfg.family);
  m.vocabSize = cfg.vocabSize;
  m.hiddenSize = cfg.hiddenSize;
  m.intermediateSize = cfg.intermediateSize;
  m.numLayers = cfg.numLayers;
  m.numHeads = cfg.numHeads;
  m.numKvHeads = cfg.numKvHeads;
  m.headDim = cfg.headDim;
  m.maxSeqLen = maxSeqLen ? maxSeqLen : cfg.maxPositionEmbeddings;
  m.slidingWindow = cfg.slidingWindow;
  m.rmsNormEps = static_cast<float>(cfg.rmsNormEps);
  m.ropeTheta = static_cast<float>(cfg.ropeTheta);
  // Every supported family's HF checkpoint uses rotate-half.
  m.ropeStyle = mk::isa::RopeStyle::RotateHalf;
  m.ropeLlama3 = cfg.ropeScaling.type == RopeScalingType::Llama3;
  if (m.ropeLlama3) {
    m.ropeFactor = static_cast<float>(cfg.ropeScaling.factor);
    m.ropeLowFreqFactor = static_cast<float>(cfg.ropeScaling.lowFreqFactor);
    m.ropeHighFreqFactor = static_cast<float>(cfg.ropeScaling.highFreqFactor);
    m.ropeOriginalMaxPos = cfg.ropeScaling.originalMaxPositionEmbeddings;
  }
  m.tieWordEmbeddings = cfg.tieWordEmbeddings;
  m.attentionBias = cfg.attentionBias;
  m.qkNorm = cfg.qkNorm;
  // A config with experts but no MoE layer (num_experts 0, or every layer in
  // mlp_only_layers) makes a dense plan.
  if (cfg.numMoeLayers() > 0) {
    m.numExperts = cfg.numExperts;
    m.numExpertsPerTok = cfg.numExpertsPerTok;
    m.normTopkProb = cfg.normTopkProb;
    m.moeIntermediateSize = cfg.moeIntermediateSize;
  }
  m.bosTokenId = cfg.bosTokenId;
  m.eosTokenIds = cfg.eosTokenIds;
  m.configHash = cfg.configHash;
  return m;
}

uint64_t numParameters(const ModelConfig &cfg) {
  const uint64_t h = cfg.hiddenSize, q = cfg.qDim(), kv = cfg.kvDim();
  uint64_t layer = 2 * h;                              // input + post-attention norms
  layer += h * q + 2 * h * kv + q * h;                 // q, k, v, o projections
  layer += cfg.attentionBias ? q + 2 * kv : 0;         // q/k/v bias
  layer += cfg.oProjBias ? h : 0;                      // o bias
  layer += cfg.qkNorm ? 2 * uint64_t{cfg.headDim} : 0; // q_norm, k_norm
  const uint64_t dense = 3 * h * cfg.intermediateSize; // gate, up, down
  const uint64_t e = cfg.numExperts;                   // router + E x gate, up, down
  const uint64_t moe = e * h + e * 3 * h * cfg.moeIntermediateSize;
  const uint64_t moeLayers = cfg.numMoeLayers();
  uint64_t embed = uint64_t{cfg.vocabSize} * h;
  return embed * (cfg.tieWordEmbeddings ? 1 : 2) + h + layer * cfg.numLayers +
         dense * (cfg.numLayers - moeLayers) + moe * moeLayers;
}

uint64_t numWeightTensors(const ModelConfig &cfg) {
  uint64_t layer = 2 + 4;             // input + post-attention norms, q/k/v/o
  layer += cfg.attentionBias ? 3 : 0; // q/k/v bias
  layer += cfg.oProjBias ? 1 : 0;     // o bias
  layer += cfg.qkNorm ? 2 : 0;        // q_norm, k_norm
  const uint64_t moeLayers = cfg.numMoeLayers();
  const uint64_t moe = 1 + 3 * uint64_t(cfg.numExperts); // router + experts
  return 2 + (cfg.tieWordEmbeddings ? 0 : 1) + layer * cfg.numLayers +
         3 * (cfg.numLayers - moeLayers) + moe * moeLayers;
}

std::string summarize(const ModelConfig &cfg) {
  std::string s =
      std::string(familyName(cfg.family)) + ": " + std::to_string(cfg.numLayers) +
      " layers, hidden " + std::to_string(cfg.hiddenSize) + ", heads " +
      std::to_string(cfg.numHeads) + "/" + std::to_string(cfg.numKvHeads) + " x " +
      std::to_string(cfg.headDim) + ", ffn " + std::to_string(cfg.intermediateSize) +
      ", vocab " + std::to_string(cfg.vocabSize) + ", rope theta " +
      detail::formatNumber(cfg.ropeTheta);
  if (cfg.ropeScaling.type == RopeScalingType::Llama3)
    s += " llama3 x" + detail::formatNumber(cfg.ropeScaling.factor);
  s += ", max positions " + std::to_string(cfg.maxPositionEmbeddings);
  if (uint32_t moeLayers = cfg.numMoeLayers())
    s += ", experts " + std::to_string(cfg.numExperts) + " top-" +
         std::to_string(cfg.numExpertsPerTok) +
         (cfg.normTopkProb ? " renormalized" : "") + " x ffn " +
         std::to_string(cfg.moeIntermediateSize) + " on " + std::to_string(moeLayers) +
         " of " + std::to_string(cfg.numLayers) + " layers";
  if (cfg.slidingWindow)
    s += ", sliding window " + std::to_string(cfg.slidingWindow);
  if (cfg.attentionBias)
    s += ", qkv bias";
  if (cfg.qkNorm)
    s += ", qk-norm";
  if (cfg.tieWordEmbeddings)
    s += ", tied embeddings";
  double n = static_cast<double>(numParameters(cfg));
  const char *unit = n >= 1e9 ? "B" : n >= 1e6 ? "M" : n >= 1e3 ? "K" : "";
  double scale = n >= 1e9 ? 1e-9 : n >= 1e6 ? 1e-6 : n >= 1e3 ? 1e-3 : 1;
  char params[48];
  std::snprintf(params, sizeof params, ", %.2f%s params", n * scale, unit);
  return s + params;
}

} // namespace mk::models
