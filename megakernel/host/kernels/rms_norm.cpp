//===- rms_norm.cpp - HF LlamaRMSNorm with its bf16 rounding points --------===//
#include "kernels/rms_norm.h"

#include "kernels/dot.h"
#include "kernels/simd_ops.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace mk::host::kernels {

void rmsNormRow(const bf16 *x, const bf16 *w, int64_t n, float eps, bf16 *out) {
  const float mean = dotBf16(x, x, static_cast<size_t>(n)) / static_cast<float>(n);
  const float scale = 1.0f / std::sqrt(mean + eps);
  simdOps().normalizeBf16(x, w, scale, static_cast<size_t>(n), out);
}

namespace {
/// One thread's normalized rows: a few entries, the least recently used replaced.
struct NormCache {
  struct Entry {
    uint64_t launch = 0, step = 0, used = 0;
    const bf16 *x = nullptr, *w = nullptr;
    const int32_t *positions = nullptr;
    int64_t r0 = 0, n = 0, hidden = 0;
    float eps = 0.0f;
    std::vector<bf16> rows;
  };
  // A layer's attention and MLP norms, and the LM head's, with room to spare.
  std::array<Entry, 4> entries;
  uint64_t clock = 0;
};
} // namespace

const bf16 *normalizedRows(uint64_t launch, uint64_t step, const bf16 *x, int64_t r0,
                           int64_t n, int64_t hidden, const bf16 *w, float eps,
                           const int32_t *positions) {
  thread_local NormCache cache;
  NormCache::Entry *slot = &cache.entries[0];
  for (NormCache::Entry &e : cache.entries) {
    if (launch != 0 && e.launch == launch && e.step == step && e.x == x && e.w == w &&
        e.positions == positions && e.r0 == r0 && e.n == n && e.hidden == hidden &&
        e.eps == eps) {
      e.used = ++cache.clock;
      return e.rows.data();
    }
    if (e.used < slot->used)
      slot = &e;
  }
  slot->rows.resize(size_t(n * hidden));
  for (int64_t i = 0; i < n; ++i) {
    bf16 *dst = slot->rows.data() + i * hidden;
    if (positions && positions[r0 + i] < 0)
      std::fill_n(dst, hidden, bf16{0});
    else
      rmsNormRow(x + (r0 + i) * hidden, w, hidden, eps, dst);
  }
  slot->launch = launch;
  slot->step = step;
  slot->x = x;
  slot->w = w;
  slot->positions = positions;
  slot->r0 = r0;
  slot->n = n;
  slot->hidden = hidden;
  slot->eps = eps;
  slot->used = ++cache.clock;
  return slot->rows.data();
}

void rmsNormInPlace(float *x, const bf16 *w, int64_t n, float eps) {
  const float sumSquares = dotF32(x, x, static_cast<size_t>(n));
  const float scale = 1.0f / std::sqrt(sumSquares / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i)
    x[i] = roundToBf16(bf16ToFloat(w[i]) * roundToBf16(x[i] * scale));
}

} // namespace mk::host::kernels
