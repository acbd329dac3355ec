//===- rms_norm.cpp - HF LlamaRMSNorm with its bf16 rounding points --------===//
#include "kernels/rms_norm.h"

#include "kernels/dot.h"
#include "kernels/simd_ops.h"

#include <cmath>

namespace mk::host::kernels {

void rmsNormRow(const bf16 *x, const bf16 *w, int64_t n, float eps, bf16 *out) {
  const float mean = dotBf16(x, x, static_cast<size_t>(n)) / static_cast<float>(n);
  const float scale = 1.0f / std::sqrt(mean + eps);
  simdOps().normalizeBf16(x, w, scale, static_cast<size_t>(n), out);
}

void rmsNormInPlace(float *x, const bf16 *w, int64_t n, float eps) {
  const float sumSquares = dotF32(x, x, static_cast<size_t>(n));
  const float scale = 1.0f / std::sqrt(sumSquares / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i)
    x[i] = roundToBf16(bf16ToFloat(w[i]) * roundToBf16(x[i] * scale));
}

} // namespace mk::host::kernels
