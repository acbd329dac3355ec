//===- rms_norm.h - HF LlamaRMSNorm with its bf16 rounding points ----------===//
//
//   y = bf16(w * bf16(x * rsqrt(mean(x^2) + eps)))
// statistics in fp32 (the sum of squares is a dot product of x with itself, by
// dot.h's contract), as transformers''
// LlamaRMSNorm / Qwen3RMSNorm do for bf16 inputs: normalize in fp32, cast to the input
// dtype, multiply by the bf16 weight (a bf16 op: fp32 product rounded once).
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/bf16.h"

#include <cstdint>

namespace mk::host::kernels {

/// x: [n] bf16, w: [n] bf16 -> out: [n] bf16.
void rmsNormRow(const bf16 *x, const bf16 *w, int64_t n, float eps, bf16 *out);

/// Rows [r0, r0 + n) of x ([.., hidden] bf16), each rmsNormRow'd with w, except rows
/// whose positions[r] < 0 (when positions is given), which are zeros: [n, hidden] bf16,
/// valid until this thread's next call. With launch != 0 the result is kept per thread
/// and returned again, not recomputed, for the same (launch, step, x, w, r0, n) — the
/// Q, K and V heads and the gate/up column tiles of one layer all normalize the same
/// rows (TaskContext::launch says why that is safe).
const bf16 *normalizedRows(uint64_t launch, uint64_t step, const bf16 *x, int64_t r0,
                           int64_t n, int64_t hidden, const bf16 *w, float eps,
                           const int32_t *positions);

/// The same function on values that are already bf16-representable floats (a head of a
/// projection output, Qwen3's QK-norm), in place: x: [n] -> bf16-valued floats.
void rmsNormInPlace(float *x, const bf16 *w, int64_t n, float eps);

} // namespace mk::host::kernels
