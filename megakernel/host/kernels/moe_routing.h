//===- moe_routing.h - One row's expert choice from its router logits ----===//
//
// HF's Qwen3MoeSparseMoeBlock / MixtralSparseMoeBlock routing of one token, in fp32:
//   m = max_e logit[e];  l = sum_e exp(logit[e] - m)   (e ascending)
//   p[e] = exp(logit[e] - m) / l
//   the k largest p, a tie going to the lower expert id; listed in ascending id
//   w_j = p[e_j]; with normTopkProb, w_j = w_j / sum_j p[e_j] (sum in ascending id)
// Scalar code in a fixed order: the same bits on every SIMD target.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace mk::host::kernels {

/// logits [numExperts] f32 -> experts [topK] (ascending ids), weights [topK] f32.
/// probs: scratch of numExperts floats. Requires 1 <= topK <= numExperts.
void routeRow(const float *logits, uint32_t numExperts, uint32_t topK, bool normTopkProb,
              float *probs, int32_t *experts, float *weights);

} // namespace mk::host::kernels
