//===- config_presets_test.cpp - Every bundled preset parses as published -===//

#include "config_test_util.h"

#include <string>
#include <vector>

namespace mk::models::testing {
namespace {

ModelConfig loadPreset(const std::string &name) {
  ModelConfig cfg;
  mk::Status s = loadHfConfig(name, cfg);
  EXPECT_TRUE(s.isOk()) << s.message();
  return cfg;
}

TEST(ConfigPresets, EveryPresetParsesAndValidates) {
  std::vector<std::string> names = listPresets();
  ASSERT_GE(names.size(), 13u);
  for (const std::string &name : names) {
    SCOPED_TRACE(name);
    ModelConfig cfg = loadPreset(name);
    EXPECT_TRUE(validateModelConfig(cfg).isOk());
    EXPECT_EQ(cfg.configHash, mk::isa::fnv1a64(presetText(name)));
    EXPECT_NE(cfg.sourceName.find(name + "/config.json"), std::string::npos);
  }
}

TEST(ConfigPresets, Llama32_1B) {
  ModelConfig c = loadPreset("llama-3.2-1b");
  EXPECT_EQ(c.family, Family::Llama);
  EXPECT_EQ(c.modelType, "llama");
  EXPECT_EQ(c.vocabSize, 128256u);
  EXPECT_EQ(c.hiddenSize, 2048u);
  EXPECT_EQ(c.intermediateSize, 8192u);
  EXPECT_EQ(c.numLayers, 16u);
  EXPECT_EQ(c.numHeads, 32u);
  EXPECT_EQ(c.numKvHeads, 8u);
  EXPECT_EQ(c.headDim, 64u);
  EXPECT_TRUE(c.headDimExplicit);
  EXPECT_EQ(c.maxPositionEmbeddings, 131072u);
  EXPECT_DOUBLE_EQ(c.rmsNormEps, 1e-5);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 500000.0);
  EXPECT_EQ(c.ropeScaling.type, RopeScalingType::Llama3);
  EXPECT_DOUBLE_EQ(c.ropeScaling.factor, 32.0);
  EXPECT_DOUBLE_EQ(c.ropeScaling.lowFreqFactor, 1.0);
  EXPECT_DOUBLE_EQ(c.ropeScaling.highFreqFactor, 4.0);
  EXPECT_EQ(c.ropeScaling.originalMaxPositionEmbeddings, 8192u);
  EXPECT_TRUE(c.tieWordEmbeddings);
  EXPECT_FALSE(c.attentionBias);
  EXPECT_FALSE(c.oProjBias);
  EXPECT_FALSE(c.qkNorm);
  EXPECT_EQ(c.slidingWindow, 0u);
  EXPECT_EQ(c.bosTokenId, 128000);
  EXPECT_EQ(c.eosTokenIds, std::vector<int32_t>{128001});
  EXPECT_EQ(c.dtype, "bfloat16");
  EXPECT_EQ(c.hiddenAct, "silu");
  EXPECT_EQ(numParameters(c), 1235814400ull);
}

TEST(ConfigPresets, Llama31_8B) {
  ModelConfig c = loadPreset("llama-3.1-8b");
  EXPECT_EQ(c.family, Family::Llama);
  EXPECT_EQ(c.vocabSize, 128256u);
  EXPECT_EQ(c.hiddenSize, 4096u);
  EXPECT_EQ(c.intermediateSize, 14336u);
  EXPECT_EQ(c.numLayers, 32u);
  EXPECT_EQ(c.numHeads, 32u);
  EXPECT_EQ(c.numKvHeads, 8u);
  EXPECT_EQ(c.headDim, 128u);
  EXPECT_FALSE(c.headDimExplicit);
  EXPECT_EQ(c.groupSize(), 4u);
  EXPECT_EQ(c.qDim(), 4096u);
  EXPECT_EQ(c.kvDim(), 1024u);
  EXPECT_EQ(c.maxPositionEmbeddings, 131072u);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 500000.0);
  EXPECT_EQ(c.ropeScaling.type, RopeScalingType::Llama3);
  EXPECT_DOUBLE_EQ(c.ropeScaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(c.ropeScaling.lowFreqFactor, 1.0);
  EXPECT_DOUBLE_EQ(c.ropeScaling.highFreqFactor, 4.0);
  EXPECT_EQ(c.ropeScaling.originalMaxPositionEmbeddings, 8192u);
  EXPECT_FALSE(c.tieWordEmbeddings);
  // The base model's config.json names one EOS; the instruct one three.
  EXPECT_EQ(c.bosTokenId, 128000);
  EXPECT_EQ(c.eosTokenIds, std::vector<int32_t>{128001});
  EXPECT_EQ(numParameters(c), 8030261248ull);
  EXPECT_EQ(numWeightTensors(c), 3u + 32 * 9);
}

TEST(ConfigPresets, Llama31_70B) {
  ModelConfig c = loadPreset("llama-3.1-70b");
  EXPECT_EQ(c.family, Family::Llama);
  EXPECT_EQ(c.vocabSize, 128256u);
  EXPECT_EQ(c.hiddenSize, 8192u);
  EXPECT_EQ(c.intermediateSize, 28672u);
  EXPECT_EQ(c.numLayers, 80u);
  EXPECT_EQ(c.numHeads, 64u);
  EXPECT_EQ(c.numKvHeads, 8u);
  EXPECT_EQ(c.headDim, 128u);
  EXPECT_FALSE(c.headDimExplicit);
  EXPECT_EQ(c.groupSize(), 8u);
  EXPECT_EQ(c.kvDim(), 1024u);
  EXPECT_EQ(c.maxPositionEmbeddings, 131072u);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 500000.0);
  EXPECT_EQ(c.ropeScaling.type, RopeScalingType::Llama3);
  EXPECT_DOUBLE_EQ(c.ropeScaling.factor, 8.0);
  EXPECT_FALSE(c.tieWordEmbeddings);
  EXPECT_EQ(c.eosTokenIds, std::vector<int32_t>{128001});
  EXPECT_EQ(numParameters(c), 70553706496ull);
}

TEST(ConfigPresets, Llama31_8B_Instruct) {
  ModelConfig base = loadPreset("llama-3.1-8b");
  ModelConfig c = loadPreset("llama-3.1-8b-instruct");
  EXPECT_EQ(c.eosTokenIds, (std::vector<int32_t>{128001, 128008, 128009}));
  EXPECT_EQ(c.hiddenSize, base.hiddenSize);
  EXPECT_EQ(numParameters(c), numParameters(base));
  EXPECT_NE(c.configHash, base.configHash);
}

TEST(ConfigPresets, Qwen3_8B) {
  ModelConfig c = loadPreset("qwen3-8b");
  EXPECT_EQ(c.family, Family::Qwen3);
  EXPECT_EQ(c.vocabSize, 151936u);
  EXPECT_EQ(c.hiddenSize, 4096u);
  EXPECT_EQ(c.intermediateSize, 12288u);
  EXPECT_EQ(c.numLayers, 36u);
  EXPECT_EQ(c.numHeads, 32u);
  EXPECT_EQ(c.numKvHeads, 8u);
  EXPECT_EQ(c.headDim, 128u);
  EXPECT_TRUE(c.headDimExplicit);
  EXPECT_EQ(c.maxPositionEmbeddings, 40960u);
  EXPECT_DOUBLE_EQ(c.rmsNormEps, 1e-6);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 1000000.0);
  EXPECT_EQ(c.ropeScaling.type, RopeScalingType::None);
  EXPECT_FALSE(c.tieWordEmbeddings);
  EXPECT_TRUE(c.qkNorm);
  EXPECT_FALSE(c.attentionBias);
  EXPECT_FALSE(c.oProjBias);
  EXPECT_EQ(c.slidingWindow, 0u);
  EXPECT_EQ(c.bosTokenId, 151643);
  EXPECT_EQ(c.eosTokenIds, std::vector<int32_t>{151645});
  EXPECT_EQ(numParameters(c), 8190735360ull);
}

TEST(ConfigPresets, Qwen3_30B_A3B) {
  ModelConfig c = loadPreset("qwen3-30b-a3b");
  EXPECT_EQ(c.family, Family::Qwen3Moe);
  EXPECT_EQ(c.modelType, "qwen3_moe");
  EXPECT_EQ(c.vocabSize, 151936u);
  EXPECT_EQ(c.hiddenSize, 2048u);
  EXPECT_EQ(c.intermediateSize, 6144u);
  EXPECT_EQ(c.numLayers, 48u);
  EXPECT_EQ(c.numHeads, 32u);
  EXPECT_EQ(c.numKvHeads, 4u);
  EXPECT_EQ(c.headDim, 128u);
  EXPECT_EQ(c.maxPositionEmbeddings, 40960u);
  EXPECT_DOUBLE_EQ(c.rmsNormEps, 1e-6);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 1000000.0);
  EXPECT_TRUE(c.qkNorm);
  EXPECT_FALSE(c.attentionBias);
  EXPECT_EQ(c.slidingWindow, 0u);
  EXPECT_FALSE(c.tieWordEmbeddings);
  EXPECT_EQ(c.numExperts, 128u);
  EXPECT_EQ(c.numExpertsPerTok, 8u);
  EXPECT_TRUE(c.normTopkProb);
  EXPECT_EQ(c.moeIntermediateSize, 768u);
  EXPECT_EQ(c.decoderSparseStep, 1u);
  EXPECT_TRUE(c.mlpOnlyLayers.empty());
  EXPECT_EQ(c.numMoeLayers(), 48u);
  EXPECT_EQ(c.bosTokenId, 151643);
  EXPECT_EQ(c.eosTokenIds, std::vector<int32_t>{151645});
  EXPECT_EQ(numParameters(c), 30532122624ull); // "30.5B" on the model card
  // 48 x (8 attention and norm tensors + router + 128 x 3) + embed, norm, lm_head.
  EXPECT_EQ(numWeightTensors(c), 18867u);
}

TEST(ConfigPresets, Mixtral_8x7B) {
  ModelConfig c = loadPreset("mixtral-8x7b");
  EXPECT_EQ(c.family, Family::Mixtral);
  EXPECT_EQ(c.modelType, "mixtral");
  EXPECT_EQ(c.vocabSize, 32000u);
  EXPECT_EQ(c.hiddenSize, 4096u);
  EXPECT_EQ(c.intermediateSize, 14336u);
  EXPECT_EQ(c.numLayers, 32u);
  EXPECT_EQ(c.numHeads, 32u);
  EXPECT_EQ(c.numKvHeads, 8u);
  EXPECT_EQ(c.headDim, 128u);
  EXPECT_FALSE(c.headDimExplicit);
  EXPECT_EQ(c.maxPositionEmbeddings, 32768u);
  EXPECT_DOUBLE_EQ(c.rmsNormEps, 1e-5);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 1000000.0);
  EXPECT_FALSE(c.qkNorm);
  EXPECT_FALSE(c.attentionBias);
  EXPECT_EQ(c.slidingWindow, 0u); // null
  EXPECT_EQ(c.numExperts, 8u);
  EXPECT_EQ(c.numExpertsPerTok, 2u);
  EXPECT_TRUE(c.normTopkProb);
  EXPECT_EQ(c.moeIntermediateSize, 14336u);
  EXPECT_EQ(c.numMoeLayers(), 32u);
  EXPECT_EQ(c.bosTokenId, 1);
  EXPECT_EQ(c.eosTokenIds, std::vector<int32_t>{2});
  EXPECT_EQ(numParameters(c), 46702792704ull); // "46.7B" on the model card
  EXPECT_EQ(numWeightTensors(c), 3u + 32 * (6 + 1 + 8 * 3));
}

TEST(ConfigPresets, TinyQwen3Moe) {
  ModelConfig c = loadPreset("tiny-qwen3-moe");
  EXPECT_EQ(c.family, Family::Qwen3Moe);
  EXPECT_TRUE(c.qkNorm);
  EXPECT_EQ(c.headDim, 32u);
  EXPECT_EQ(c.numLayers, 3u);
  EXPECT_EQ(c.numExperts, 8u);
  EXPECT_EQ(c.numExpertsPerTok, 2u);
  EXPECT_EQ(c.moeIntermediateSize, 32u);
  EXPECT_EQ(c.intermediateSize, 128u);
  EXPECT_TRUE(c.normTopkProb);
  EXPECT_EQ(c.mlpOnlyLayers, std::vector<uint32_t>{1});
  EXPECT_TRUE(c.isMoeLayer(0));
  EXPECT_FALSE(c.isMoeLayer(1));
  EXPECT_TRUE(c.isMoeLayer(2));
}

TEST(ConfigPresets, TinyMixtral) {
  ModelConfig c = loadPreset("tiny-mixtral");
  EXPECT_EQ(c.family, Family::Mixtral);
  EXPECT_EQ(c.numKvHeads, 1u);
  EXPECT_EQ(c.headDim, 16u);
  EXPECT_EQ(c.numExperts, 4u);
  EXPECT_EQ(c.numExpertsPerTok, 2u);
  EXPECT_EQ(c.moeIntermediateSize, 128u);
  EXPECT_EQ(c.numMoeLayers(), 2u);
  EXPECT_EQ(c.slidingWindow, 0u);
}

TEST(ConfigPresets, TinyLlama) {
  ModelConfig c = loadPreset("tiny-llama");
  EXPECT_EQ(c.family, Family::Llama);
  EXPECT_EQ(c.hiddenSize, 64u);
  EXPECT_EQ(c.numLayers, 2u);
  EXPECT_EQ(c.numHeads, 4u);
  EXPECT_EQ(c.numKvHeads, 2u);
  EXPECT_EQ(c.headDim, 16u);
  EXPECT_EQ(c.intermediateSize, 128u);
  EXPECT_EQ(c.vocabSize, 256u);
  EXPECT_TRUE(c.tieWordEmbeddings);
  EXPECT_EQ(c.ropeScaling.type, RopeScalingType::Llama3);
  EXPECT_EQ(c.ropeScaling.originalMaxPositionEmbeddings, 64u);
}

TEST(ConfigPresets, TinyQwen3) {
  ModelConfig c = loadPreset("tiny-qwen3");
  EXPECT_EQ(c.family, Family::Qwen3);
  EXPECT_TRUE(c.qkNorm);
  EXPECT_EQ(c.headDim, 32u);
  EXPECT_NE(c.headDim * c.numHeads, c.hiddenSize);
  EXPECT_EQ(c.qDim(), 128u);
  EXPECT_EQ(c.kvDim(), 64u);
  EXPECT_EQ(c.eosTokenIds, (std::vector<int32_t>{2, 3}));
  EXPECT_FALSE(c.tieWordEmbeddings);
}

TEST(ConfigPresets, TinyMistral) {
  ModelConfig c = loadPreset("tiny-mistral");
  EXPECT_EQ(c.family, Family::Mistral);
  EXPECT_EQ(c.slidingWindow, 16u);
  EXPECT_EQ(c.numKvHeads, 1u);
  EXPECT_FALSE(c.attentionBias);
  EXPECT_FALSE(c.qkNorm);
}

TEST(ConfigPresets, TinyQwen2) {
  ModelConfig c = loadPreset("tiny-qwen2");
  EXPECT_EQ(c.family, Family::Qwen2);
  EXPECT_TRUE(c.attentionBias);
  EXPECT_FALSE(c.oProjBias);
  EXPECT_FALSE(c.qkNorm);
  EXPECT_EQ(c.numKvHeads, c.numHeads);
  EXPECT_EQ(c.slidingWindow, 0u); // use_sliding_window false
  EXPECT_TRUE(c.tieWordEmbeddings);
}

} // namespace
} // namespace mk::models::testing
