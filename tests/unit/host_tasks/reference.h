//===- reference.h - float64 references for the host task kernels ---------===//
//
// Written from the model's math (transformers' Llama/Qwen modules), independently of
// the kernels: straightforward loops in double over the same bf16 inputs, with no
// intermediate rounding unless a function says so.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/bf16.h"
#include "mk/isa/plan.h"

#include <cstdint>
#include <vector>

namespace mk::host::test {

/// bf16 values as doubles.
std::vector<double> toDouble(const bf16 *p, int64_t n);

/// weight * x / sqrt(mean(x^2) + eps), in double.
std::vector<double> refRmsNorm(const std::vector<double> &x, const bf16 *w, double eps);

/// The same with HF's bf16 rounding points: bf16(w * bf16(x / rms)).
std::vector<double> refRmsNormBf16(const std::vector<double> &x, const bf16 *w,
                                   double eps);

/// out[n] = sum_k x[k] * w[n * k_dim + k] (+ bias[n]) for n in [n0, n1).
std::vector<double> refMatVec(const std::vector<double> &x, const bf16 *w, int64_t n0,
                              int64_t n1, const bf16 *bias = nullptr);

/// RoPE frequencies in double; llama3 scaling from `model` when `llama3`.
std::vector<double> refInvFreq(const isa::ModelMeta &model, bool llama3, uint32_t hd);

/// Rotates one head in place with angles pos * invFreq computed in double.
void refRope(std::vector<double> &x, const std::vector<double> &invFreq, int64_t pos,
             bool interleaved);

/// Softmax attention of one query over keys/values (each [hd] bf16), scale 1/sqrt(hd).
struct RefAttention {
  std::vector<double> o; // [hd], zeros when there is no key
  double lse;            // -inf when there is no key
};
RefAttention refAttention(const bf16 *q, const std::vector<const bf16 *> &keys,
                          const std::vector<const bf16 *> &values, uint32_t hd);

} // namespace mk::host::test
