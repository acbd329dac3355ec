//===- simd_ops.h - The host kernels' SIMD primitives, one table per target ===//
//
// simd_ops.cpp compiles these primitives once per SIMD target (Highway's
// foreach_target) and keeps a pointer to the table of the target in use
// (mk/host/simd.h chooses or forces it). Callers go through simdOps(): one predicted
// load and an indirect call, the cost of the direct call it replaces.
//
// Every primitive computes one function on every target, bit for bit: the numerics
// contract of each is written next to its wrapper (dot.h, attention.h).
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/bf16.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mk::host::kernels {

struct SimdOps {
  const char *target; // Highway's name of the target: "AVX3_DL", "AVX2", "SCALAR", ...
  int64_t targetBit;  // its HWY_* bit
  float (*dotBf16)(const bf16 *a, const bf16 *b, size_t n);
  float (*dotF32)(const float *a, const float *b, size_t n);
  /// out[r * ldo + c] = dotBf16(x + r * ldx, w + c * ldw, k) for r < rows, c < cols:
  /// a block of dot.h's dots, each bit for bit the one dotBf16 computes. Vector
  /// targets tile it for registers and caches (several rows of x and of w per pass).
  void (*dotBlockBf16)(const bf16 *x, int64_t ldx, int64_t rows, const bf16 *w,
                       int64_t ldw, int64_t cols, size_t k, float *out, int64_t ldo);
  /// out[h * n + j] = dotBf16(q + h * hd, k + rows[j] * stride, hd) for h < nq,
  /// j < n: a query group's attention scores against n cache rows, each bit for bit
  /// the dot dotBf16 computes (vector targets convert q once for all the rows).
  void (*dotRowsBf16)(const bf16 *q, int64_t nq, const bf16 *k, const int64_t *rows,
                      int64_t stride, int64_t n, size_t hd, float *out);
  /// o[d] = fma(p[j], v_j[d], o[d]) for j = 0, 1, ..., n - 1 in that order and every
  /// d < hd, where v_j = v + rows[j] * stride. Elementwise, so the same on any width.
  void (*weightedRowSum)(const float *p, const bf16 *v, const int64_t *rows,
                         int64_t stride, int64_t n, uint32_t hd, float *o);
  /// out[i] = bf16(w[i] * roundToBf16(x[i] * scale)) for i < n: RMSNorm's
  /// application (rms_norm.h), two fp32 products each rounded to bf16 (bf16.h).
  void (*normalizeBf16)(const bf16 *x, const bf16 *w, float scale, size_t n, bf16 *out);
};

namespace detail {
/// The table in use; null until the first simdOps() or simd::forceTarget().
extern std::atomic<const SimdOps *> activeOps;
/// Selects the best target this CPU supports and returns its table.
const SimdOps &selectBestOps();
} // namespace detail

inline const SimdOps &simdOps() {
  // The tables are constants; only the pointer changes, so acquire orders nothing
  // that matters beyond the pointer itself (and is a plain load on x86).
  const SimdOps *ops = detail::activeOps.load(std::memory_order_acquire);
  return ops ? *ops : detail::selectBestOps();
}

/// The compiled targets' tables, best first (the exact scalar fallback last).
std::span<const SimdOps *const> compiledOps();

/// The best compiled target this CPU supports (Highway's dynamic dispatch choice).
const SimdOps &bestOps();

/// Whether this CPU (and its OS) can run the target of `ops`.
bool supportedByCpu(const SimdOps &ops);

/// Makes `ops` the table in use (the caller checked supportedByCpu).
void setActiveOps(const SimdOps &ops);

} // namespace mk::host::kernels
