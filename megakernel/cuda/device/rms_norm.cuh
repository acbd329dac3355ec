//===- rms_norm.cuh - HF LlamaRMSNorm with its bf16 rounding points --------===//
//
//   y = bf16(w * bf16(x * scale)),   scale = 1 / sqrt(sum(x^2) / n + eps)
// the host's kernels/rms_norm.h: statistics in fp32 (each sum in a fixed order, which
// may differ from the host's), the normalized value rounded to bf16 before the bf16
// weight multiplies it. Every function takes n (the row length) and handles any n;
// `vec` (n % 8 == 0, 16-byte aligned rows) selects 16-byte loads.
//===----------------------------------------------------------------------===//
#pragma once

#include "config.cuh"
#include "device/bf16.cuh"
#include "device/reduce.cuh"

#include <cstdint>

namespace mk::cuda {

__device__ __forceinline__ float rmsScale(float sumSquares, uint32_t n, float eps) {
  return 1.0f / sqrtf(sumSquares / static_cast<float>(n) + eps);
}

/// One normalized element: bf16(w * bf16(x * scale)).
__device__ __forceinline__ float rmsNormValue(float x, float w, float scale) {
  return w * roundBf16(x * scale);
}

/// Scales of rows [0, rows) of x [rows, n] bf16 (row stride n) into scales[rows].
/// Each row gets kThreads / (rows rounded up to a power of two) threads, which split it
/// in a fixed pattern and sum their parts in a fixed order. tmp: kThreads floats of
/// shared memory. rows <= kThreads. Contains __syncthreads: call from all threads; scales
/// is visible to all threads on return.
__device__ inline void rmsRowScales(const bf16 *x, uint32_t rows, uint32_t n, bool vec,
                                    float eps, float *scales, float *tmp) {
  uint32_t slots = 1;
  while (slots < rows)
    slots *= 2;
  const uint32_t perRow = kThreads / slots;
  const uint32_t r = threadIdx.x / perRow, part = threadIdx.x % perRow;
  float acc = 0.0f;
  if (r < rows) {
    const bf16 *xr = x + size_t(r) * n;
    if (vec) {
#pragma unroll 4
      for (uint32_t i = part * 8; i < n; i += perRow * 8) {
        const Bf16x8 v = load8(xr + i);
        acc = dot8(v, v, acc);
      }
    } else {
#pragma unroll 4
      for (uint32_t i = part; i < n; i += perRow) {
        const float v = toFloat(xr[i]);
        acc = fmaf(v, v, acc);
      }
    }
  }
  // The perRow threads of a row are aligned and consecutive: lanes of one warp first.
  const uint32_t lanes = perRow < 32 ? perRow : 32;
  for (uint32_t offset = lanes / 2; offset > 0; offset /= 2)
    acc += __shfl_xor_sync(0xFFFFFFFFu, acc, offset);
  if (threadIdx.x % lanes == 0)
    tmp[threadIdx.x / lanes] = acc;
  __syncthreads();
  if (threadIdx.x < rows) {
    const uint32_t warpsPerRow = perRow / lanes;
    float sum = 0.0f;
    for (uint32_t w = 0; w < warpsPerRow; ++w)
      sum += tmp[threadIdx.x * warpsPerRow + w];
    scales[threadIdx.x] = rmsScale(sum, n, eps);
  }
  __syncthreads();
}

/// Eight loaded elements x normalized with eight loaded weights w: bf16(w * bf16(x *
/// scale)) each (the 16-byte form of rmsNormValue, for loads issued ahead).
__device__ __forceinline__ uint4 rmsNormalize8(const uint4 &x, const uint4 &w,
                                               float scale) {
  Bf16x8 out = *reinterpret_cast<const Bf16x8 *>(&x);
  const Bf16x8 wv = *reinterpret_cast<const Bf16x8 *>(&w);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 xf = __bfloat1622float2(out.h[i]);
    const float2 wf = __bfloat1622float2(wv.h[i]);
    out.h[i] = __floats2bfloat162_rn(rmsNormValue(xf.x, wf.x, scale),
                                     rmsNormValue(xf.y, wf.y, scale));
  }
  return *reinterpret_cast<const uint4 *>(&out);
}

/// Elements [k0, k0 + 8) of a normalized row: bf16(w * bf16(x * scale)), or x itself
/// when w is null; zero at k >= n. x, w: [n] bf16; k0 % 8 == 0.
__device__ __forceinline__ uint4 rmsNormalized8(const bf16 *x, const bf16 *w, float scale,
                                                uint32_t k0, uint32_t n, bool vec) {
  if (vec) {
    if (k0 >= n)
      return make_uint4(0, 0, 0, 0);
    const uint4 xv = *reinterpret_cast<const uint4 *>(x + k0);
    return w ? rmsNormalize8(xv, *reinterpret_cast<const uint4 *>(w + k0), scale) : xv;
  } else {
    // Rows are not 16-byte aligned: element by element (a rare shape: one at a time).
    uint64_t lo = 0, hi = 0;
#pragma unroll 1
    for (uint32_t e = 0; e < 8; ++e) {
      const uint32_t k = k0 + e;
      const float v = k >= n ? 0.0f
                      : w    ? rmsNormValue(toFloat(x[k]), toFloat(w[k]), scale)
                             : toFloat(x[k]);
      const uint64_t bits = __bfloat16_as_ushort(toBf16(v));
      if (e < 4)
        lo |= bits << (16 * e);
      else
        hi |= bits << (16 * (e - 4));
    }
    return make_uint4(uint32_t(lo), uint32_t(lo >> 32), uint32_t(hi), uint32_t(hi >> 32));
  }
}

/// In place on one warp's row y [n] of bf16-valued floats (shared memory): the same
/// function (the host's rmsNormInPlace, Qwen3's QK-norm). w: [n] bf16. Call from all
/// lanes of the warp; y is visible to the whole warp on return.
__device__ inline void warpRmsNormInPlace(float *y, const bf16 *w, uint32_t n,
                                          float eps) {
  const uint32_t lane = threadIdx.x % 32;
  float sumSquares = 0.0f;
  for (uint32_t i = lane; i < n; i += 32)
    sumSquares = fmaf(y[i], y[i], sumSquares);
  const float scale = rmsScale(warpSum(sumSquares), n, eps);
  for (uint32_t i = lane; i < n; i += 32)
    y[i] = roundBf16(rmsNormValue(y[i], toFloat(w[i]), scale));
  __syncwarp();
}

} // namespace mk::cuda
