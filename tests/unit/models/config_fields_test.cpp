//===- config_fields_test.cpp - Defaults and per-family interpretation ----===//
//
// What transformers makes of a key (or of its absence) is what the checkpoint's
// weights were trained with; these cases pin that interpretation down.
//===----------------------------------------------------------------------===//

#include "config_test_util.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mk::models::testing {
namespace {

using ::testing::HasSubstr;

TEST(ConfigFields, EosAsIntegerListNullOrAbsent) {
  Json j = presetJson("llama-3.1-8b");
  EXPECT_EQ(parseOk(j).eosTokenIds, std::vector<int32_t>{128001});
  j["eos_token_id"] = Json::array({128001, 128008, 128009});
  EXPECT_EQ(parseOk(j).eosTokenIds, (std::vector<int32_t>{128001, 128008, 128009}));
  j["eos_token_id"] = Json::array();
  EXPECT_TRUE(parseOk(j).eosTokenIds.empty());
  j["eos_token_id"] = nullptr;
  EXPECT_TRUE(parseOk(j).eosTokenIds.empty());
  j.erase("eos_token_id");
  EXPECT_TRUE(parseOk(j).eosTokenIds.empty());
}

TEST(ConfigFields, BosAbsentOrNullIsNone) {
  Json j = presetJson("llama-3.1-8b");
  j["bos_token_id"] = nullptr;
  EXPECT_EQ(parseOk(j).bosTokenId, -1);
  j.erase("bos_token_id");
  EXPECT_EQ(parseOk(j).bosTokenId, -1);
  j["bos_token_id"] = 0;
  EXPECT_EQ(parseOk(j).bosTokenId, 0);
}

TEST(ConfigFields, HeadDimExplicitAndImplicit) {
  Json j = presetJson("tiny-llama"); // hidden 64, 4 heads
  ModelConfig c = parseOk(j);
  EXPECT_EQ(c.headDim, 16u);
  EXPECT_FALSE(c.headDimExplicit);
  j["head_dim"] = 32; // Llama honours head_dim even when != hidden / heads
  c = parseOk(j);
  EXPECT_EQ(c.headDim, 32u);
  EXPECT_TRUE(c.headDimExplicit);
  EXPECT_EQ(c.qDim(), 128u);
  j["head_dim"] = nullptr; // null = absent
  EXPECT_EQ(parseOk(j).headDim, 16u);

  // Qwen3 without head_dim: Qwen3Config's default 128, not hidden / heads.
  Json q = presetJson("tiny-qwen3");
  q.erase("head_dim");
  c = parseOk(q);
  EXPECT_EQ(c.headDim, 128u);
  EXPECT_FALSE(c.headDimExplicit);

  Json m = presetJson("tiny-mistral");
  m["head_dim"] = 8;
  EXPECT_EQ(parseOk(m).headDim, 8u);
}

TEST(ConfigFields, KvHeadsDefaultToHeads) {
  Json j = presetJson("tiny-llama");
  j.erase("num_key_value_heads");
  EXPECT_EQ(parseOk(j).numKvHeads, 4u);
  j["num_key_value_heads"] = nullptr;
  EXPECT_EQ(parseOk(j).numKvHeads, 4u);
  j["num_key_value_heads"] = 1;
  EXPECT_EQ(parseOk(j).numKvHeads, 1u);
}

TEST(ConfigFields, OptionalKeyDefaults) {
  Json j = presetJson("tiny-llama");
  for (const char *key :
       {"rms_norm_eps", "rope_theta", "rope_scaling", "hidden_act", "tie_word_embeddings",
        "attention_bias", "mlp_bias", "torch_dtype", "bos_token_id", "eos_token_id"})
    j.erase(key);
  ModelConfig c = parseOk(j);
  EXPECT_DOUBLE_EQ(c.rmsNormEps, 1e-6);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 10000.0);
  EXPECT_EQ(c.ropeScaling.type, RopeScalingType::None);
  EXPECT_EQ(c.hiddenAct, "silu");
  EXPECT_FALSE(c.tieWordEmbeddings);
  EXPECT_FALSE(c.attentionBias);
  EXPECT_EQ(c.dtype, "");
  EXPECT_EQ(c.bosTokenId, -1);
  EXPECT_TRUE(c.eosTokenIds.empty());
}

TEST(ConfigFields, RopeScalingNoneForms) {
  Json j = presetJson("llama-3.1-8b");
  j["rope_scaling"] = nullptr;
  EXPECT_EQ(parseOk(j).ropeScaling.type, RopeScalingType::None);
  j["rope_scaling"] = {{"rope_type", "default"}};
  EXPECT_EQ(parseOk(j).ropeScaling.type, RopeScalingType::None);
  j["rope_scaling"] = {{"type", "default"}};
  EXPECT_EQ(parseOk(j).ropeScaling.type, RopeScalingType::None);
  j["rope_scaling"] = {{"type", "llama3"},
                       {"factor", 8.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};
  EXPECT_EQ(parseOk(j).ropeScaling.type, RopeScalingType::Llama3);
}

TEST(ConfigFields, RopeParametersTransformersV5) {
  Json j = presetJson("llama-3.1-8b");
  j.erase("rope_theta");
  j.erase("rope_scaling");
  j["rope_parameters"] = {
      {"rope_type", "llama3"},   {"rope_theta", 500000.0},
      {"factor", 8.0},           {"low_freq_factor", 1.0},
      {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  ModelConfig c = parseOk(j);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 500000.0);
  EXPECT_EQ(c.ropeScaling.type, RopeScalingType::Llama3);
  EXPECT_DOUBLE_EQ(c.ropeScaling.factor, 8.0);

  Json q = presetJson("qwen3-8b");
  q.erase("rope_theta");
  q.erase("rope_scaling");
  q["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1000000.0}};
  c = parseOk(q);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 1000000.0);
  EXPECT_EQ(c.ropeScaling.type, RopeScalingType::None);

  q["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}}}};
  EXPECT_THAT(errorOf(q), HasSubstr("'rope_parameters' per layer type is not supported"));
}

TEST(ConfigFields, DtypeKeys) {
  Json j = presetJson("tiny-llama");
  EXPECT_EQ(parseOk(j).dtype, "bfloat16");
  j["dtype"] = "float16"; // transformers >= 4.56 spelling wins
  EXPECT_EQ(parseOk(j).dtype, "float16");
}

TEST(ConfigFields, AttentionBiasPerFamily) {
  Json llama = presetJson("tiny-llama");
  llama["attention_bias"] = true;
  ModelConfig c = parseOk(llama);
  EXPECT_TRUE(c.attentionBias);
  EXPECT_TRUE(c.oProjBias);

  // Qwen2Attention: q/k/v bias always, o never, whatever the file says.
  Json qwen2 = presetJson("tiny-qwen2");
  qwen2["attention_bias"] = false;
  c = parseOk(qwen2);
  EXPECT_TRUE(c.attentionBias);
  EXPECT_FALSE(c.oProjBias);

  Json qwen3 = presetJson("tiny-qwen3");
  qwen3["attention_bias"] = true;
  c = parseOk(qwen3);
  EXPECT_TRUE(c.attentionBias);
  EXPECT_TRUE(c.oProjBias);

  Json mistral = presetJson("tiny-mistral");
  mistral["attention_bias"] = true; // MistralAttention has no bias
  c = parseOk(mistral);
  EXPECT_FALSE(c.attentionBias);
  EXPECT_FALSE(c.oProjBias);
}

TEST(ConfigFields, MistralSlidingWindow) {
  Json j = presetJson("tiny-mistral");
  EXPECT_EQ(parseOk(j).slidingWindow, 16u);
  j["sliding_window"] = nullptr; // Mistral-7B-v0.2+: full attention
  EXPECT_EQ(parseOk(j).slidingWindow, 0u);
  j.erase("sliding_window"); // MistralConfig's default (v0.1)
  EXPECT_EQ(parseOk(j).slidingWindow, 4096u);
}

TEST(ConfigFields, QwenSlidingWindowNeedsUseSlidingWindow) {
  Json j = presetJson("tiny-qwen2"); // sliding_window 256, use_sliding_window false
  EXPECT_EQ(parseOk(j).slidingWindow, 0u);
  j["use_sliding_window"] = true; // max_window_layers 2 of 2: no layer slides
  EXPECT_EQ(parseOk(j).slidingWindow, 0u);
  j["max_window_layers"] = 0; // every layer slides
  EXPECT_EQ(parseOk(j).slidingWindow, 256u);
  j["sliding_window"] = nullptr;
  EXPECT_EQ(parseOk(j).slidingWindow, 0u);
  j.erase("sliding_window"); // Qwen2Config default 4096
  EXPECT_EQ(parseOk(j).slidingWindow, 4096u);

  Json q = presetJson("tiny-qwen3");
  q["use_sliding_window"] = true;
  q["sliding_window"] = 64;
  q["layer_types"] = {"sliding_attention", "sliding_attention", "sliding_attention"};
  EXPECT_EQ(parseOk(q).slidingWindow, 64u);
  q["layer_types"] = {"full_attention", "full_attention", "full_attention"};
  EXPECT_EQ(parseOk(q).slidingWindow, 0u);

  Json l = presetJson("tiny-llama"); // Llama has no sliding window
  l["sliding_window"] = 16;
  EXPECT_EQ(parseOk(l).slidingWindow, 0u);
}

TEST(ConfigFields, ToModelMeta) {
  ModelConfig c;
  ASSERT_TRUE(loadHfConfig("llama-3.1-8b-instruct", c));
  mk::isa::ModelMeta m = toModelMeta(c, 0);
  EXPECT_EQ(m.family, "llama");
  EXPECT_EQ(m.vocabSize, 128256u);
  EXPECT_EQ(m.hiddenSize, 4096u);
  EXPECT_EQ(m.intermediateSize, 14336u);
  EXPECT_EQ(m.numLayers, 32u);
  EXPECT_EQ(m.numHeads, 32u);
  EXPECT_EQ(m.numKvHeads, 8u);
  EXPECT_EQ(m.headDim, 128u);
  EXPECT_EQ(m.maxSeqLen, 131072u);
  EXPECT_EQ(m.slidingWindow, 0u);
  EXPECT_FLOAT_EQ(m.rmsNormEps, 1e-5f);
  EXPECT_FLOAT_EQ(m.ropeTheta, 500000.0f);
  EXPECT_EQ(m.ropeStyle, mk::isa::RopeStyle::RotateHalf);
  EXPECT_TRUE(m.ropeLlama3);
  EXPECT_FLOAT_EQ(m.ropeFactor, 8.0f);
  EXPECT_FLOAT_EQ(m.ropeLowFreqFactor, 1.0f);
  EXPECT_FLOAT_EQ(m.ropeHighFreqFactor, 4.0f);
  EXPECT_EQ(m.ropeOriginalMaxPos, 8192u);
  EXPECT_FALSE(m.tieWordEmbeddings);
  EXPECT_FALSE(m.attentionBias);
  EXPECT_FALSE(m.qkNorm);
  EXPECT_EQ(m.bosTokenId, 128000);
  EXPECT_EQ(m.eosTokenIds, (std::vector<int32_t>{128001, 128008, 128009}));
  EXPECT_EQ(m.configHash, c.configHash);
  EXPECT_EQ(toModelMeta(c, 4096).maxSeqLen, 4096u);

  ASSERT_TRUE(loadHfConfig("tiny-qwen3", c));
  m = toModelMeta(c, 128);
  EXPECT_EQ(m.family, "qwen3");
  EXPECT_TRUE(m.qkNorm);
  EXPECT_FALSE(m.ropeLlama3);
  EXPECT_EQ(m.headDim, 32u);

  ASSERT_TRUE(loadHfConfig("tiny-mistral", c));
  EXPECT_EQ(toModelMeta(c, 0).slidingWindow, 16u);
  ASSERT_TRUE(loadHfConfig("tiny-qwen2", c));
  EXPECT_TRUE(toModelMeta(c, 0).attentionBias);
}

TEST(ConfigFields, HashIsOfTheRawBytes) {
  std::string text = presetText("tiny-llama");
  ModelConfig a, b;
  ASSERT_TRUE(parseHfConfig(text, "a", a));
  ASSERT_TRUE(parseHfConfig(text + "\n", "b", b)); // same JSON, other bytes
  EXPECT_EQ(a.configHash, mk::isa::fnv1a64(text));
  EXPECT_NE(a.configHash, b.configHash);
}

TEST(ConfigFields, NumParametersCountsBiasesAndNorms) {
  ModelConfig c;
  ASSERT_TRUE(loadHfConfig("tiny-qwen2", c));
  // embed 256*64 (tied) + final norm 64 + 2 layers of
  // (2 norms 128 + q,k,v,o 4*64*64 + qkv bias 3*64 + mlp 3*64*128).
  uint64_t layer = 128 + 4 * 64 * 64 + 3 * 64 + 3 * 64 * 128;
  EXPECT_EQ(numParameters(c), 256u * 64 + 64 + 2 * layer);
}

TEST(ConfigFields, Qwen3MoeLayerTypes) {
  // Qwen3MoeDecoderLayer: MoE iff num_experts > 0, (i + 1) % decoder_sparse_step == 0
  // and i not in mlp_only_layers.
  Json j = presetJson("tiny-qwen3-moe");
  j["num_hidden_layers"] = 6;
  j["max_window_layers"] = 6;
  auto moeLayers = [](const ModelConfig &c) {
    std::vector<uint32_t> layers;
    for (uint32_t i = 0; i < c.numLayers; ++i)
      if (c.isMoeLayer(i))
        layers.push_back(i);
    EXPECT_EQ(layers.size(), c.numMoeLayers());
    return layers;
  };
  EXPECT_EQ(moeLayers(parseOk(j)), (std::vector<uint32_t>{0, 2, 3, 4, 5}));
  j["decoder_sparse_step"] = 2;
  EXPECT_EQ(moeLayers(parseOk(j)), (std::vector<uint32_t>{3, 5}));
  j["mlp_only_layers"] = Json::array({5, 1, 5});
  ModelConfig c = parseOk(j);
  EXPECT_EQ(c.mlpOnlyLayers, (std::vector<uint32_t>{1, 5}));
  EXPECT_EQ(moeLayers(c), (std::vector<uint32_t>{3}));
  j.erase("decoder_sparse_step");
  j["mlp_only_layers"] = nullptr; // Qwen3MoeConfig: None means []
  EXPECT_EQ(moeLayers(parseOk(j)).size(), 6u);
  // num_experts 0: no layer builds a sparse block, the other MoE keys are unused.
  j["num_experts"] = 0;
  j.erase("moe_intermediate_size");
  j.erase("num_experts_per_tok");
  c = parseOk(j);
  EXPECT_EQ(c.numExperts, 0u);
  EXPECT_EQ(c.numMoeLayers(), 0u);
}

TEST(ConfigFields, Qwen3MoeKeys) {
  Json j = presetJson("qwen3-30b-a3b");
  j.erase("norm_topk_prob"); // Qwen3MoeConfig's default is false
  EXPECT_FALSE(parseOk(j).normTopkProb);
  // transformers v5 writes num_experts as num_local_experts.
  j = presetJson("qwen3-30b-a3b");
  j.erase("num_experts");
  j["num_local_experts"] = 64;
  EXPECT_EQ(parseOk(j).numExperts, 64u);
  j["num_experts"] = 64; // both spellings, the same value
  EXPECT_EQ(parseOk(j).numExperts, 64u);
  // Qwen3MoeConfig has no head_dim: without one, heads split hidden.
  j = presetJson("qwen3-30b-a3b");
  j.erase("head_dim");
  EXPECT_EQ(parseOk(j).headDim, 64u);
}

TEST(ConfigFields, MixtralKeys) {
  Json j = presetJson("mixtral-8x7b");
  // Routing weights are always renormalized; experts are intermediate_size wide.
  j["norm_topk_prob"] = false;
  j["moe_intermediate_size"] = 32;
  j["decoder_sparse_step"] = 2;
  j["mlp_only_layers"] = Json::array({0});
  ModelConfig c = parseOk(j);
  EXPECT_TRUE(c.normTopkProb);
  EXPECT_EQ(c.moeIntermediateSize, 14336u);
  EXPECT_EQ(c.numMoeLayers(), 32u);
  // MixtralConfig's sliding_window defaults to None, unlike Mistral-7B-v0.1's.
  j.erase("sliding_window");
  EXPECT_EQ(parseOk(j).slidingWindow, 0u);
  j["sliding_window"] = 4096;
  EXPECT_EQ(parseOk(j).slidingWindow, 4096u);
  j.erase("rope_theta");
  j.erase("rms_norm_eps");
  EXPECT_EQ(parseOk(j).ropeTheta, 1e6);
  EXPECT_EQ(parseOk(j).rmsNormEps, 1e-5);
}

TEST(ConfigFields, NumParametersCountsExperts) {
  ModelConfig c;
  ASSERT_TRUE(loadHfConfig("tiny-qwen3-moe", c));
  // embed 2 x 256*64 + final norm 64 + 3 layers of attention (2 norms 128, q 128x64,
  // k, v 64x64, o 64x128, q/k norms 2*32); layers 0 and 2: router 8*64 + 8 experts x
  // 3*64*32; layer 1 dense: 3*64*128.
  uint64_t attention = 128 + 2 * 128 * 64 + 2 * 64 * 64 + 64;
  uint64_t moe = 8 * 64 + 8 * 3 * 64 * 32;
  uint64_t dense = 3 * 64 * 128;
  EXPECT_EQ(numParameters(c), 2 * 256u * 64 + 64 + 3 * attention + 2 * moe + dense);
}

TEST(ConfigFields, Summarize) {
  ModelConfig c;
  ASSERT_TRUE(loadHfConfig("llama-3.1-8b", c));
  EXPECT_EQ(summarize(c), "llama: 32 layers, hidden 4096, heads 32/8 x 128, ffn 14336, "
                          "vocab 128256, rope theta 500000 llama3 x8, max positions "
                          "131072, 8.03B params");
  EXPECT_EQ(familyName(Family::Mistral), "mistral");
  ASSERT_TRUE(loadHfConfig("tiny-qwen3-moe", c));
  EXPECT_THAT(summarize(c),
              HasSubstr(", experts 8 top-2 renormalized x ffn 32 on 2 of 3 layers, "));
  ASSERT_TRUE(loadHfConfig("mixtral-8x7b", c));
  EXPECT_EQ(summarize(c), "mixtral: 32 layers, hidden 4096, heads 32/8 x 128, ffn "
                          "14336, vocab 32000, rope theta 1000000, max positions 32768, "
                          "experts 8 top-2 renormalized x ffn 14336 on 32 of 32 layers, "
                          "46.70B params");
}

} // namespace
} // namespace mk::models::testing
