//===- qwen3.cpp - Qwen3 graph builder --------------------------------------===//
//
// Qwen3: per-head RMSNorm of q and k before RoPE (q_norm / k_norm weights of
// head_dim), an explicit head_dim that need not be hidden / heads, optional
// sliding window.
#include "decoder_builder.h"

namespace mk::models {
namespace {
class Qwen3Builder final : public DecoderBuilder {
public:
  using DecoderBuilder::DecoderBuilder;
  bool hasQkvBias() const override { return config_.attentionBias; }
  bool hasQkNorm() const override { return true; }
  std::optional<int64_t> slidingWindow() const override {
    if (config_.slidingWindow == 0)
      return std::nullopt;
    return config_.slidingWindow;
  }
};
} // namespace

std::unique_ptr<DecoderBuilder> makeQwen3Builder(const ModelConfig &c,
                                                 const GraphOptions &o) {
  return std::make_unique<Qwen3Builder>(c, o);
}
} // namespace mk::models
