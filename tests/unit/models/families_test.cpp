//===- families_test.cpp - Every row of the family table reaches ModelConfig ===//
//
// Each case walks kFamilies, so a new row is tested without a new case: a minimal
// config of the row's model_type parses into the row's features and defaults.
//===----------------------------------------------------------------------===//

#include "config_test_util.h"

#include <string>

namespace mk::models::testing {
namespace {

/// The required keys only, with heads dividing hidden (64 / 4 = 16); MoE families
/// get their expert keys (8 experts, top-2, expert ffn 32 where it has its own key).
Json minimalConfig(const FamilyInfo &f) {
  Json j = {{"model_type", f.modelType},
            {"vocab_size", 256},
            {"hidden_size", 64},
            {"intermediate_size", 128},
            {"num_hidden_layers", 2},
            {"num_attention_heads", 4},
            {"max_position_embeddings", 512}};
  switch (f.moeKeys) {
  case MoeKeys::None:
    break;
  case MoeKeys::SparseStep:
    j["num_experts"] = 8;
    j["num_experts_per_tok"] = 2;
    j["moe_intermediate_size"] = 32;
    break;
  case MoeKeys::EveryLayer:
    j["num_local_experts"] = 8;
    j["num_experts_per_tok"] = 2;
    break;
  }
  return j;
}

TEST(Families, LookupByEnumAndModelType) {
  for (const FamilyInfo &f : kFamilies) {
    SCOPED_TRACE(f.name);
    EXPECT_EQ(&familyInfo(f.family), &f);
    EXPECT_EQ(findFamily(f.modelType), &f);
    EXPECT_EQ(familyName(f.family), f.name);
  }
  EXPECT_EQ(findFamily("gpt2"), nullptr);
  EXPECT_EQ(findFamily("qwen2_moe"), nullptr);
  EXPECT_EQ(familyName(Family::Qwen2), "qwen2");
  EXPECT_EQ(findFamily("mixtral")->family, Family::Mixtral);
  EXPECT_EQ(findFamily("qwen3_moe")->family, Family::Qwen3Moe);
}

TEST(Families, TensorNameSubstitutesTheLayer) {
  const TensorNames &t = familyInfo(Family::Llama).tensors;
  EXPECT_EQ(tensorName(t.up, 3, ".weight"), "model.layers.3.mlp.up_proj.weight");
  EXPECT_EQ(tensorName(t.q, 17, ".bias"), "model.layers.17.self_attn.q_proj.bias");
  EXPECT_EQ(tensorName(t.embedding, 5, ".weight"), "model.embed_tokens.weight");
  EXPECT_EQ(tensorName("a.{layer}.b", 0, ""), "a.0.b");
}

TEST(Families, TensorNameSubstitutesTheExpert) {
  const TensorNames &q = familyInfo(Family::Qwen3Moe).tensors;
  EXPECT_EQ(tensorName(q.router, 5, ".weight"), "model.layers.5.mlp.gate.weight");
  EXPECT_EQ(tensorName(q.expertGate, 3, 17, ".weight"),
            "model.layers.3.mlp.experts.17.gate_proj.weight");
  EXPECT_EQ(tensorName(q.expertDown, 47, 127, ".weight"),
            "model.layers.47.mlp.experts.127.down_proj.weight");
  // Qwen3-MoE's dense layers (mlp_only_layers) keep Llama's names.
  EXPECT_EQ(tensorName(q.up, 1, ".weight"), "model.layers.1.mlp.up_proj.weight");
  const TensorNames &m = familyInfo(Family::Mixtral).tensors;
  EXPECT_EQ(tensorName(m.router, 0, ".weight"),
            "model.layers.0.block_sparse_moe.gate.weight");
  EXPECT_EQ(tensorName(m.expertGate, 31, 7, ".weight"),
            "model.layers.31.block_sparse_moe.experts.7.w1.weight");
  EXPECT_EQ(tensorName(m.expertUp, 2, 0, ".weight"),
            "model.layers.2.block_sparse_moe.experts.0.w3.weight");
  EXPECT_EQ(tensorName(m.expertDown, 2, 0, ".weight"),
            "model.layers.2.block_sparse_moe.experts.0.w2.weight");
  EXPECT_TRUE(m.gate.empty()); // no dense layers
  EXPECT_TRUE(familyInfo(Family::Llama).tensors.router.empty());
}

TEST(Families, RowMoeKeysReachTheConfig) {
  for (const FamilyInfo &f : kFamilies) {
    SCOPED_TRACE(f.name);
    ModelConfig c = parseOk(minimalConfig(f));
    bool moe = f.moeKeys != MoeKeys::None;
    EXPECT_EQ(c.numExperts, moe ? 8u : 0u);
    EXPECT_EQ(c.numExpertsPerTok, moe ? 2u : 0u);
    EXPECT_EQ(c.numMoeLayers(), moe ? 2u : 0u);
    EXPECT_EQ(c.moeIntermediateSize, f.moeKeys == MoeKeys::EveryLayer   ? 128u
                                     : f.moeKeys == MoeKeys::SparseStep ? 32u
                                                                        : 0u);
    // Mixtral always renormalizes; Qwen3MoeConfig's norm_topk_prob defaults to false.
    EXPECT_EQ(c.normTopkProb, f.moeKeys == MoeKeys::EveryLayer);
    // A dense family ignores expert keys, as transformers does.
    if (!moe) {
      Json j = minimalConfig(f);
      j["num_experts"] = 8;
      j["num_local_experts"] = 8;
      EXPECT_EQ(parseOk(j).numExperts, 0u);
    }
  }
}

TEST(Families, RowDefaultsReachTheConfig) {
  for (const FamilyInfo &f : kFamilies) {
    SCOPED_TRACE(f.name);
    ModelConfig c = parseOk(minimalConfig(f));
    EXPECT_EQ(c.family, f.family);
    EXPECT_EQ(c.modelType, f.modelType);
    EXPECT_EQ(c.headDim, f.defaultHeadDim ? f.defaultHeadDim : 16u);
    EXPECT_EQ(c.rmsNormEps, f.defaultRmsNormEps);
    EXPECT_EQ(c.ropeTheta, f.defaultRopeTheta);
    EXPECT_EQ(c.qkNorm, f.qkNorm);
    EXPECT_EQ(c.attentionBias, f.qkvBias == QkvBias::Always);
    EXPECT_FALSE(c.oProjBias);
    // Only a family whose window is on unless switched off has one by default.
    EXPECT_EQ(c.slidingWindow,
              f.windowKeys == WindowKeys::SlidingWindow ? f.defaultSlidingWindow : 0u);
    EXPECT_EQ(toModelMeta(c, 0).family, f.name);
  }
}

TEST(Families, RowRulesReadTheFeatureKeys) {
  for (const FamilyInfo &f : kFamilies) {
    SCOPED_TRACE(f.name);
    Json j = minimalConfig(f);
    j["attention_bias"] = true;
    ModelConfig c = parseOk(j);
    EXPECT_EQ(c.attentionBias, f.qkvBias != QkvBias::None);
    EXPECT_EQ(c.oProjBias, f.qkvBias == QkvBias::AttentionBiasKey);

    j = minimalConfig(f);
    j["mlp_bias"] = true;
    EXPECT_EQ(errorOf(j) != "<ok>", f.mlpBiasKey) << errorOf(j);

    // Every layer slides: max_window_layers 0 (or the only key, sliding_window).
    j = minimalConfig(f);
    j["sliding_window"] = 32;
    j["use_sliding_window"] = true;
    j["max_window_layers"] = 0;
    EXPECT_EQ(parseOk(j).slidingWindow, f.windowKeys == WindowKeys::None ? 0u : 32u);
    j["use_sliding_window"] = false;
    EXPECT_EQ(parseOk(j).slidingWindow,
              f.windowKeys == WindowKeys::SlidingWindow ? 32u : 0u);
  }
}

} // namespace
} // namespace mk::models::testing
