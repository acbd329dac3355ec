//===- families.h - The model-family table: one row per family ------------===//
//
// Every supported model family is one row of kFamilies: its name, the Hugging Face
// model_type it accepts, how its config keys turn into attention
// features (ModelConfig::attentionBias, oProjBias, qkNorm, slidingWindow), its
// defaults for keys a file may omit, and the names of its checkpoint tensors. The
// parser (config_parse.cpp) reads the row of a config's model_type; the graph
// builder reads only ModelConfig and the row's tensor names.
//
// Adding a family: an enumerator in Family and a row here, in the same position;
// a new QkvBias / WindowKeys rule only when the family reads its keys in a new way.
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mk::models {

enum class Family : uint8_t { Llama, Qwen2, Qwen3, Mistral };

/// How the family's q/k/v (and o) projections get biases.
enum class QkvBias : uint8_t {
  None,             // never; attention_bias is ignored (MistralAttention)
  Always,           // q/k/v always, o never; attention_bias is ignored (Qwen2Attention)
  AttentionBiasKey, // attention_bias (default false) puts one on q, k, v and o
};

/// Which keys turn on sliding-window attention (ModelConfig::slidingWindow).
enum class WindowKeys : uint8_t {
  None,          // the family has none; sliding_window is ignored
  SlidingWindow, // sliding_window on every layer; null = full attention
  // sliding_window only when use_sliding_window is true, on the layers that
  // layer_types marks "sliding_attention" or else on layers >= max_window_layers;
  // a mix of full and sliding layers is refused.
  UseSlidingWindow,
};

/// Module paths of a family's checkpoint tensors; a tensor's name is the path plus
/// ".weight" or ".bias". "{layer}" stands for the decoder layer index.
struct TensorNames {
  std::string_view embedding;
  std::string_view inputNorm;
  std::string_view q, k, v, o;
  std::string_view qNorm, kNorm; // per-head RMSNorm weights (qkNorm families)
  std::string_view postAttentionNorm;
  std::string_view gate, up, down;
  std::string_view finalNorm;
  std::string_view lmHead; // absent when tie_word_embeddings
};

struct FamilyInfo {
  Family family;
  /// familyName(), ModelMeta::family in plan files, summarize().
  std::string_view name;
  /// The config's "model_type".
  std::string_view modelType;

  QkvBias qkvBias;
  bool qkNorm; // per-head RMSNorm of q and k before RoPE
  WindowKeys windowKeys;
  /// Reads mlp_bias and refuses true (the MLP tasks have no bias).
  bool mlpBiasKey;

  // Defaults for keys the file may omit (the family's transformers config class).
  uint32_t defaultHeadDim;         // 0: hidden_size / num_attention_heads
  uint32_t defaultSlidingWindow;   // 0: none
  uint32_t defaultMaxWindowLayers; // WindowKeys::UseSlidingWindow only
  double defaultRmsNormEps;
  double defaultRopeTheta;

  TensorNames tensors;
};

/// The Llama decoder's tensor names, shared by every family that kept them.
inline constexpr TensorNames kLlamaTensorNames = {
    .embedding = "model.embed_tokens",
    .inputNorm = "model.layers.{layer}.input_layernorm",
    .q = "model.layers.{layer}.self_attn.q_proj",
    .k = "model.layers.{layer}.self_attn.k_proj",
    .v = "model.layers.{layer}.self_attn.v_proj",
    .o = "model.layers.{layer}.self_attn.o_proj",
    .qNorm = "model.layers.{layer}.self_attn.q_norm",
    .kNorm = "model.layers.{layer}.self_attn.k_norm",
    .postAttentionNorm = "model.layers.{layer}.post_attention_layernorm",
    .gate = "model.layers.{layer}.mlp.gate_proj",
    .up = "model.layers.{layer}.mlp.up_proj",
    .down = "model.layers.{layer}.mlp.down_proj",
    .finalNorm = "model.norm",
    .lmHead = "lm_head",
};

/// In Family order; "supported: ..." messages list them in this order.
inline constexpr std::array<FamilyInfo, 4> kFamilies = {{
    {
        .family = Family::Llama,
        .name = "llama",
        .modelType = "llama",
        .qkvBias = QkvBias::AttentionBiasKey,
        .qkNorm = false,
        .windowKeys = WindowKeys::None,
        .mlpBiasKey = true,
        .defaultHeadDim = 0,
        .defaultSlidingWindow = 0,
        .defaultMaxWindowLayers = 0,
        .defaultRmsNormEps = 1e-6,
        .defaultRopeTheta = 10000.0,
        .tensors = kLlamaTensorNames,
    },
    {
        .family = Family::Qwen2,
        .name = "qwen2",
        .modelType = "qwen2",
        .qkvBias = QkvBias::Always,
        .qkNorm = false,
        .windowKeys = WindowKeys::UseSlidingWindow,
        .mlpBiasKey = false,
        .defaultHeadDim = 0,
        .defaultSlidingWindow = 4096,
        .defaultMaxWindowLayers = 28,
        .defaultRmsNormEps = 1e-6,
        .defaultRopeTheta = 10000.0,
        .tensors = kLlamaTensorNames,
    },
    {
        .family = Family::Qwen3,
        .name = "qwen3",
        .modelType = "qwen3",
        .qkvBias = QkvBias::AttentionBiasKey,
        .qkNorm = true,
        .windowKeys = WindowKeys::UseSlidingWindow,
        .mlpBiasKey = false,
        .defaultHeadDim = 128, // decoupled from hidden / heads
        .defaultSlidingWindow = 4096,
        .defaultMaxWindowLayers = 28,
        .defaultRmsNormEps = 1e-6,
        .defaultRopeTheta = 10000.0,
        .tensors = kLlamaTensorNames,
    },
    {
        .family = Family::Mistral,
        .name = "mistral",
        .modelType = "mistral",
        .qkvBias = QkvBias::None,
        .qkNorm = false,
        .windowKeys = WindowKeys::SlidingWindow,
        .mlpBiasKey = false,
        .defaultHeadDim = 0,
        .defaultSlidingWindow = 4096, // Mistral-7B-v0.1; v0.2+ write null
        .defaultMaxWindowLayers = 0,
        .defaultRmsNormEps = 1e-6,
        .defaultRopeTheta = 10000.0,
        .tensors = kLlamaTensorNames,
    },
}};

namespace detail {
constexpr bool hasLayer(std::string_view path) {
  return path.find("{layer}") != std::string_view::npos;
}
/// Global tensors have no "{layer}", per-layer ones have it exactly once.
constexpr bool validTensorNames(const TensorNames &t) {
  for (std::string_view global : {t.embedding, t.finalNorm, t.lmHead})
    if (global.empty() || hasLayer(global))
      return false;
  for (std::string_view perLayer : {t.inputNorm, t.q, t.k, t.v, t.o, t.qNorm, t.kNorm,
                                    t.postAttentionNorm, t.gate, t.up, t.down}) {
    size_t at = perLayer.find("{layer}");
    if (at == std::string_view::npos || hasLayer(perLayer.substr(at + 1)))
      return false;
  }
  return true;
}
constexpr bool validTable() {
  for (size_t i = 0; i < kFamilies.size(); ++i) {
    const FamilyInfo &f = kFamilies[i];
    if (static_cast<size_t>(f.family) != i || !validTensorNames(f.tensors))
      return false;
    for (size_t j = 0; j < i; ++j)
      if (kFamilies[j].name == f.name || kFamilies[j].modelType == f.modelType)
        return false;
  }
  return true;
}
} // namespace detail
static_assert(detail::validTable(),
              "kFamilies: one row per Family in enum order, unique names and "
              "model types, \"{layer}\" exactly once in each per-layer tensor name");

constexpr const FamilyInfo &familyInfo(Family f) {
  return kFamilies[static_cast<size_t>(f)];
}

/// The row whose model_type is `modelType`, or nullptr.
constexpr const FamilyInfo *findFamily(std::string_view modelType) {
  for (const FamilyInfo &f : kFamilies)
    if (f.modelType == modelType)
      return &f;
  return nullptr;
}

/// "llama", "qwen2", "qwen3", "mistral": the row's name.
constexpr std::string_view familyName(Family f) { return familyInfo(f).name; }

/// `path` with "{layer}" replaced by `layer`, plus `suffix`:
/// tensorName("model.layers.{layer}.mlp.up_proj", 3, ".weight") ==
/// "model.layers.3.mlp.up_proj.weight".
std::string tensorName(std::string_view path, uint32_t layer, std::string_view suffix);

} // namespace mk::models
