//===- llama.cpp - Llama graph builder --------------------------------------===//
//
// Llama 2/3.x: the plain decoder skeleton (GQA, optional tied embeddings, llama3
// RoPE scaling all come from the config).
#include "decoder_builder.h"

namespace mk::models {
namespace {
class LlamaBuilder final : public DecoderBuilder {
public:
  using DecoderBuilder::DecoderBuilder;
  bool hasQkvBias() const override { return config_.attentionBias; }
};
} // namespace

std::unique_ptr<DecoderBuilder> makeLlamaBuilder(const ModelConfig &c,
                                                 const GraphOptions &o) {
  return std::make_unique<LlamaBuilder>(c, o);
}
} // namespace mk::models
