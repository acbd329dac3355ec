//===- argmax.cuh - Reduction of the LM head's partial argmaxes -----------===//
//
//   partial_max [R, tiles, 2] f32 (value, index as f32) -> tokens_out [R] i32
//   tile: rows range[0]; aux[0] = number of partials (LM-head tiles).
//
// The function of host/tasks/argmax.h: a larger value wins, an equal value with a
// lower index wins, NaN never wins; a row with no comparable value gets token 0. That
// rule picks the maximum of a total order on (value, -index), so any fixed reduction
// order gives the host's result: a warp per row, lanes scan partials lane, lane + 32,
// ..., then a xor butterfly.
//===----------------------------------------------------------------------===//
#pragma once

#include "task_context.cuh"

namespace mk::cuda::tasks {

namespace argmax {
constexpr isa::TaskKind kKind = isa::TaskKind::Argmax;
constexpr uint32_t kPartialMax = role(kKind, "partial_max");
constexpr uint32_t kTokensOut = role(kKind, "tokens_out");

/// Folds candidate (value, index) into (best, bestIndex); best = NaN: none yet.
__device__ __forceinline__ void consider(float &best, float &bestIndex, float value,
                                         float index) {
  if (isnan(value))
    return;
  if (isnan(best) || value > best || (value == best && index < bestIndex)) {
    best = value;
    bestIndex = index;
  }
}
} // namespace argmax

template <> struct CudaTask<isa::TaskKind::Argmax> {
  static constexpr Engine kEngine = Engine::Own;
  __device__ static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

__device__ inline void CudaTask<isa::TaskKind::Argmax>::run(const TaskContext &ctx,
                                                            const isa::TaskRecord &task) {
  using namespace argmax;
  const int64_t stride = ctx.tensor(task, kPartialMax).shape[1];
  const uint32_t tiles = task.aux[0];
  const float *partialMax = ctx.data<const float>(task, kPartialMax); // [R, stride, 2]
  int32_t *tokensOut = ctx.data<int32_t>(task, kTokensOut);           // [R]
  const uint32_t warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (uint32_t r = task.range[0].begin + warp; r < task.range[0].end; r += kWarps) {
    const float *p = partialMax + r * stride * 2;
    float best = NAN, bestIndex = 0.0f;
    for (uint32_t t = lane; t < tiles; t += 32)
      consider(best, bestIndex, p[2 * t], p[2 * t + 1]);
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
      const float value = __shfl_xor_sync(0xFFFFFFFFu, best, offset);
      const float index = __shfl_xor_sync(0xFFFFFFFFu, bestIndex, offset);
      consider(best, bestIndex, value, index);
    }
    if (lane == 0)
      tokensOut[r] = static_cast<int32_t>(bestIndex);
  }
}

} // namespace mk::cuda::tasks
