//===- config.h - Hugging Face config.json, parsed and validated ----------===//
//
// ModelConfig is what a graph builder and the runtime need to know about a
// decoder-only transformer of one of the supported families, dense or mixture of
// experts. It is read from a Hugging Face config.json and interpreted the way
// transformers interprets it (same defaults, same per-family quirks), so that the
// checkpoint's weights mean what the plan assumes they mean.
//
// Keys and defaults (absent and null are the same unless noted). What differs by
// family (the row of kFamilies in families.h) is shown per family:
//
//   key                        required  default when absent
//   model_type                 yes       llama | qwen2 | qwen3 | mistral |
//                                         qwen3_moe | mixtral
//   vocab_size, hidden_size,   yes       (transformers' defaults for these are
//   intermediate_size,                    reference-model sizes, never what a
//   num_hidden_layers,                    real file means when it omits them)
//   num_attention_heads,
//   max_position_embeddings
//   num_key_value_heads        no        num_attention_heads (MHA)
//   head_dim                   no        qwen3: 128; others: hidden / heads
//   rms_norm_eps               no        mixtral: 1e-5; others: 1e-6
//   rope_theta                 no        mixtral: 1e6; others: 10000
//   rope_scaling               no        none; rope_type (or legacy type)
//                                         "default" = none, "llama3" supported
//   rope_parameters            no        transformers v5 spelling of rope_theta +
//                                         rope_scaling; wins over both when present
//   hidden_act                 no        "silu" (the only one supported)
//   tie_word_embeddings        no        false
//   attention_bias             no        llama/qwen3/qwen3_moe: false; bias on q,
//                                         k, v, o. qwen2: ignored, q/k/v bias
//                                         always, no o bias. mistral/mixtral:
//                                         ignored, no bias.
//   mlp_bias                   no        llama: false (true is refused);
//                                         others: ignored
//   sliding_window             no        mistral: 4096 when absent, null = none.
//                                         mixtral: none when absent or null.
//                                         qwen2/qwen3/qwen3_moe: only when
//                                         use_sliding_window is true, on layers
//                                         >= max_window_layers (default 28) or as
//                                         layer_types says; a mix of full and
//                                         sliding layers is refused. llama: ignored.
//
// Mixture of experts (the families whose row has MoeKeys other than None):
//   num_experts                qwen3_moe experts per MoE layer, 0 = every layer
//                                         dense (transformers v5 writes it as
//                                         num_local_experts)
//   num_local_experts          mixtral   experts per layer
//   num_experts_per_tok        yes (1)   experts each token selects (top-k)
//   moe_intermediate_size      yes (1)   qwen3_moe: each expert's gate/up rows.
//                                         mixtral: ignored; its experts have
//                                         intermediate_size rows
//   norm_topk_prob             no        qwen3_moe: false; renormalize the k
//                                         weights to sum to 1. mixtral: always.
//   decoder_sparse_step        no        qwen3_moe: 1; layer i is MoE iff
//                                         (i + 1) % decoder_sparse_step == 0 and
//   mlp_only_layers            no        qwen3_moe: []; i is not listed here. The
//                                         other layers are dense (intermediate_size).
//                                         mixtral: every layer is MoE.
//   router_aux_loss_coef,      no        ignored (training only)
//   output_router_logits
//   (1) when the model has experts (num_experts > 0).
//
//   bos_token_id               no        none (-1)
//   eos_token_id               no        none; an integer or a list of integers
//   dtype / torch_dtype        no        "" (kept as a string for the loader)
//
// Refused with a message: unknown model types, mixture-of-experts model types of
// other families, quantized checkpoints (quantization_config), partial rotary
// embeddings, values outside the ranges in Limits, token ids outside the vocabulary,
// and shapes that do not fit together.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"
#include "mk/isa/status.h"
#include "mk/models/families.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mk::models {

enum class RopeScalingType : uint8_t { None, Llama3 };

/// RoPE frequency scaling (transformers' `_compute_llama3_parameters`).
struct RopeScaling {
  RopeScalingType type = RopeScalingType::None;
  double factor = 1.0;
  double lowFreqFactor = 1.0;
  double highFreqFactor = 1.0;
  uint32_t originalMaxPositionEmbeddings = 0;
};

/// Upper bounds a config must stay within: well above every published model, low enough
/// that products of them (weight bytes, arena offsets) cannot overflow 64 bits.
struct Limits {
  static constexpr uint32_t kMaxVocab = 1u << 24;
  static constexpr uint32_t kMaxHidden = 65536;
  static constexpr uint32_t kMaxIntermediate = 1u << 20;
  static constexpr uint32_t kMaxLayers = 1024;
  static constexpr uint32_t kMaxHeads = 1024;
  static constexpr uint32_t kMaxHeadDim = 1024;
  static constexpr uint32_t kMaxPositions = 1u << 24;
  static constexpr uint32_t kMaxExperts = 1024;
  /// A config.json is a few KiB; a larger file is not one.
  static constexpr size_t kMaxConfigBytes = 16u << 20;
};

struct ModelConfig {
  /// Where the config came from, as used in error messages (a file path).
  std::string sourceName;
  /// mk::isa::fnv1a64 of the raw config.json bytes (ModelMeta::configHash).
  uint64_t configHash = 0;

  Family family = Family::Llama;
  std::string modelType; // as written in the file
  std::string dtype;     // "dtype" or "torch_dtype", e.g. "bfloat16"; may be ""
  std::string hiddenAct = "silu";

  uint32_t vocabSize = 0;
  uint32_t hiddenSize = 0;
  uint32_t intermediateSize = 0;
  uint32_t numLayers = 0;  // num_hidden_layers
  uint32_t numHeads = 0;   // num_attention_heads
  uint32_t numKvHeads = 0; // num_key_value_heads
  uint32_t headDim = 0;
  bool headDimExplicit = false; // head_dim came from the file
  uint32_t maxPositionEmbeddings = 0;

  double rmsNormEps = 1e-6;
  double ropeTheta = 10000.0;
  RopeScaling ropeScaling;

  bool tieWordEmbeddings = false;
  bool attentionBias = false; // bias on q_proj, k_proj, v_proj
  bool oProjBias = false;     // bias on o_proj (llama/qwen3 attention_bias)
  bool qkNorm = false;        // per-head RMSNorm of q and k before RoPE (qwen3)
  uint32_t slidingWindow = 0; // 0 = full causal attention on every layer

  // Mixture of experts (FamilyInfo::moeKeys). numExperts 0: every layer is dense.
  uint32_t numExperts = 0;             // E: num_experts / num_local_experts
  uint32_t numExpertsPerTok = 0;       // k: num_experts_per_tok
  bool normTopkProb = false;           // renormalize the k weights (mixtral: always)
  uint32_t moeIntermediateSize = 0;    // I: each expert's gate/up rows
  uint32_t decoderSparseStep = 1;      // layer i is MoE iff (i + 1) % step == 0 ...
  std::vector<uint32_t> mlpOnlyLayers; // ... and i is not here (ascending, unique)

  int32_t bosTokenId = -1; // -1 = none
  std::vector<int32_t> eosTokenIds;

  uint32_t qDim() const { return numHeads * headDim; }    // q_proj out features
  uint32_t kvDim() const { return numKvHeads * headDim; } // k_proj/v_proj out
  uint32_t groupSize() const { return numKvHeads ? numHeads / numKvHeads : 0; }
  /// Whether layer `layer`'s MLP is a mixture-of-experts block (router + experts)
  /// rather than the dense gate/up/down of intermediate_size.
  bool isMoeLayer(uint32_t layer) const;
  uint32_t numMoeLayers() const;
};

/// Parses and validates the text of a config.json. `sourceName` names it in
/// errors ("llama-3.1-8b/config.json: missing key 'hidden_size'"). On error `out`
/// is left unspecified.
mk::Status parseHfConfig(std::string_view jsonText, const std::string &sourceName,
                         ModelConfig &out);

/// Loads `pathOrDir`: a model directory (reads DIR/config.json), a path to a
/// config file, or, when no such file or directory exists, a preset name
/// (see presets.h).
mk::Status loadHfConfig(const std::string &pathOrDir, ModelConfig &out);

/// Checks the cross-field invariants and ranges parseHfConfig guarantees; for
/// configs built in code. Messages name HF keys and cfg.sourceName.
mk::Status validateModelConfig(const ModelConfig &cfg);

/// The runtime's view. `maxSeqLen` 0 means max_position_embeddings.
mk::isa::ModelMeta toModelMeta(const ModelConfig &cfg, uint32_t maxSeqLen);

/// Number of weights of the HF checkpoint (embeddings, norms, projections,
/// biases, lm_head unless tied).
uint64_t numParameters(const ModelConfig &cfg);

/// Number of weight tensors of the HF checkpoint (each expert's gate, up and down
/// count separately): Qwen3-30B-A3B has 18,867.
uint64_t numWeightTensors(const ModelConfig &cfg);

/// One line for logs and `--help`-style listings, e.g.
/// "llama: 32 layers, hidden 4096, heads 32/8 x 128, ffn 14336, vocab 128256, ...".
std::string summarize(const ModelConfig &cfg);

} // namespace mk::models
