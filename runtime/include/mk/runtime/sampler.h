//===- sampler.h - Choosing the next token from logits --------------------===//
//
// Greedy: argmax, ties to the lowest index, NaN never wins.
// Otherwise, in double precision:
//   p = softmax(logits / temperature) -> keep the top_k most likely (0 = all) ->
//   keep the smallest prefix whose mass >= top_p (sorted by p descending, ties by
//   index) -> renormalize -> draw with std::mt19937_64 seeded from `seed`.
// NaN logits have probability 0; +inf logits share all the mass. The draw uses the
// generator's raw 64-bit output (not a std:: distribution, whose algorithm differs
// between standard libraries), so the same seed and logits give the same tokens on
// every platform.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/status.h"

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace mk::runtime {

struct SamplingParams {
  bool greedy = true;
  float temperature = 1;
  int topK = 0; // 0 = off
  float topP = 1;
  uint64_t seed = 0;
};

class Sampler {
public:
  /// `params` should have passed validate(); out-of-range values are clamped.
  explicit Sampler(SamplingParams params);

  /// Checks temperature > 0, 0 < top_p <= 1, top_k >= 0 (finite numbers), e.g.
  /// "sampling: temperature must be > 0, got 0 (use greedy decoding instead)".
  static Status validate(const SamplingParams &params);

  /// The next token: an index into `logits` ([vocab] f32), or -1 when no logit is a
  /// number (empty, or all NaN).
  int32_t sample(std::span<const float> logits);

  /// Argmax with ties to the lowest index, NaN skipped; -1 when no logit is a number.
  static int32_t argmax(std::span<const float> logits);

  const SamplingParams &params() const { return params_; }

private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<double, int32_t>> candidates_; // (weight, token), reused
};

} // namespace mk::runtime
