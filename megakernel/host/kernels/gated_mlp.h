//===- gated_mlp.h - SiLU(gate) * up with HF's bf16 rounding points ------===//
//
//   g = bf16(xn . w_gate[n]),  u = bf16(xn . w_up[n])        (dot.h's contract)
//   act[n] = bf16(bf16(silu(g)) * u),  silu(g) = g / (1 + exp(-g)) in fp32
// (HF: act_fn(gate_proj(x)) * up_proj(x), each a bf16 tensor op). The dense gate_up
// and the MoE experts' moe_gate_up compute each element with this one function.
//===----------------------------------------------------------------------===//
#pragma once

#include "kernels/dot.h"
#include "kernels/scratch.h"

#include "mk/host/bf16.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace mk::host::kernels {

/// The element from its two fp32 dots (gateDot = xn . wGate, upDot = xn . wUp).
inline bf16 gatedActivationOfDots(float gateDot, float upDot) {
  const float g = roundToBf16(gateDot);
  const float u = roundToBf16(upDot);
  const float silu = roundToBf16(g / (1.0f + std::exp(-g)));
  return floatToBf16(silu * u);
}

/// One element of SiLU(xn . wGate) * (xn . wUp): xn, wGate, wUp are [n] bf16.
inline bf16 gatedActivation(const bf16 *xn, const bf16 *wGate, const bf16 *wUp,
                            size_t n) {
  return gatedActivationOfDots(dotBf16(xn, wGate, n), dotBf16(xn, wUp, n));
}

/// out[i * ldo + c] = gatedActivation(xn[i], wGate[c], wUp[c]) for i < rows, c < cols
/// (xn rows n apart, weight rows n apart), by blocks of dots (dotBlockBf16).
inline void gatedActivationBlock(const bf16 *xn, int64_t rows, const bf16 *wGate,
                                 const bf16 *wUp, int64_t cols, size_t n, bf16 *out,
                                 int64_t ldo) {
  float *const g = scratch<struct GateDots, float>(size_t(rows * kColBlock));
  float *const u = scratch<struct UpDots, float>(size_t(rows * kColBlock));
  for (int64_t c0 = 0; c0 < cols; c0 += kColBlock) {
    const int64_t nc = std::min<int64_t>(kColBlock, cols - c0);
    dotBlockBf16(xn, int64_t(n), rows, wGate + c0 * int64_t(n), int64_t(n), nc, n, g, nc);
    dotBlockBf16(xn, int64_t(n), rows, wUp + c0 * int64_t(n), int64_t(n), nc, n, u, nc);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t c = 0; c < nc; ++c)
        out[i * ldo + c0 + c] =
            gatedActivationOfDots(g[size_t(i * nc + c)], u[size_t(i * nc + c)]);
  }
}

} // namespace mk::host::kernels
