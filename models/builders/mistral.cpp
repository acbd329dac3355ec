//===- mistral.cpp - Mistral graph builder ----------------------------------===//
//
// Mistral: the Llama skeleton with sliding-window attention.
#include "decoder_builder.h"

namespace mk::models {
namespace {
class MistralBuilder final : public DecoderBuilder {
public:
  using DecoderBuilder::DecoderBuilder;
  std::optional<int64_t> slidingWindow() const override {
    if (config_.slidingWindow == 0)
      return std::nullopt;
    return config_.slidingWindow;
  }
};
} // namespace

std::unique_ptr<DecoderBuilder> makeMistralBuilder(const ModelConfig &c,
                                                   const GraphOptions &o) {
  return std::make_unique<MistralBuilder>(c, o);
}
} // namespace mk::models
