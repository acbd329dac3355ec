//===- residual_projection.cpp - out = residual + x W^T -------------------===//
#include "kernels/residual_projection.h"

#include "kernels/dot.h"
#include "kernels/scratch.h"

#include <algorithm>
#include <vector>

namespace mk::host::kernels {

void residualProjection(const bf16 *x, const bf16 *w, const bf16 *residual, bf16 *out,
                        int64_t n, int64_t k, isa::Range rows, isa::Range cols) {
  // [rows, cols] of one block
  float *const y = scratch<struct ProjectionDots, float>(size_t(kRowBlock * kColBlock));
  for (int64_t r0 = rows.begin; r0 < rows.end; r0 += kRowBlock) {
    const int64_t nr = std::min<int64_t>(kRowBlock, rows.end - r0);
    for (int64_t c0 = cols.begin; c0 < cols.end; c0 += kColBlock) {
      const int64_t nc = std::min<int64_t>(kColBlock, cols.end - c0);
      dotBlockBf16(x + r0 * k, k, nr, w + c0 * k, k, nc, size_t(k), y, nc);
      for (int64_t i = 0; i < nr; ++i)
        for (int64_t j = 0; j < nc; ++j) {
          const int64_t at = (r0 + i) * n + c0 + j;
          const float yv = roundToBf16(y[size_t(i * nc + j)]);
          out[at] =
              residual ? floatToBf16(bf16ToFloat(residual[at]) + yv) : floatToBf16(yv);
        }
    }
  }
}

} // namespace mk::host::kernels
