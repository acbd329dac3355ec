//===- qwen2.cpp - Qwen2 graph builder --------------------------------------===//
//
// Qwen2: biases on the q/k/v projections (none on o_proj), optional sliding window.
#include "decoder_builder.h"

namespace mk::models {
namespace {
class Qwen2Builder final : public DecoderBuilder {
public:
  using DecoderBuilder::DecoderBuilder;
  bool hasQkvBias() const override { return true; }
  std::optional<int64_t> slidingWindow() const override {
    if (config_.slidingWindow == 0)
      return std::nullopt;
    return config_.slidingWindow;
  }
};
} // namespace

std::unique_ptr<DecoderBuilder> makeQwen2Builder(const ModelConfig &c,
                                                 const GraphOptions &o) {
  return std::make_unique<Qwen2Builder>(c, o);
}
} // namespace mk::models
