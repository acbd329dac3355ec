//===- rope.cuh - Rotary position embedding (HF conventions) ---------------===//
//
// The host's kernels/rope.h applyRope: pairs (a, b) = (y[i], y[i + hd/2]) (rotate-half,
// HF's default) or (y[2i], y[2i + 1]) (interleaved), angle = float(pos) * invFreq[i] in
// fp32, then
//   a' = bf16(a cos - b sin),   b' = bf16(b cos + a sin).
// invFreq comes from the host's ropeInvFreq (DeviceModel::invFreq), so both executors
// rotate by the same angles. The host takes cos and sin in double precision and rounds
// them to float; ropeCosSin matches that to about 1e-7 (see there), far below the bf16
// rounding of the rotated values.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/bf16.cuh"

#include <cstdint>

namespace mk::cuda {

/// 1 / pi, rounded to double.
inline constexpr double kInvPi = 0.318309886183790671537767526745028724;

/// cos and sin of `angle` (radians, fp32), within about 1e-7 of float(cos(double(angle)))
/// and float(sin(double(angle))). The angle is reduced in double precision to a multiple
/// q of pi/2 plus pi r, |r| <= 1/4 (the rounding of 1/pi costs |angle| * 2^-53: 1e-10 at
/// angle 10^6), then sincospif (1 ulp) evaluates the remainder, rounded to float (an
/// angle error below 5e-8). Both steps are inline; double sincos is not: its
/// large-argument path is an out-of-line call that makes the caller save its registers
/// to local memory, and its polynomial needs many more registers.
__device__ __forceinline__ void ropeCosSin(float angle, float &c, float &s) {
  const double halfTurns = static_cast<double>(angle) * kInvPi;
  const double q = rint(2.0 * halfTurns);
  float sr, cr;
  sincospif(static_cast<float>(halfTurns - 0.5 * q), &sr, &cr);
  const uint32_t quadrant = static_cast<uint32_t>(static_cast<int64_t>(q)) & 3;
  c = quadrant & 1 ? sr : cr;
  s = quadrant & 1 ? cr : sr;
  if (quadrant == 1 || quadrant == 2)
    c = -c;
  if (quadrant >= 2)
    s = -s;
}

/// Rotates one head y [hd] (bf16-valued floats, shared memory, visible to the whole
/// warp) to position pos and stores it to dst [hd] bf16. invFreq: [hd / 2]. Call from
/// all lanes of the warp; lanes take pairs.
__device__ inline void warpRopeStore(const float *y, bf16 *dst, const float *invFreq,
                                     int64_t pos, uint32_t hd, bool interleaved) {
  const uint32_t half = hd / 2;
  const float p = static_cast<float>(pos);
  for (uint32_t i = threadIdx.x % 32; i < half; i += 32) {
    const uint32_t ia = interleaved ? 2 * i : i;
    const uint32_t ib = interleaved ? 2 * i + 1 : i + half;
    float cf, sf;
    ropeCosSin(p * invFreq[i], cf, sf);
    const float a = y[ia], b = y[ib];
    dst[ia] = toBf16(a * cf - b * sf);
    dst[ib] = toBf16(b * cf + a * sf);
  }
}

} // namespace mk::cuda
