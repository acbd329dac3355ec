//===- bf16.cuh - bf16 loads, conversions and 16-byte vectors on the device ===//
//
// bf16 storage, fp32 arithmetic. Conversions round to nearest even
// (__float2bfloat16_rn), the same as the host executor's floatToBf16.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <cuda_bf16.h>

namespace mk::cuda {

using bf16 = __nv_bfloat16;

__device__ __forceinline__ float toFloat(bf16 v) { return __bfloat162float(v); }
__device__ __forceinline__ bf16 toBf16(float v) { return __float2bfloat16_rn(v); }
/// The float nearest to v that a bf16 holds (the host's roundToBf16).
__device__ __forceinline__ float roundBf16(float v) { return toFloat(toBf16(v)); }

/// Eight bf16 values: one 16-byte load or store.
struct alignas(16) Bf16x8 {
  __nv_bfloat162 h[4];
};

__device__ __forceinline__ Bf16x8 load8(const bf16 *p) {
  return *reinterpret_cast<const Bf16x8 *>(p);
}
/// 16-byte load that bypasses L1 (streamed weights are read once).
__device__ __forceinline__ Bf16x8 load8Stream(const bf16 *p) {
  uint4 v = __ldcs(reinterpret_cast<const uint4 *>(p));
  return *reinterpret_cast<Bf16x8 *>(&v);
}
__device__ __forceinline__ void store8(bf16 *p, const Bf16x8 &v) {
  *reinterpret_cast<Bf16x8 *>(p) = v;
}

/// a . b over eight lanes, accumulated in a fixed order into acc.
__device__ __forceinline__ float dot8(const Bf16x8 &a, const Bf16x8 &b, float acc) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    float2 fa = __bfloat1622float2(a.h[i]);
    float2 fb = __bfloat1622float2(b.h[i]);
    acc = fmaf(fa.x, fb.x, acc);
    acc = fmaf(fa.y, fb.y, acc);
  }
  return acc;
}

} // namespace mk::cuda
