//===- moe_routing.cpp - One row's expert choice from its router logits --===//
#include "kernels/moe_routing.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace mk::host::kernels {

void routeRow(const float *logits, uint32_t numExperts, uint32_t topK, bool normTopkProb,
              float *probs, int32_t *experts, float *weights) {
  assert(topK >= 1 && topK <= numExperts);
  float m = logits[0];
  for (uint32_t e = 1; e < numExperts; ++e)
    m = std::max(m, logits[e]);
  float l = 0.0f;
  for (uint32_t e = 0; e < numExperts; ++e) {
    probs[e] = std::exp(logits[e] - m);
    l += probs[e];
  }
  for (uint32_t e = 0; e < numExperts; ++e)
    probs[e] = probs[e] / l;
  // Selection by repeated maximum over the experts not chosen yet: only a strictly
  // larger p replaces the best, so among equal ones the lowest id wins. O(k^2 E), with
  // k <= 8 and E in the hundreds.
  for (uint32_t j = 0; j < topK; ++j) {
    int32_t best = -1;
    for (uint32_t e = 0; e < numExperts; ++e) {
      bool taken = false;
      for (uint32_t i = 0; i < j; ++i)
        taken |= experts[i] == int32_t(e);
      if (!taken && (best < 0 || probs[e] > probs[best]))
        best = int32_t(e);
    }
    experts[j] = best;
  }
  std::sort(experts, experts + topK);
  float sum = 0.0f;
  for (uint32_t j = 0; j < topK; ++j) {
    weights[j] = probs[experts[j]];
    sum += weights[j];
  }
  if (normTopkProb)
    for (uint32_t j = 0; j < topK; ++j)
      weights[j] = weights[j] / sum;
}

} // namespace mk::host::kernels
