//===- gated_mlp.h - SiLU(gate) * up with HF's bf16 rounding points ------===//
//
//   g = bf16(xn . w_gate[n]),  u = bf16(xn . w_up[n])        (dot.h's contract)
//   act[n] = bf16(bf16(silu(g)) * u),  silu(g) = g / (1 + exp(-g)) in fp32
// (HF: act_fn(gate_proj(x)) * up_proj(x), each a bf16 tensor op). The dense gate_up
// and the MoE experts' moe_gate_up compute each element with this one function.
//===----------------------------------------------------------------------===//
#pragma once

#include "kernels/dot.h"

#include "mk/host/bf16.h"

#include <cmath>
#include <cstddef>

namespace mk::host::kernels {

/// One element of SiLU(xn . wGate) * (xn . wUp): xn, wGate, wUp are [n] bf16.
inline bf16 gatedActivation(const bf16 *xn, const bf16 *wGate, const bf16 *wUp,
                            size_t n) {
  const float g = roundToBf16(dotBf16(xn, wGate, n));
  const float u = roundToBf16(dotBf16(xn, wUp, n));
  const float silu = roundToBf16(g / (1.0f + std::exp(-g)));
  return floatToBf16(silu * u);
}

} // namespace mk::host::kernels
