//===- config_parse.cpp - config.json text -> ModelConfig ----------------===//
//
// Reads keys the way transformers' LlamaConfig / Qwen2Config / Qwen3Config /
// MistralConfig / Qwen3MoeConfig / MixtralConfig and their modeling files use them; see
// config.h for the table of keys and defaults. What differs by family comes from the
// family's row (families.h). Cross-field checks live in config_validate.cpp.
//===----------------------------------------------------------------------===//

#include "json_fields.h"
#include "mk/isa/plan_file.h"
#include "mk/models/config.h"

#include <algorithm>
#include <array>

namespace mk::models {
namespace {

using detail::describeJson;
using detail::FieldReader;
using detail::Json;

/// Mixture-of-experts model types of transformers that have no family row, refused by
/// name so the user learns why rather than reading "not supported".
constexpr std::array<std::string_view, 15> kMoeModelTypes = {
    "qwen2_moe", "qwen3_next",  "deepseek_v2", "deepseek_v3", "dbrx",
    "olmoe",     "jamba",       "phimoe",      "granitemoe",  "granitemoeshared",
    "llama4",    "llama4_text", "gpt_oss",     "glm4_moe",    "jetmoe",
};

/// Keys that give an unknown model type away as MoE.
constexpr std::array<std::string_view, 4> kExpertCountKeys = {
    "num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts"};

std::string supportedFamilies() {
  std::string list;
  for (const FamilyInfo &f : kFamilies)
    list += (list.empty() ? "" : ", ") + std::string(f.modelType);
  return list;
}

mk::Status parseFamily(const FieldReader &r, ModelConfig &cfg) {
  if (mk::Status s = r.requireString("model_type", cfg.modelType); !s)
    return s;
  const std::string &type = cfg.modelType;
  bool moe = std::find(kMoeModelTypes.begin(), kMoeModelTypes.end(), type) !=
             kMoeModelTypes.end();
  if (const FamilyInfo *f = findFamily(type)) {
    cfg.family = f->family;
    return mk::Status::ok();
  }
  for (std::string_view key : kExpertCountKeys) {
    const Json *n = r.get(key);
    moe = moe || (n && n->is_number() && n->get<double>() > 1);
  }
  if (moe)
    return r.error("model_type '" + type +
                   "' is a mixture-of-experts model of a family mk does not support "
                   "(supported: " +
                   supportedFamilies() + ")");
  return r.error("model_type '" + type +
                 "' is not supported (supported: " + supportedFamilies() + ")");
}

/// Quantized checkpoints store packed integer weights the plan cannot read.
mk::Status refuseQuantized(const FieldReader &r) {
  const Json *q = r.get("quantization_config");
  if (!q)
    return mk::Status::ok();
  std::string method = "unknown";
  if (q->is_object()) {
    auto it = q->find("quant_method");
    if (it != q->end() && it->is_string())
      method = it->get<std::string>();
  }
  return r.error("quantized checkpoints are not supported "
                 "(quantization_config.quant_method '" +
                 method + "'); use the bf16/fp16 weights");
}

/// `obj` is the rope_scaling object (legacy) or rope_parameters (transformers
/// v5), whose prefix the reader carries for messages.
mk::Status parseRopeScaling(const FieldReader &r, bool typeRequired, RopeScaling &out) {
  out = RopeScaling{};
  const char *typeKey = r.get("rope_type") ? "rope_type" : "type";
  std::string type;
  if (!r.get(typeKey)) {
    if (typeRequired)
      return r.error("missing key " + r.name("rope_type"));
    type = "default";
  } else if (mk::Status s = r.requireString(typeKey, type); !s) {
    return s;
  }
  if (type == "default")
    return mk::Status::ok();
  if (type != "llama3")
    return r.error(r.prefix() + typeKey + " '" + type +
                   "' is not supported (supported: llama3)");
  out.type = RopeScalingType::Llama3;
  if (mk::Status s = r.requireNumber("factor", out.factor); !s)
    return s;
  if (mk::Status s = r.requireNumber("low_freq_factor", out.lowFreqFactor); !s)
    return s;
  if (mk::Status s = r.requireNumber("high_freq_factor", out.highFreqFactor); !s)
    return s;
  return r.requireCount("original_max_position_embeddings", Limits::kMaxPositions,
                        out.originalMaxPositionEmbeddings);
}

mk::Status parseRope(const FieldReader &r, ModelConfig &cfg) {
  if (const Json *params = r.get("rope_parameters")) {
    if (!params->is_object())
      return r.error("'rope_parameters' must be an object, got " + describeJson(*params));
    // v5 nests one entry per layer type for models that mix attention kinds.
    if (params->contains("full_attention") || params->contains("sliding_attention"))
      return r.error("'rope_parameters' per layer type is not supported");
    FieldReader p(*params, r.source(), "rope_parameters.");
    if (p.get("rope_theta")) {
      if (mk::Status s = p.requireNumber("rope_theta", cfg.ropeTheta); !s)
        return s;
    } else if (mk::Status s = r.optionalNumber("rope_theta", cfg.ropeTheta); !s) {
      return s;
    }
    if (mk::Status s = parseRopeScaling(p, /*typeRequired=*/false, cfg.ropeScaling); !s)
      return s;
  } else {
    if (mk::Status s = r.optionalNumber("rope_theta", cfg.ropeTheta); !s)
      return s;
    if (const Json *scaling = r.get("rope_scaling")) {
      if (!scaling->is_object())
        return r.error("'rope_scaling' must be an object or null, got " +
                       describeJson(*scaling));
      FieldReader sr(*scaling, r.source(), "rope_scaling.");
      if (mk::Status s = parseRopeScaling(sr, /*typeRequired=*/true, cfg.ropeScaling); !s)
        return s;
    }
  }
  double partial = 1.0;
  if (mk::Status s = r.optionalNumber("partial_rotary_factor", partial); !s)
    return s;
  if (partial != 1.0)
    return r.error("'partial_rotary_factor' " + detail::formatNumber(partial) +
                   " is not supported (RoPE on every dimension of a head only)");
  return mk::Status::ok();
}

/// WindowKeys::UseSlidingWindow (Qwen2/Qwen3): sliding_window applies only if
/// use_sliding_window, and then only to layers marked "sliding_attention" in
/// layer_types, which transformers derives as layer >= max_window_layers when the
/// file does not list them.
mk::Status parseUseSlidingWindow(const FieldReader &r, const FamilyInfo &family,
                                 ModelConfig &cfg) {
  bool use = false;
  if (mk::Status s = r.optionalBool("use_sliding_window", use); !s)
    return s;
  uint32_t window = family.defaultSlidingWindow;
  if (r.hasKey("sliding_window") && !r.get("sliding_window"))
    window = 0; // explicit null
  if (mk::Status s = r.optionalCount("sliding_window", Limits::kMaxPositions, window); !s)
    return s;
  if (!use || window == 0)
    return mk::Status::ok();

  uint32_t slidingLayers = 0;
  std::string why;
  if (const Json *types = r.get("layer_types")) {
    if (!types->is_array() || types->size() != cfg.numLayers)
      return r.error("'layer_types' must be a list of " + std::to_string(cfg.numLayers) +
                     " strings, got " + describeJson(*types));
    for (size_t i = 0; i < types->size(); ++i) {
      const Json &t = (*types)[i];
      bool sliding = t.is_string() && t.get<std::string>() == "sliding_attention";
      if (!sliding && !(t.is_string() && t.get<std::string>() == "full_attention"))
        return r.error("'layer_types[" + std::to_string(i) +
                       "]' must be \"full_attention\" or \"sliding_attention\", got " +
                       describeJson(t));
      slidingLayers += sliding;
    }
    why = "as 'layer_types' lists";
  } else {
    uint32_t maxWindowLayers = family.defaultMaxWindowLayers;
    if (mk::Status s =
            r.optionalIndex("max_window_layers", Limits::kMaxLayers, maxWindowLayers);
        !s)
      return s;
    slidingLayers = cfg.numLayers - std::min(maxWindowLayers, cfg.numLayers);
    why = "layers >= max_window_layers " + std::to_string(maxWindowLayers);
  }
  if (slidingLayers == 0)
    return mk::Status::ok();
  if (slidingLayers != cfg.numLayers)
    return r.error("mixing full and sliding-window attention layers is not supported: " +
                   std::to_string(slidingLayers) + " of " +
                   std::to_string(cfg.numLayers) + " layers slide (" + why +
                   ", use_sliding_window true)");
  cfg.slidingWindow = window;
  return mk::Status::ok();
}

mk::Status parseAttention(const FieldReader &r, const FamilyInfo &family,
                          ModelConfig &cfg) {
  switch (family.qkvBias) {
  case QkvBias::None:
    break;
  case QkvBias::Always:
    cfg.attentionBias = true;
    break;
  case QkvBias::AttentionBiasKey: {
    bool bias = false;
    if (mk::Status s = r.optionalBool("attention_bias", bias); !s)
      return s;
    cfg.attentionBias = cfg.oProjBias = bias;
    break;
  }
  }
  cfg.qkNorm = family.qkNorm;
  if (family.mlpBiasKey) {
    bool mlpBias = false;
    if (mk::Status s = r.optionalBool("mlp_bias", mlpBias); !s)
      return s;
    if (mlpBias)
      return r.error("'mlp_bias' true is not supported (the MLP tasks have no bias)");
  }
  switch (family.windowKeys) {
  case WindowKeys::None:
    return mk::Status::ok();
  case WindowKeys::SlidingWindow:
    // Present and null means full attention, not the default.
    cfg.slidingWindow = r.hasKey("sliding_window") ? 0 : family.defaultSlidingWindow;
    return r.optionalCount("sliding_window", Limits::kMaxPositions, cfg.slidingWindow);
  case WindowKeys::UseSlidingWindow:
    return parseUseSlidingWindow(r, family, cfg);
  }
  return mk::Status::ok();
}

/// mlp_only_layers: layer indices (< num_hidden_layers) whose MLP stays dense.
mk::Status parseMlpOnlyLayers(const FieldReader &r, ModelConfig &cfg) {
  const Json *list = r.get("mlp_only_layers");
  if (!list)
    return mk::Status::ok();
  if (!list->is_array())
    return r.error("'mlp_only_layers' must be a list of layer indices, got " +
                   describeJson(*list));
  for (size_t i = 0; i < list->size(); ++i) {
    std::string name = "'mlp_only_layers[" + std::to_string(i) + "]'";
    uint64_t layer = 0;
    if (mk::Status s = detail::integerValue((*list)[i], name, 0, UINT32_MAX, layer); !s)
      return r.error(s.message());
    if (layer >= cfg.numLayers)
      return r.error(name + " " + std::to_string(layer) +
                     " is out of range (num_hidden_layers " +
                     std::to_string(cfg.numLayers) + ")");
    cfg.mlpOnlyLayers.push_back(static_cast<uint32_t>(layer));
  }
  std::sort(cfg.mlpOnlyLayers.begin(), cfg.mlpOnlyLayers.end());
  cfg.mlpOnlyLayers.erase(std::unique(cfg.mlpOnlyLayers.begin(), cfg.mlpOnlyLayers.end()),
                          cfg.mlpOnlyLayers.end());
  return mk::Status::ok();
}

/// MoeKeys::SparseStep (Qwen3-MoE). transformers v5 maps num_experts onto
/// num_local_experts and writes the latter; either spelling is read.
mk::Status parseSparseStepMoe(const FieldReader &r, ModelConfig &cfg) {
  const Json *experts = r.get("num_experts");
  const Json *local = r.get("num_local_experts");
  if (experts && local && *experts != *local)
    return r.error("'num_experts' " + describeJson(*experts) +
                   " and 'num_local_experts' " + describeJson(*local) +
                   " disagree (they are one setting)");
  const char *expertsKey = experts || !local ? "num_experts" : "num_local_experts";
  if (!r.get(expertsKey))
    return r.error(r.hasKey(expertsKey)
                       ? r.name(expertsKey) + " must be a non-negative integer, got null"
                       : "missing key " + r.name(expertsKey));
  if (mk::Status s = r.optionalIndex(expertsKey, Limits::kMaxExperts, cfg.numExperts); !s)
    return s;
  if (cfg.numExperts == 0) // Qwen3MoeSparseMoeBlock is never built: a dense model
    return mk::Status::ok();
  if (mk::Status s = r.requireCount("num_experts_per_tok", Limits::kMaxExperts,
                                    cfg.numExpertsPerTok);
      !s)
    return s;
  if (mk::Status s = r.requireCount("moe_intermediate_size", Limits::kMaxIntermediate,
                                    cfg.moeIntermediateSize);
      !s)
    return s;
  if (mk::Status s = r.optionalBool("norm_topk_prob", cfg.normTopkProb); !s)
    return s;
  if (mk::Status s = r.optionalCount("decoder_sparse_step", Limits::kMaxLayers,
                                     cfg.decoderSparseStep);
      !s)
    return s;
  return parseMlpOnlyLayers(r, cfg);
}

mk::Status parseMoe(const FieldReader &r, const FamilyInfo &family, ModelConfig &cfg) {
  switch (family.moeKeys) {
  case MoeKeys::None:
    return mk::Status::ok();
  case MoeKeys::SparseStep:
    return parseSparseStepMoe(r, cfg);
  case MoeKeys::EveryLayer:
    // MixtralSparseMoeBlock always renormalizes the top-k weights; its experts are
    // intermediate_size wide.
    cfg.normTopkProb = true;
    cfg.moeIntermediateSize = cfg.intermediateSize;
    if (mk::Status s =
            r.requireCount("num_local_experts", Limits::kMaxExperts, cfg.numExperts);
        !s)
      return s;
    return r.requireCount("num_experts_per_tok", Limits::kMaxExperts,
                          cfg.numExpertsPerTok);
  }
  return mk::Status::ok();
}

mk::Status tokenIdAt(const FieldReader &r, const std::string &name, const Json &v,
                     const ModelConfig &cfg, int32_t &out) {
  uint64_t id = 0;
  if (mk::Status s = detail::integerValue(v, name, 0, UINT32_MAX, id); !s)
    return r.error(s.message());
  if (id >= cfg.vocabSize)
    return r.error(name + " " + std::to_string(id) + " is out of range (vocab_size " +
                   std::to_string(cfg.vocabSize) + ")");
  out = static_cast<int32_t>(id);
  return mk::Status::ok();
}

mk::Status parseTokenIds(const FieldReader &r, ModelConfig &cfg) {
  if (const Json *bos = r.get("bos_token_id"))
    if (mk::Status s = tokenIdAt(r, r.name("bos_token_id"), *bos, cfg, cfg.bosTokenId);
        !s)
      return s;
  const Json *eos = r.get("eos_token_id");
  if (!eos)
    return mk::Status::ok();
  if (!eos->is_array()) {
    if (!eos->is_number_integer())
      return r.error("'eos_token_id' must be an integer or a list of integers, got " +
                     describeJson(*eos));
    int32_t id = 0;
    if (mk::Status s = tokenIdAt(r, r.name("eos_token_id"), *eos, cfg, id); !s)
      return s;
    cfg.eosTokenIds.push_back(id);
    return mk::Status::ok();
  }
  for (size_t i = 0; i < eos->size(); ++i) {
    int32_t id = 0;
    std::string name = "'eos_token_id[" + std::to_string(i) + "]'";
    if (mk::Status s = tokenIdAt(r, name, (*eos)[i], cfg, id); !s)
      return s;
    cfg.eosTokenIds.push_back(id);
  }
  return mk::Status::ok();
}

mk::Status parseFields(const FieldReader &r, ModelConfig &cfg) {
  if (mk::Status s = parseFamily(r, cfg); !s)
    return s;
  const FamilyInfo &family = familyInfo(cfg.family);
  if (mk::Status s = refuseQuantized(r); !s)
    return s;

  struct Count {
    const char *key;
    uint32_t max;
    uint32_t *out;
  };
  const Count required[] = {
      {"vocab_size", Limits::kMaxVocab, &cfg.vocabSize},
      {"hidden_size", Limits::kMaxHidden, &cfg.hiddenSize},
      {"intermediate_size", Limits::kMaxIntermediate, &cfg.intermediateSize},
      {"num_hidden_layers", Limits::kMaxLayers, &cfg.numLayers},
      {"num_attention_heads", Limits::kMaxHeads, &cfg.numHeads},
      {"max_position_embeddings", Limits::kMaxPositions, &cfg.maxPositionEmbeddings},
  };
  for (const Count &c : required)
    if (mk::Status s = r.requireCount(c.key, c.max, *c.out); !s)
      return s;

  cfg.numKvHeads = cfg.numHeads;
  if (mk::Status s =
          r.optionalCount("num_key_value_heads", Limits::kMaxHeads, cfg.numKvHeads);
      !s)
    return s;

  // Qwen3 decouples head_dim from hidden / heads; Qwen3Config's default is 128.
  cfg.headDimExplicit = r.get("head_dim") != nullptr;
  if (cfg.headDimExplicit) {
    if (mk::Status s = r.requireCount("head_dim", Limits::kMaxHeadDim, cfg.headDim); !s)
      return s;
  } else if (family.defaultHeadDim != 0) {
    cfg.headDim = family.defaultHeadDim;
  } else if (cfg.hiddenSize % cfg.numHeads != 0) {
    return r.error("'hidden_size' " + std::to_string(cfg.hiddenSize) +
                   " is not divisible by 'num_attention_heads' " +
                   std::to_string(cfg.numHeads) + " (and no 'head_dim' is given)");
  } else {
    cfg.headDim = cfg.hiddenSize / cfg.numHeads;
  }

  cfg.rmsNormEps = family.defaultRmsNormEps;
  if (mk::Status s = r.optionalNumber("rms_norm_eps", cfg.rmsNormEps); !s)
    return s;
  cfg.ropeTheta = family.defaultRopeTheta;
  if (mk::Status s = parseRope(r, cfg); !s)
    return s;
  if (mk::Status s = r.optionalString("hidden_act", cfg.hiddenAct); !s)
    return s;
  if (mk::Status s = r.optionalBool("tie_word_embeddings", cfg.tieWordEmbeddings); !s)
    return s;
  if (mk::Status s = parseAttention(r, family, cfg); !s)
    return s;
  if (mk::Status s = parseMoe(r, family, cfg); !s)
    return s;
  if (mk::Status s = parseTokenIds(r, cfg); !s)
    return s;
  // transformers >= 4.56 writes "dtype"; older files "torch_dtype".
  const char *dtypeKey = r.get("dtype") ? "dtype" : "torch_dtype";
  return r.optionalString(dtypeKey, cfg.dtype);
}

} // namespace

mk::Status parseHfConfig(std::string_view jsonText, const std::string &sourceName,
                         ModelConfig &out) {
  out = ModelConfig{};
  out.sourceName = sourceName;
  out.configHash = mk::isa::fnv1a64(jsonText);
  if (jsonText.size() > Limits::kMaxConfigBytes)
    return mk::Status::error(sourceName + ": " + std::to_string(jsonText.size()) +
                             " bytes is too large for a config.json (at most " +
                             std::to_string(Limits::kMaxConfigBytes) + ")");
  Json json;
  if (mk::Status s = detail::parseJsonText(jsonText, sourceName, json); !s)
    return s;
  if (!json.is_object())
    return mk::Status::error(sourceName + ": the top level must be a JSON object, got " +
                             describeJson(json));
  FieldReader reader(json, sourceName);
  if (mk::Status s = parseFields(reader, out); !s)
    return s;
  return validateModelConfig(out);
}

} // namespace mk::models
