//===- dot.h - The dot-product contract of the host kernels ----------------===//
//
// Every dot product of the host kernels (each projection output element, each
// attention score, the RMSNorm statistics) is this one function of the two vectors,
// computed bit for bit alike by every SIMD target (simd_ops.cpp) and by the scalar
// fallback, so it depends on the two vectors only: not on the CPU, the tile, the row
// block, the thread or the run.
//
//   p[0..31] = +0                                  32 fp32 partial sums
//   for i = 0, 1, ..., n - 1:                      element i feeds partial i % 32
//     p[i % 32] = fma(a[i], b[i], p[i % 32])       one rounding per element
//   if n % 32 != 0, the last block is zero-padded: partials j >= n % 32 also get
//     p[j] = fma(0, 0, p[j])                       (this only turns -0 into +0)
//   for w = 16, 8, 4, 2, 1:                        a fixed tree of fp32 adds
//     p[j] = p[j] + p[j + w]   for j < w
//   result: p[0]
//
// AVX2 keeps the partials in four 8-lane vectors, AVX-512 in two 16-lane ones (enough
// independent FMA chains to hide its latency on both): the first steps of the tree add
// whole vectors, the last ones fold the halves of one. The scalar fallback runs the
// steps one partial at a time with std::fma. A NaN result is NaN on every target, its
// payload unspecified; every other result is bitwise identical.
//===----------------------------------------------------------------------===//
#pragma once

#include "kernels/simd_ops.h"

#include "mk/host/bf16.h"

#include <cstddef>
#include <cstdint>

namespace mk::host::kernels {

/// The number of partial sums of the contract.
inline constexpr size_t kDotPartials = 32;

/// Rows of activations processed per pass over a weight tile: each weight row is
/// streamed once per block and reused from cache for the block's rows (dotBlockBf16
/// tiles them for registers). Numerics do not depend on it.
inline constexpr int64_t kRowBlock = 64;
/// Output columns per dotBlockBf16 call of the tasks (bounds their fp32 scratch).
inline constexpr int64_t kColBlock = 128;

/// sum_i a[i] * b[i] of bf16 vectors, by the contract above.
inline float dotBf16(const bf16 *a, const bf16 *b, size_t n) {
  return simdOps().dotBf16(a, b, n);
}

/// out[r * ldo + c] = dotBf16(x + r * ldx, w + c * ldw, k) for r < rows, c < cols:
/// the projections' dots, tiled for registers and caches by the SIMD target (each
/// weight row streamed once per panel of x's rows), each one bit for bit dotBf16.
inline void dotBlockBf16(const bf16 *x, int64_t ldx, int64_t rows, const bf16 *w,
                         int64_t ldw, int64_t cols, size_t k, float *out, int64_t ldo) {
  simdOps().dotBlockBf16(x, ldx, rows, w, ldw, cols, k, out, ldo);
}

/// The same contract on fp32 vectors (where products round: fma matters).
inline float dotF32(const float *a, const float *b, size_t n) {
  return simdOps().dotF32(a, b, n);
}

} // namespace mk::host::kernels
