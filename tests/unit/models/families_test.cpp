//===- families_test.cpp - Every row of the family table reaches ModelConfig ===//
//
// Each case walks kFamilies, so a new row is tested without a new case: a minimal
// config of the row's model_type parses into the row's features and defaults.
//===----------------------------------------------------------------------===//

#include "config_test_util.h"

#include <string>

namespace mk::models::testing {
namespace {

/// The required keys only, with heads dividing hidden (64 / 4 = 16).
Json minimalConfig(const FamilyInfo &f) {
  return {{"model_type", f.modelType},
          {"vocab_size", 256},
          {"hidden_size", 64},
          {"intermediate_size", 128},
          {"num_hidden_layers", 2},
          {"num_attention_heads", 4},
          {"max_position_embeddings", 512}};
}

TEST(Families, LookupByEnumAndModelType) {
  for (const FamilyInfo &f : kFamilies) {
    SCOPED_TRACE(f.name);
    EXPECT_EQ(&familyInfo(f.family), &f);
    EXPECT_EQ(findFamily(f.modelType), &f);
    EXPECT_EQ(familyName(f.family), f.name);
  }
  EXPECT_EQ(findFamily("gpt2"), nullptr);
  EXPECT_EQ(findFamily("mixtral"), nullptr);
  EXPECT_EQ(familyName(Family::Qwen2), "qwen2");
}

TEST(Families, TensorNameSubstitutesTheLayer) {
  const TensorNames &t = familyInfo(Family::Llama).tensors;
  EXPECT_EQ(tensorName(t.up, 3, ".weight"), "model.layers.3.mlp.up_proj.weight");
  EXPECT_EQ(tensorName(t.q, 17, ".bias"), "model.layers.17.self_attn.q_proj.bias");
  EXPECT_EQ(tensorName(t.embedding, 5, ".weight"), "model.embed_tokens.weight");
  EXPECT_EQ(tensorName("a.{layer}.b", 0, ""), "a.0.b");
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
