//===- attn_merge.cuh - Fixed-order merge of flash-decoding partials ------===//
//
//   partial_o [B, heads, splits, hd] f32, partial_lse [B, heads, splits] f32
//   -> out [B, heads * hd] bf16, columns of the query heads of KV heads range[1]
//   tile: rows range[0], KV heads range[1]; aux[0] = number of splits.
//
// The function of host/tasks/attn_merge.h. For each row and query head:
//   M = max_s lse_s,  w_s = exp(lse_s - M),  out = bf16(sum_s w_s o_s / sum_s w_s)
// Splits with lse = -inf (no keys) get weight 0 and are not read; all -inf writes
// zeros. The (row, head) pairs go in batches whose weights fit the scratch:
//   1. a warp per pair: M (warpMax), w_s into scratch, sum_s w_s (lane-strided partial
//      sums, then the warpSum butterfly: a fixed order);
//   2. a thread per (pair, dim): acc = sum_s w_s o_s[d] in split order.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/reduce.cuh"
#include "task_context.cuh"

namespace mk::cuda::tasks {

namespace attn_merge {
constexpr isa::TaskKind kKind = isa::TaskKind::AttnMerge;
constexpr uint32_t kPartialO = role(kKind, "partial_o");
constexpr uint32_t kPartialLse = role(kKind, "partial_lse");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace attn_merge

template <> struct CudaTask<isa::TaskKind::AttnMerge> {
  static constexpr Engine kEngine = Engine::Own;
  __device__ static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

__device__ inline void
CudaTask<isa::TaskKind::AttnMerge>::run(const TaskContext &ctx,
                                        const isa::TaskRecord &task) {
  using namespace attn_merge;
  const DeviceModel &model = *ctx.model;
  const uint32_t hd = model.headDim, group = model.numHeads / model.numKvHeads;
  const DeviceTensor &po = ctx.tensor(task, kPartialO);
  const int64_t heads = po.shape[1], stride = po.shape[2];
  const uint32_t splits = task.aux[0];
  const float *partialO = ctx.data<const float>(task, kPartialO);     // [B,h,stride,hd]
  const float *partialLse = ctx.data<const float>(task, kPartialLse); // [B,h,stride]
  bf16 *out = ctx.data<bf16>(task, kOut);                             // [B, heads*hd]

  // Pair x: row b0 + x / qHeads, query head h0 + x % qHeads.
  const uint32_t b0 = task.range[0].begin, h0 = task.range[1].begin * group;
  const uint32_t qHeads = (task.range[1].end - task.range[1].begin) * group;
  const uint32_t pairs = (task.range[0].end - task.range[0].begin) * qHeads;
  auto pairBase = [&](uint32_t x) { // (b * heads + h): index of the pair's lse row
    return int64_t(b0 + x / qHeads) * heads + h0 + x % qHeads;
  };

  // Scratch: weights [batch][splits], then sums [batch]. batch >= 1 while splits + 1 <=
  // scratchBytes / 4 (24576 on sm_80); plans have at most one split per worker.
  const uint32_t batch = kConfig.scratchBytes / sizeof(float) / (splits + 1);
  float *weights = reinterpret_cast<float *>(ctx.scratch);
  float *sums = weights + batch * splits;
  const uint32_t warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  for (uint32_t first = 0; first < pairs; first += batch) { // CTA-uniform
    const uint32_t count = min(batch, pairs - first);
    for (uint32_t x = warp; x < count; x += kWarps) {
      const float *lse = partialLse + pairBase(first + x) * stride;
      float m = -INFINITY;
      for (uint32_t s = lane; s < splits; s += 32)
        m = fmaxf(m, lse[s]);
      m = warpMax(m);
      float sum = 0.0f;
      for (uint32_t s = lane; s < splits; s += 32) {
        const float w = lse[s] == -INFINITY ? 0.0f : expf(lse[s] - m);
        weights[x * splits + s] = w;
        sum += w;
      }
      sum = warpSum(sum); // 0 only when every split is empty
      if (lane == 0)
        sums[x] = sum;
    }
    __syncthreads();
    for (uint32_t e = threadIdx.x; e < count * hd; e += kThreads) {
      const uint32_t x = e / hd, d = e % hd;
      const int64_t base = pairBase(first + x);
      const float *o = partialO + base * stride * hd + d;
      const float *w = weights + x * splits;
      float acc = 0.0f;
      for (uint32_t s = 0; s < splits; ++s)
        if (w[s] != 0.0f) // an empty split's o is never read (w = 0 adds 0 otherwise)
          acc += w[s] * o[int64_t(s) * hd];
      out[base * hd + d] = toBf16(sums[x] == 0.0f ? 0.0f : acc / sums[x]);
    }
    __syncthreads(); // the next batch rewrites the scratch
  }
}

} // namespace mk::cuda::tasks
