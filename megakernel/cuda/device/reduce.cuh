//===- reduce.cuh - Fixed-order warp and block reductions -----------------===//
//
// Butterfly reductions with a fixed shuffle pattern: the result is the same on every
// run (no atomics), and every lane of the warp receives it.
//===----------------------------------------------------------------------===//
#pragma once

#include "config.cuh"

namespace mk::cuda {

__device__ __forceinline__ float warpSum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1)
    v += __shfl_xor_sync(0xFFFFFFFFu, v, offset);
  return v;
}

__device__ __forceinline__ float warpMax(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xFFFFFFFFu, v, offset));
  return v;
}

/// Sum over all kThreads threads of the CTA; every thread gets the result. `scratch`
/// holds kWarps floats of shared memory. Contains __syncthreads: call from all threads.
__device__ __forceinline__ float blockSum(float v, float *scratch) {
  const uint32_t warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  v = warpSum(v);
  __syncthreads(); // scratch may still be read by a previous call
  if (lane == 0)
    scratch[warp] = v;
  __syncthreads();
  float total = 0.0f;
#pragma unroll
  for (uint32_t w = 0; w < kWarps; ++w)
    total += scratch[w]; // fixed order: warp 0, 1, ...
  return total;
}

} // namespace mk::cuda
