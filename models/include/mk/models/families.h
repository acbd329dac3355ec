//===- families.h - The model-family table: one row per family ------------===//
//
// Every supported model family is one row of kFamilies: its name, the Hugging Face
// model_type it accepts, how its config keys turn into attention
// features (ModelConfig::attentionBias, oProjBias, qkNorm, slidingWindow), which keys
// make its layers mixture-of-experts blocks, its defaults for keys a file may omit,
// and the names of its checkpoint tensors. The
// parser (config_parse.cpp) reads the row of a config's model_type; the graph
// builder reads only ModelConfig and the row's tensor names.
//
// Adding a family: an enumerator in Family and a row here, in the same position;
// a new QkvBias / WindowKeys / MoeKeys rule only when the family reads its keys in a
// new way.
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mk::models {

enum class Family : uint8_t { Llama, Qwen2, Qwen3, Mistral, Qwen3Moe, Mixtral };

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

/// Which keys make a family's MLPs mixture-of-experts blocks (ModelConfig::numExperts
/// and the fields after it).
enum class MoeKeys : uint8_t {
  None, // dense: every layer's MLP is gate/up/down of intermediate_size
  // Qwen3MoeConfig: num_experts (transformers v5 writes num_local_experts; 0 = dense),
  // num_experts_per_tok, moe_intermediate_size, norm_topk_prob (default false). Layer
  // i is MoE iff (i + 1) % decoder_sparse_step (default 1) == 0 and i is not in
  // mlp_only_layers (default []); the others are dense of intermediate_size.
  SparseStep,
  // MixtralConfig: num_local_experts, num_experts_per_tok. Every layer is MoE, each
  // expert of intermediate_size; the top-k weights are always renormalized.
  EveryLayer,
};

/// Module paths of a family's checkpoint tensors; a tensor's name is the path plus
/// ".weight" or ".bias". "{layer}" stands for the decoder layer index, "{expert}" for
/// the expert index.
struct TensorNames {
  std::string_view embedding;
  std::string_view inputNorm;
  std::string_view q, k, v, o;
  std::string_view qNorm, kNorm; // per-head RMSNorm weights (qkNorm families)
  std::string_view postAttentionNorm;
  std::string_view gate, up, down; // dense MLP layers
  // Mixture-of-experts layers (empty for dense families): the router [experts, hidden]
  // and expert {expert}'s gate and up [moe intermediate, hidden] and down
  // [hidden, moe intermediate].
  std::string_view router;
  std::string_view expertGate, expertUp, expertDown;
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
  MoeKeys moeKeys;

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
    .router = {},
    .expertGate = {},
    .expertUp = {},
    .expertDown = {},
    .finalNorm = "model.norm",
    .lmHead = "lm_head",
};

/// Qwen3-MoE: Llama's names; MoE layers replace mlp.{gate,up,down}_proj by a router
/// and experts under mlp (mlp_only_layers keep the dense names).
inline constexpr TensorNames kQwen3MoeTensorNames = [] {
  TensorNames t = kLlamaTensorNames;
  t.router = "model.layers.{layer}.mlp.gate";
  t.expertGate = "model.layers.{layer}.mlp.experts.{expert}.gate_proj";
  t.expertUp = "model.layers.{layer}.mlp.experts.{expert}.up_proj";
  t.expertDown = "model.layers.{layer}.mlp.experts.{expert}.down_proj";
  return t;
}();

/// Mixtral: Llama's attention names; every layer's MLP is block_sparse_moe, whose
/// experts call gate, up and down w1, w3 and w2.
inline constexpr TensorNames kMixtralTensorNames = [] {
  TensorNames t = kLlamaTensorNames;
  t.gate = t.up = t.down = {};
  t.router = "model.layers.{layer}.block_sparse_moe.gate";
  t.expertGate = "model.layers.{layer}.block_sparse_moe.experts.{expert}.w1";
  t.expertUp = "model.layers.{layer}.block_sparse_moe.experts.{expert}.w3";
  t.expertDown = "model.layers.{layer}.block_sparse_moe.experts.{expert}.w2";
  return t;
}();

/// In Family order; "supported: ..." messages list them in this order.
inline constexpr std::array<FamilyInfo, 6> kFamilies = {{
    {
        .family = Family::Llama,
        .name = "llama",
        .modelType = "llama",
        .qkvBias = QkvBias::AttentionBiasKey,
        .qkNorm = false,
        .windowKeys = WindowKeys::None,
        .mlpBiasKey = true,
        .moeKeys = MoeKeys::None,
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
        .moeKeys = MoeKeys::None,
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
        .moeKeys = MoeKeys::None,
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
        .moeKeys = MoeKeys::None,
        .defaultHeadDim = 0,
        .defaultSlidingWindow = 4096, // Mistral-7B-v0.1; v0.2+ write null
        .defaultMaxWindowLayers = 0,
        .defaultRmsNormEps = 1e-6,
        .defaultRopeTheta = 10000.0,
        .tensors = kLlamaTensorNames,
    },
    {
        .family = Family::Qwen3Moe,
        .name = "qwen3_moe",
        .modelType = "qwen3_moe",
        .qkvBias = QkvBias::AttentionBiasKey,
        .qkNorm = true,
        .windowKeys = WindowKeys::UseSlidingWindow,
        .mlpBiasKey = false,
        .moeKeys = MoeKeys::SparseStep,
        // Qwen3MoeConfig has no head_dim: the attention's fallback is hidden / heads.
        .defaultHeadDim = 0,
        .defaultSlidingWindow = 4096,
        .defaultMaxWindowLayers = 28,
        .defaultRmsNormEps = 1e-6,
        .defaultRopeTheta = 10000.0,
        .tensors = kQwen3MoeTensorNames,
    },
    {
        .family = Family::Mixtral,
        .name = "mixtral",
        .modelType = "mixtral",
        .qkvBias = QkvBias::None,
        .qkNorm = false,
        .windowKeys = WindowKeys::SlidingWindow,
        .mlpBiasKey = false,
        .moeKeys = MoeKeys::EveryLayer,
        .defaultHeadDim = 0,
        .defaultSlidingWindow = 0, // MixtralConfig's default is None
        .defaultMaxWindowLayers = 0,
        .defaultRmsNormEps = 1e-5,
        .defaultRopeTheta = 1e6,
        .tensors = kMixtralTensorNames,
    },
}};

namespace detail {
constexpr size_t countOf(std::string_view path, std::string_view what) {
  size_t n = 0;
  for (size_t at = path.find(what); at != std::string_view::npos;
       at = path.find(what, at + 1))
    ++n;
  return n;
}
/// Global tensors have no "{layer}", per-layer ones have it exactly once; only expert
/// tensors have "{expert}", exactly once. A family names its dense MLP, its MoE
/// tensors (router and experts together), or both.
constexpr bool validTensorNames(const TensorNames &t, MoeKeys moe) {
  for (std::string_view global : {t.embedding, t.finalNorm, t.lmHead})
    if (global.empty() || countOf(global, "{layer}") || countOf(global, "{expert}"))
      return false;
  for (std::string_view perLayer :
       {t.inputNorm, t.q, t.k, t.v, t.o, t.qNorm, t.kNorm, t.postAttentionNorm})
    if (countOf(perLayer, "{layer}") != 1 || countOf(perLayer, "{expert}"))
      return false;
  bool dense = !t.gate.empty(), sparse = !t.router.empty();
  if (dense != (!t.up.empty() && !t.down.empty()) ||
      sparse != (!t.expertGate.empty() && !t.expertUp.empty() && !t.expertDown.empty()))
    return false;
  if (!dense && !sparse)
    return false;
  for (std::string_view mlp : {t.gate, t.up, t.down, t.router})
    if (!mlp.empty() && (countOf(mlp, "{layer}") != 1 || countOf(mlp, "{expert}")))
      return false;
  for (std::string_view expert : {t.expertGate, t.expertUp, t.expertDown})
    if (!expert.empty() &&
        (countOf(expert, "{layer}") != 1 || countOf(expert, "{expert}") != 1))
      return false;
  // MoE families name their experts; only families with dense layers name a dense MLP.
  return sparse == (moe != MoeKeys::None) && dense == (moe != MoeKeys::EveryLayer);
}
constexpr bool validTable() {
  for (size_t i = 0; i < kFamilies.size(); ++i) {
    const FamilyInfo &f = kFamilies[i];
    if (static_cast<size_t>(f.family) != i || !validTensorNames(f.tensors, f.moeKeys))
      return false;
    for (size_t j = 0; j < i; ++j)
      if (kFamilies[j].name == f.name || kFamilies[j].modelType == f.modelType)
        return false;
  }
  return true;
}
} // namespace detail
static_assert(detail::validTable(),
              "kFamilies: one row per Family in enum order, unique names and model "
              "types, \"{layer}\" exactly once in each per-layer tensor name, "
              "\"{expert}\" exactly once in each expert tensor name, MoE tensor names "
              "exactly in MoE families");

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

/// "llama", "qwen2", "qwen3", "mistral", "qwen3_moe", "mixtral": the row's name.
constexpr std::string_view familyName(Family f) { return familyInfo(f).name; }

/// `path` with "{layer}" replaced by `layer`, plus `suffix`:
/// tensorName("model.layers.{layer}.mlp.up_proj", 3, ".weight") ==
/// "model.layers.3.mlp.up_proj.weight".
std::string tensorName(std::string_view path, uint32_t layer, std::string_view suffix);

/// The same for an expert tensor, with "{expert}" replaced by `expert` as well:
/// tensorName("model.layers.{layer}.mlp.experts.{expert}.up_proj", 3, 17, ".weight")
/// == "model.layers.3.mlp.experts.17.up_proj.weight".
std::string tensorName(std::string_view path, uint32_t layer, uint32_t expert,
                       std::string_view suffix);

} // namespace mk::models
