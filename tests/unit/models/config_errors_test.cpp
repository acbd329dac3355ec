//===- config_errors_test.cpp - Each bad config gets its one-line message -===//
//
// Every case starts from a real config (Llama-3.1-8B unless said otherwise),
// breaks one thing, and checks the message names the file, the key and what is
// wrong.
//===----------------------------------------------------------------------===//

#include "config_test_util.h"

#include <cstdint>
#include <string>

namespace mk::models::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Json llama() { return presetJson("llama-3.1-8b"); }
Json qwen3() { return presetJson("qwen3-8b"); }

void expectError(const Json &json, const std::string &expected) {
  std::string message = errorOf(json);
  EXPECT_THAT(message, StartsWith(kSource + ": ")) << message;
  EXPECT_THAT(message, HasSubstr(expected));
  EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
}

TEST(ConfigErrors, MissingRequiredKey) {
  EXPECT_EQ(errorOf([] {
              Json j = llama();
              j.erase("hidden_size");
              return j;
            }()),
            "llama-3.1-8b/config.json: missing key 'hidden_size'");
  for (const char *key :
       {"model_type", "vocab_size", "hidden_size", "intermediate_size",
        "num_hidden_layers", "num_attention_heads", "max_position_embeddings"}) {
    SCOPED_TRACE(key);
    Json j = llama();
    j.erase(key);
    expectError(j, std::string("missing key '") + key + "'");
  }
}

TEST(ConfigErrors, RequiredKeyNull) {
  Json j = llama();
  j["vocab_size"] = nullptr;
  expectError(j, "'vocab_size' must be a positive integer, got null");
}

TEST(ConfigErrors, WrongTypeForCount) {
  Json j = llama();
  j["num_attention_heads"] = "32";
  EXPECT_EQ(errorOf(j), kSource + ": 'num_attention_heads' must be a positive "
                                  "integer, got string \"32\"");
  j = llama();
  j["hidden_size"] = 4096.5;
  expectError(j, "'hidden_size' must be a positive integer, got number 4096.5");
  j = llama();
  j["hidden_size"] = 4096.0; // integral floats are still refused
  expectError(j, "'hidden_size' must be a positive integer, got number 4096.0");
  j = llama();
  j["num_hidden_layers"] = true;
  expectError(j, "'num_hidden_layers' must be a positive integer, got boolean true");
  j = llama();
  j["intermediate_size"] = Json::array({14336});
  expectError(j, "'intermediate_size' must be a positive integer, got array [14336]");
  j = llama();
  j["num_key_value_heads"] = Json::object({{"n", 8}});
  expectError(j, "'num_key_value_heads' must be a positive integer, got object");
  j = llama();
  j["head_dim"] = "128";
  expectError(j, "'head_dim' must be a positive integer, got string \"128\"");
}

TEST(ConfigErrors, NonPositiveCounts) {
  Json j = llama();
  j["num_hidden_layers"] = 0;
  expectError(j, "'num_hidden_layers' must be a positive integer, got 0");
  j = llama();
  j["vocab_size"] = -5;
  expectError(j, "'vocab_size' must be a positive integer, got -5");
  j = llama();
  j["num_key_value_heads"] = 0;
  expectError(j, "'num_key_value_heads' must be a positive integer, got 0");
}

TEST(ConfigErrors, WrongTypeForOtherKeys) {
  Json j = llama();
  j["model_type"] = 42;
  expectError(j, "'model_type' must be a string, got 42");
  j = llama();
  j["tie_word_embeddings"] = "yes";
  expectError(j, "'tie_word_embeddings' must be true or false, got string \"yes\"");
  j = llama();
  j["rms_norm_eps"] = "1e-5";
  expectError(j, "'rms_norm_eps' must be a number, got string \"1e-5\"");
  j = llama();
  j["rope_theta"] = Json::array();
  expectError(j, "'rope_theta' must be a number, got array []");
  j = llama();
  j["hidden_act"] = 1;
  expectError(j, "'hidden_act' must be a string, got 1");
  j = llama();
  j["torch_dtype"] = 16;
  expectError(j, "'torch_dtype' must be a string, got 16");
  j = llama();
  j["attention_bias"] = 0;
  expectError(j, "'attention_bias' must be true or false, got 0");
}

TEST(ConfigErrors, HeadsDoNotDivideHidden) {
  Json j = llama();
  j["num_attention_heads"] = 30;
  j["num_key_value_heads"] = 10;
  expectError(j, "'hidden_size' 4096 is not divisible by 'num_attention_heads' 30 "
                 "(and no 'head_dim' is given)");
  j["head_dim"] = 128; // explicit head_dim: hidden need not be heads * head_dim
  EXPECT_EQ(errorOf(j), "<ok>");
}

TEST(ConfigErrors, KvHeadsDoNotDivideHeads) {
  Json j = llama();
  j["num_key_value_heads"] = 5;
  expectError(j, "'num_attention_heads' 32 is not divisible by 'num_key_value_heads' 5");
  j["num_key_value_heads"] = 64;
  expectError(j, "'num_attention_heads' 32 is not divisible by 'num_key_value_heads' 64");
}

TEST(ConfigErrors, UnsupportedRopeScaling) {
  Json j = llama();
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_EQ(errorOf(j), kSource + ": rope_scaling.rope_type 'yarn' is not supported "
                                  "(supported: llama3)");
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}}; // legacy spelling
  expectError(j, "rope_scaling.type 'linear' is not supported (supported: llama3)");
  j["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}};
  expectError(j, "rope_scaling.type 'dynamic' is not supported");
  j["rope_scaling"] = {{"factor", 2.0}};
  expectError(j, "missing key 'rope_scaling.rope_type'");
  j["rope_scaling"] = "llama3";
  expectError(j, "'rope_scaling' must be an object or null, got string \"llama3\"");
  j["rope_scaling"] = {{"rope_type", 3}};
  expectError(j, "'rope_scaling.rope_type' must be a string, got 3");
  j["rope_parameters"] = {{"rope_type", "longrope"}, {"rope_theta", 10000.0}};
  expectError(j, "rope_parameters.rope_type 'longrope' is not supported");
}

TEST(ConfigErrors, BadLlama3RopeParameters) {
  for (const char *key : {"factor", "low_freq_factor", "high_freq_factor",
                          "original_max_position_embeddings"}) {
    SCOPED_TRACE(key);
    Json j = llama();
    j["rope_scaling"].erase(key);
    expectError(j, std::string("missing key 'rope_scaling.") + key + "'");
  }
  Json j = llama();
  j["rope_scaling"]["factor"] = 0.5;
  expectError(j, "'rope_scaling.factor' must be at least 1, got 0.5");
  j = llama();
  j["rope_scaling"]["high_freq_factor"] = 1.0;
  expectError(j, "'rope_scaling.high_freq_factor' 1 must be greater than "
                 "'rope_scaling.low_freq_factor' 1");
  j = llama();
  j["rope_scaling"]["low_freq_factor"] = 0;
  expectError(j, "'rope_scaling.low_freq_factor' must be positive, got 0");
  j = llama();
  j["rope_scaling"]["original_max_position_embeddings"] = 8192.5;
  expectError(j, "'rope_scaling.original_max_position_embeddings' must be a positive "
                 "integer, got number 8192.5");
  j = llama();
  j["rope_scaling"]["factor"] = "8";
  expectError(j, "'rope_scaling.factor' must be a number, got string \"8\"");
}

TEST(ConfigErrors, PartialRotaryRefused) {
  Json j = llama();
  j["partial_rotary_factor"] = 0.5;
  expectError(j, "'partial_rotary_factor' 0.5 is not supported");
  j["partial_rotary_factor"] = 1.0;
  EXPECT_EQ(errorOf(j), "<ok>");
}

TEST(ConfigErrors, UnsupportedHiddenAct) {
  Json j = llama();
  j["hidden_act"] = "gelu";
  EXPECT_EQ(errorOf(j), kSource + ": hidden_act 'gelu' is not supported (supported: "
                                  "silu)");
}

TEST(ConfigErrors, UnknownModelType) {
  Json j = llama();
  j["model_type"] = "gpt2";
  EXPECT_EQ(errorOf(j), kSource + ": model_type 'gpt2' is not supported (supported: "
                                  "llama, qwen2, qwen3, mistral, qwen3_moe, mixtral)");
}

TEST(ConfigErrors, OtherMixtureOfExpertsFamiliesRefused) {
  for (const char *type : {"qwen2_moe", "deepseek_v2", "deepseek_v3", "olmoe"}) {
    SCOPED_TRACE(type);
    Json j = qwen3();
    j["model_type"] = type;
    EXPECT_EQ(errorOf(j), kSource + ": model_type '" + type +
                              "' is a mixture-of-experts model of a family mk does "
                              "not support (supported: llama, qwen2, qwen3, mistral, "
                              "qwen3_moe, mixtral)");
  }
  // An unknown type that carries expert counts is called MoE too.
  Json j = qwen3();
  j["model_type"] = "some_new_moe";
  j["num_experts"] = 64;
  expectError(j, "model_type 'some_new_moe' is a mixture-of-experts model");
}

Json qwen3Moe() { return presetJson("qwen3-30b-a3b"); }
Json mixtral() { return presetJson("mixtral-8x7b"); }

TEST(ConfigErrors, MoeRequiredKeys) {
  for (const char *key :
       {"num_experts", "num_experts_per_tok", "moe_intermediate_size"}) {
    SCOPED_TRACE(key);
    Json j = qwen3Moe();
    j.erase(key);
    EXPECT_EQ(errorOf(j), kSource + ": missing key '" + key + "'");
  }
  for (const char *key : {"num_local_experts", "num_experts_per_tok"}) {
    SCOPED_TRACE(key);
    Json j = mixtral();
    j.erase(key);
    EXPECT_EQ(errorOf(j), kSource + ": missing key '" + key + "'");
  }
  Json j = mixtral();
  j["num_local_experts"] = nullptr;
  expectError(j, "'num_local_experts' must be a positive integer, got null");
  j = qwen3Moe();
  j["num_experts"] = nullptr;
  expectError(j, "'num_experts' must be a non-negative integer, got null");
}

TEST(ConfigErrors, MoeCounts) {
  Json j = qwen3Moe();
  j["num_experts_per_tok"] = 129;
  EXPECT_EQ(errorOf(j), kSource + ": 'num_experts_per_tok' 129 is more than "
                                  "'num_experts' 128 (each token selects distinct "
                                  "experts)");
  j = mixtral();
  j["num_experts_per_tok"] = 9;
  expectError(j, "'num_experts_per_tok' 9 is more than 'num_local_experts' 8");
  j = mixtral();
  j["num_local_experts"] = 0;
  expectError(j, "'num_local_experts' must be a positive integer, got 0");
  j = mixtral();
  j["num_local_experts"] = 1025;
  expectError(j, "'num_local_experts' 1025 is out of range (at most 1024)");
  j = qwen3Moe();
  j["num_experts_per_tok"] = 0;
  expectError(j, "'num_experts_per_tok' must be a positive integer, got 0");
  j = qwen3Moe();
  j["moe_intermediate_size"] = "768";
  expectError(j, "'moe_intermediate_size' must be a positive integer, got string");
  j = qwen3Moe();
  j["decoder_sparse_step"] = 0;
  expectError(j, "'decoder_sparse_step' must be a positive integer, got 0");
  j = qwen3Moe();
  j["norm_topk_prob"] = 1;
  expectError(j, "'norm_topk_prob' must be true or false, got 1");
  // The transformers v5 spelling must agree with the v4 one when both are written.
  j = qwen3Moe();
  j["num_local_experts"] = 64;
  EXPECT_EQ(errorOf(j), kSource + ": 'num_experts' 128 and 'num_local_experts' 64 "
                                  "disagree (they are one setting)");
}

TEST(ConfigErrors, MlpOnlyLayers) {
  Json j = qwen3Moe();
  j["mlp_only_layers"] = Json::array({0, 48});
  EXPECT_EQ(errorOf(j), kSource + ": 'mlp_only_layers[1]' 48 is out of range "
                                  "(num_hidden_layers 48)");
  j["mlp_only_layers"] = 3;
  expectError(j, "'mlp_only_layers' must be a list of layer indices, got 3");
  j["mlp_only_layers"] = Json::array({-1});
  expectError(j, "'mlp_only_layers[0]' must be");
  j["mlp_only_layers"] = Json::array({"1"});
  expectError(j, "'mlp_only_layers[0]' must be");
}

TEST(ConfigErrors, ValidateRefusesInconsistentExperts) {
  ModelConfig c;
  ASSERT_TRUE(loadHfConfig("tiny-llama", c));
  c.numExperts = 4;
  EXPECT_THAT(validateModelConfig(c).message(),
              HasSubstr("the llama family has no experts, got 4"));
  ASSERT_TRUE(loadHfConfig("tiny-qwen3-moe", c));
  c.mlpOnlyLayers = {2, 1};
  EXPECT_THAT(validateModelConfig(c).message(),
              HasSubstr("'mlp_only_layers' must be ascending without repeats"));
  c.mlpOnlyLayers = {3};
  EXPECT_THAT(validateModelConfig(c).message(),
              HasSubstr("'mlp_only_layers' lists layer 3 (num_hidden_layers 3)"));
  ASSERT_TRUE(loadHfConfig("tiny-mixtral", c));
  c.decoderSparseStep = 2;
  EXPECT_THAT(validateModelConfig(c).message(),
              HasSubstr("mixtral's experts are intermediate_size wide"));
}

TEST(ConfigErrors, ValuesOutOfRange) {
  struct Case {
    const char *key;
    uint64_t value;
    const char *message;
  } cases[] = {
      {"vocab_size", (1u << 24) + 1,
       "'vocab_size' 16777217 is out of range (at most 16777216)"},
      {"num_hidden_layers", 1025,
       "'num_hidden_layers' 1025 is out of range (at most 1024)"},
      {"hidden_size", 131072, "'hidden_size' 131072 is out of range (at most 65536)"},
      {"head_dim", 2048, "'head_dim' 2048 is out of range (at most 1024)"},
      {"num_attention_heads", 4096,
       "'num_attention_heads' 4096 is out of range (at most 1024)"},
      {"intermediate_size", 1u << 21, "'intermediate_size' 2097152 is out of range"},
      {"max_position_embeddings", 1ull << 40,
       "'max_position_embeddings' 1099511627776 is out of range"},
      {"vocab_size", UINT64_MAX, "'vocab_size' 18446744073709551615 is out of range"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.key);
    Json j = llama();
    j[c.key] = c.value;
    expectError(j, c.message);
  }
  // Past 2^64 the JSON number is a float, which is not an integer.
  std::string text = llama().dump();
  text.replace(text.find("128256"), 6, "100000000000000000000000");
  ModelConfig cfg;
  mk::Status s = parseHfConfig(text, kSource, cfg);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(),
              HasSubstr("'vocab_size' must be a positive integer, got number"));
}

TEST(ConfigErrors, OddHeadDim) {
  Json j = llama();
  j["head_dim"] = 33;
  expectError(j, "'head_dim' 33 must be even (RoPE rotates pairs of dimensions)");
  j = llama();
  j["hidden_size"] = 96; // implicit head_dim 96 / 32 = 3
  expectError(j, "head_dim = hidden_size / num_attention_heads = 3 must be even");
}

TEST(ConfigErrors, BadNumerics) {
  Json j = llama();
  j["rms_norm_eps"] = 0;
  expectError(j, "'rms_norm_eps' must be in (0, 1), got 0");
  j["rms_norm_eps"] = 2.0;
  expectError(j, "'rms_norm_eps' must be in (0, 1), got 2");
  j = llama();
  j["rope_theta"] = -10000.0;
  expectError(j, "'rope_theta' must be greater than 1, got -10000");
  std::string text = llama().dump();
  text.replace(text.find("500000.0"), 8, "1e999");
  ModelConfig cfg;
  mk::Status s = parseHfConfig(text, kSource, cfg);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("invalid JSON: at line 1, column "));
  EXPECT_THAT(s.message(), HasSubstr("number overflow parsing '1e999'"));
}

TEST(ConfigErrors, TokenIds) {
  Json j = llama();
  j["bos_token_id"] = 128256;
  expectError(j, "'bos_token_id' 128256 is out of range (vocab_size 128256)");
  j = llama();
  j["eos_token_id"] = Json::array({128001, 999999});
  expectError(j, "'eos_token_id[1]' 999999 is out of range (vocab_size 128256)");
  j = llama();
  j["eos_token_id"] = "</s>";
  expectError(j, "'eos_token_id' must be an integer or a list of integers, got string");
  j = llama();
  j["eos_token_id"] = Json::array({128001, "x"});
  expectError(j, "'eos_token_id[1]' must be a non-negative integer, got string \"x\"");
  j = llama();
  j["bos_token_id"] = -1;
  expectError(j, "'bos_token_id' must be a non-negative integer, got -1");
}

TEST(ConfigErrors, TopLevelNotAnObject) {
  ModelConfig cfg;
  mk::Status s = parseHfConfig("[1, 2, 3]", kSource, cfg);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), kSource + ": the top level must be a JSON object, got array "
                                   "[1,2,3]");
}

TEST(ConfigErrors, InvalidJsonNamesThePosition) {
  ModelConfig cfg;
  mk::Status s = parseHfConfig("{\n  \"model_type\": \"llama\",\n  \"vocab_size\": ,\n}",
                               kSource, cfg);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), StartsWith(kSource + ": invalid JSON: "));
  EXPECT_THAT(s.message(), HasSubstr("line 3, column 17"));
}

TEST(ConfigErrors, QuantizedCheckpointRefused) {
  Json j = llama();
  j["quantization_config"] = {{"quant_method", "awq"}, {"bits", 4}};
  expectError(j, "quantized checkpoints are not supported "
                 "(quantization_config.quant_method 'awq')");
}

TEST(ConfigErrors, MlpBiasRefused) {
  Json j = llama();
  j["mlp_bias"] = true;
  expectError(j, "'mlp_bias' true is not supported");
}

TEST(ConfigErrors, MixedSlidingWindowLayersRefused) {
  Json j = qwen3();
  j["use_sliding_window"] = true;
  j["sliding_window"] = 4096;
  j["max_window_layers"] = 28;
  expectError(j, "mixing full and sliding-window attention layers is not supported: "
                 "8 of 36 layers slide");
  j.erase("max_window_layers"); // transformers' default is 28 as well
  expectError(j, "8 of 36 layers slide");
  j["layer_types"] = Json::array();
  for (int i = 0; i < 36; ++i)
    j["layer_types"].push_back(i % 2 ? "sliding_attention" : "full_attention");
  expectError(j, "18 of 36 layers slide (as 'layer_types' lists");
  j["layer_types"] = Json::array({"full_attention"});
  expectError(j, "'layer_types' must be a list of 36 strings");
  j["layer_types"] = Json::array();
  for (int i = 0; i < 36; ++i)
    j["layer_types"].push_back(i == 5 ? "chunked_attention" : "full_attention");
  expectError(j, "'layer_types[5]' must be \"full_attention\" or \"sliding_attention\"");
}

TEST(ConfigErrors, BadSlidingWindow) {
  Json j = presetJson("tiny-mistral");
  j["sliding_window"] = 0;
  expectError(j, "'sliding_window' must be a positive integer, got 0");
  j["sliding_window"] = "4096";
  expectError(j, "'sliding_window' must be a positive integer, got string \"4096\"");
}

TEST(ConfigErrors, ValidateCatchesConfigsBuiltInCode) {
  ModelConfig cfg;
  ASSERT_TRUE(loadHfConfig("tiny-llama", cfg));
  cfg.sourceName = "demo";
  ModelConfig bad = cfg;
  bad.numKvHeads = 0;
  EXPECT_EQ(validateModelConfig(bad).message(),
            "demo: 'num_key_value_heads' must be a positive integer, got 0");
  bad = cfg;
  bad.headDim = 15;
  bad.headDimExplicit = true;
  EXPECT_THAT(validateModelConfig(bad).message(),
              HasSubstr("'head_dim' 15 must be even"));
  bad = cfg;
  bad.headDim = 32; // not hidden / heads, and not stated
  EXPECT_THAT(validateModelConfig(bad).message(),
              HasSubstr("'hidden_size' 64 is not 'num_attention_heads' 4 x head_dim 32"));
  bad = cfg;
  bad.hiddenAct = "relu";
  EXPECT_THAT(validateModelConfig(bad).message(), HasSubstr("hidden_act 'relu'"));
  bad = cfg;
  bad.eosTokenIds = {2, 256};
  EXPECT_THAT(validateModelConfig(bad).message(),
              HasSubstr("'eos_token_id[1]' 256 is out of range"));
  EXPECT_TRUE(validateModelConfig(cfg));
}

} // namespace
} // namespace mk::models::testing
