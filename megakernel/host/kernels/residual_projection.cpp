//===- residual_projection.cpp - out = residual + x W^T -------------------===//
#include "kernels/residual_projection.h"

#include "kernels/dot.h"

#include <algorithm>

namespace mk::host::kernels {

void residualProjection(const bf16 *x, const bf16 *w, const bf16 *residual, bf16 *out,
                        int64_t n, int64_t k, isa::Range rows, isa::Range cols) {
  for (int64_t r0 = rows.begin; r0 < rows.end; r0 += kRowBlock) {
    const int64_t r1 = std::min<int64_t>(rows.end, r0 + kRowBlock);
    for (int64_t c = cols.begin; c < cols.end; ++c) {
      const bf16 *wRow = w + c * k;
      for (int64_t r = r0; r < r1; ++r) {
        const float y = roundToBf16(dotBf16(x + r * k, wRow, size_t(k)));
        out[r * n + c] =
            residual ? floatToBf16(bf16ToFloat(residual[r * n + c]) + y) : floatToBf16(y);
      }
    }
  }
}

} // namespace mk::host::kernels
