//===- residual_projection.h - out = residual + x W^T (O and down proj) ---===//
//
//   x [R, K] bf16, w [N, K] bf16, residual [R, N] bf16 -> out [R, N] bf16
//   out[r, n] = bf16(residual[r, n] + bf16(x[r] . w[n]))   for r in rows, n in cols
//   residual null (a tensor-parallel partial): out[r, n] = bf16(x[r] . w[n])
// HF rounding points: the projection's output is a bf16 tensor, and the residual add
// is a bf16 op (fp32 sum rounded once).
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/bf16.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::host::kernels {

void residualProjection(const bf16 *x, const bf16 *w, const bf16 *residual, bf16 *out,
                        int64_t n, int64_t k, isa::Range rows, isa::Range cols);

} // namespace mk::host::kernels
