//===- attention.cpp - Softmax attention of a query group over cache slots --===//
#include "kernels/attention.h"

#include "kernels/dot.h"
#include "kernels/simd_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mk::host::kernels {

float attentionScale(uint32_t hd) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
}

void attendSlots(const bf16 *q, uint32_t numHeads, const KvHeadView &cache,
                 const int64_t *slots, int64_t n, float scale, float *o, float *lse,
                 std::vector<float> &scratch) {
  const uint32_t hd = cache.hd;
  std::fill(o, o + size_t(numHeads) * hd, 0.0f);
  if (n <= 0) {
    if (lse)
      std::fill(lse, lse + numHeads, -std::numeric_limits<float>::infinity());
    return;
  }
  // scores[h * n + j]; every key is loaded once for the whole group.
  // cache.key(slot) == keys + slot * stride, and likewise the values.
  const int64_t stride = cache.kvHeads * hd;
  scratch.resize(size_t(numHeads) * size_t(n));
  float *scores = scratch.data();
  const SimdOps &ops = simdOps();
  ops.dotRowsBf16(q, numHeads, cache.key(0), slots, stride, n, hd, scores);
  for (size_t i = 0; i < size_t(numHeads) * size_t(n); ++i)
    scores[i] *= scale;
  const bf16 *values = cache.value(0);
  for (uint32_t h = 0; h < numHeads; ++h) {
    float *s = scores + h * n;
    float m = s[0];
    for (int64_t j = 1; j < n; ++j)
      m = std::max(m, s[j]);
    float l = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
      s[j] = std::exp(s[j] - m);
      l += s[j];
    }
    float *oh = o + size_t(h) * hd;
    ops.weightedRowSum(s, values, slots, stride, n, hd, oh);
    for (uint32_t d = 0; d < hd; ++d)
      oh[d] /= l;
    if (lse)
      lse[h] = m + std::log(l);
  }
}

} // namespace mk::host::kernels
