//===- config_validate.cpp - Ranges and cross-field invariants -----------===//
//
// What every consumer of a ModelConfig may rely on. parseHfConfig ends here;
// configs built in code (the embedded demo model, tests) call it directly.
// Messages name the HF keys so a user can find the line to fix.
//===----------------------------------------------------------------------===//

#include "json_fields.h"
#include "mk/models/config.h"

#include <cmath>

namespace mk::models {
namespace {

class Checker {
public:
  explicit Checker(const ModelConfig &cfg) : cfg_(cfg) {}

  mk::Status fail(const std::string &message) const {
    return mk::Status::error(cfg_.sourceName + ": " + message);
  }

  mk::Status count(const char *key, uint64_t value, uint64_t max) const {
    if (value == 0)
      return fail(std::string("'") + key + "' must be a positive integer, got 0");
    if (value > max)
      return fail(std::string("'") + key + "' " + std::to_string(value) +
                  " is out of range (at most " + std::to_string(max) + ")");
    return mk::Status::ok();
  }

  mk::Status tokenId(const std::string &key, int64_t id) const {
    if (id < 0 || id >= cfg_.vocabSize)
      return fail("'" + key + "' " + std::to_string(id) +
                  " is out of range (vocab_size " + std::to_string(cfg_.vocabSize) + ")");
    return mk::Status::ok();
  }

private:
  const ModelConfig &cfg_;
};

mk::Status checkShapes(const Checker &c, const ModelConfig &cfg) {
  struct Count {
    const char *key;
    uint32_t value;
    uint32_t max;
  };
  const Count counts[] = {
      {"vocab_size", cfg.vocabSize, Limits::kMaxVocab},
      {"hidden_size", cfg.hiddenSize, Limits::kMaxHidden},
      {"intermediate_size", cfg.intermediateSize, Limits::kMaxIntermediate},
      {"num_hidden_layers", cfg.numLayers, Limits::kMaxLayers},
      {"num_attention_heads", cfg.numHeads, Limits::kMaxHeads},
      {"num_key_value_heads", cfg.numKvHeads, Limits::kMaxHeads},
      {"head_dim", cfg.headDim, Limits::kMaxHeadDim},
      {"max_position_embeddings", cfg.maxPositionEmbeddings, Limits::kMaxPositions},
  };
  for (const Count &n : counts)
    if (mk::Status s = c.count(n.key, n.value, n.max); !s)
      return s;

  if (cfg.numHeads % cfg.numKvHeads != 0)
    return c.fail("'num_attention_heads' " + std::to_string(cfg.numHeads) +
                  " is not divisible by 'num_key_value_heads' " +
                  std::to_string(cfg.numKvHeads));
  if (cfg.headDim % 2 != 0) {
    std::string what = cfg.headDimExplicit
                           ? "'head_dim' "
                           : "head_dim = hidden_size / num_attention_heads = ";
    return c.fail(what + std::to_string(cfg.headDim) +
                  " must be even (RoPE rotates pairs of dimensions)");
  }
  // Without head_dim the HF modeling code reshapes hidden into heads, unless the
  // family has a head_dim default of its own.
  if (!cfg.headDimExplicit && familyInfo(cfg.family).defaultHeadDim == 0 &&
      uint64_t{cfg.numHeads} * cfg.headDim != cfg.hiddenSize)
    return c.fail("'hidden_size' " + std::to_string(cfg.hiddenSize) +
                  " is not 'num_attention_heads' " + std::to_string(cfg.numHeads) +
                  " x head_dim " + std::to_string(cfg.headDim) +
                  " (and no 'head_dim' is given)");
  if (cfg.slidingWindow > Limits::kMaxPositions)
    return c.fail("'sliding_window' " + std::to_string(cfg.slidingWindow) +
                  " is out of range (at most " + std::to_string(Limits::kMaxPositions) +
                  ")");
  return mk::Status::ok();
}

mk::Status checkNumerics(const Checker &c, const ModelConfig &cfg) {
  using detail::formatNumber;
  if (!(std::isfinite(cfg.rmsNormEps) && cfg.rmsNormEps > 0 && cfg.rmsNormEps < 1))
    return c.fail("'rms_norm_eps' must be in (0, 1), got " +
                  formatNumber(cfg.rmsNormEps));
  if (!(std::isfinite(cfg.ropeTheta) && cfg.ropeTheta > 1))
    return c.fail("'rope_theta' must be greater than 1, got " +
                  formatNumber(cfg.ropeTheta));
  if (cfg.hiddenAct != "silu")
    return c.fail("hidden_act '" + cfg.hiddenAct +
                  "' is not supported (supported: silu)");

  const RopeScaling &rs = cfg.ropeScaling;
  if (rs.type == RopeScalingType::Llama3) {
    if (!(std::isfinite(rs.factor) && rs.factor >= 1))
      return c.fail("'rope_scaling.factor' must be at least 1, got " +
                    formatNumber(rs.factor));
    if (!(std::isfinite(rs.lowFreqFactor) && rs.lowFreqFactor > 0))
      return c.fail("'rope_scaling.low_freq_factor' must be positive, got " +
                    formatNumber(rs.lowFreqFactor));
    // The llama3 formula divides by high - low.
    if (!(std::isfinite(rs.highFreqFactor) && rs.highFreqFactor > rs.lowFreqFactor))
      return c.fail("'rope_scaling.high_freq_factor' " + formatNumber(rs.highFreqFactor) +
                    " must be greater than 'rope_scaling.low_freq_factor' " +
                    formatNumber(rs.lowFreqFactor));
    if (mk::Status s = c.count("rope_scaling.original_max_position_embeddings",
                               rs.originalMaxPositionEmbeddings, Limits::kMaxPositions);
        !s)
      return s;
  }
  return mk::Status::ok();
}

/// The expert counts of a MoE family, or none in a dense one. Keys as the family's
/// config spells them.
mk::Status checkExperts(const Checker &c, const ModelConfig &cfg) {
  MoeKeys moe = familyInfo(cfg.family).moeKeys;
  const char *expertsKey =
      moe == MoeKeys::EveryLayer ? "num_local_experts" : "num_experts";
  if (moe == MoeKeys::None) {
    if (cfg.numExperts != 0)
      return c.fail("the " + std::string(familyName(cfg.family)) +
                    " family has no experts, got " + std::to_string(cfg.numExperts));
    return mk::Status::ok();
  }
  if (cfg.numExperts == 0) {
    if (moe == MoeKeys::EveryLayer)
      return c.count(expertsKey, 0, Limits::kMaxExperts);
    return mk::Status::ok();
  }
  if (mk::Status s = c.count(expertsKey, cfg.numExperts, Limits::kMaxExperts); !s)
    return s;
  if (mk::Status s =
          c.count("num_experts_per_tok", cfg.numExpertsPerTok, Limits::kMaxExperts);
      !s)
    return s;
  if (cfg.numExpertsPerTok > cfg.numExperts)
    return c.fail("'num_experts_per_tok' " + std::to_string(cfg.numExpertsPerTok) +
                  " is more than '" + expertsKey + "' " + std::to_string(cfg.numExperts) +
                  " (each token selects distinct experts)");
  const char *sizeKey =
      moe == MoeKeys::EveryLayer ? "intermediate_size" : "moe_intermediate_size";
  if (mk::Status s = c.count(sizeKey, cfg.moeIntermediateSize, Limits::kMaxIntermediate);
      !s)
    return s;
  if (moe == MoeKeys::EveryLayer &&
      (cfg.moeIntermediateSize != cfg.intermediateSize || !cfg.normTopkProb ||
       cfg.decoderSparseStep != 1 || !cfg.mlpOnlyLayers.empty()))
    return c.fail("mixtral's experts are intermediate_size wide, renormalized, on "
                  "every layer");
  if (mk::Status s =
          c.count("decoder_sparse_step", cfg.decoderSparseStep, Limits::kMaxLayers);
      !s)
    return s;
  for (size_t i = 0; i < cfg.mlpOnlyLayers.size(); ++i) {
    if (cfg.mlpOnlyLayers[i] >= cfg.numLayers)
      return c.fail("'mlp_only_layers' lists layer " +
                    std::to_string(cfg.mlpOnlyLayers[i]) + " (num_hidden_layers " +
                    std::to_string(cfg.numLayers) + ")");
    if (i > 0 && cfg.mlpOnlyLayers[i] <= cfg.mlpOnlyLayers[i - 1])
      return c.fail("'mlp_only_layers' must be ascending without repeats");
  }
  return mk::Status::ok();
}

} // namespace

mk::Status validateModelConfig(const ModelConfig &cfg) {
  Checker c(cfg);
  if (mk::Status s = checkShapes(c, cfg); !s)
    return s;
  if (mk::Status s = checkExperts(c, cfg); !s)
    return s;
  if (mk::Status s = checkNumerics(c, cfg); !s)
    return s;
  if (cfg.bosTokenId != -1)
    if (mk::Status s = c.tokenId("bos_token_id", cfg.bosTokenId); !s)
      return s;
  for (size_t i = 0; i < cfg.eosTokenIds.size(); ++i)
    if (mk::Status s =
            c.tokenId("eos_token_id[" + std::to_string(i) + "]", cfg.eosTokenIds[i]);
        !s)
      return s;
  return mk::Status::ok();
}

} // namespace mk::models
