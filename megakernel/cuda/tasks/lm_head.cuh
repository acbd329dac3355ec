//===- lm_head.cuh - Final RMSNorm, LM-head logits, tile argmax ------------===//
//
//   x [R, hidden] bf16, norm_w [hidden] bf16, w [vocab, hidden] bf16
//   -> logits [R, vocab] f32, partial_max [R, tiles, 2] f32
//   tile: rows range[0], vocabulary range[1]; aux[0] = this tile's index in
//   partial_max.
//   xn = rmsNorm(x[r], norm_w)  (bf16);  logits[r, v] = xn . w[v]  (fp32, not rounded)
//   partial_max[r, aux[0]] = (max logit, its index as f32) over the tile: the first
//   (lowest) index wins ties, NaN never wins; a tile of NaNs only gives (-inf, first).
// Under tensor parallelism w is rank r's slice of the vocabulary, and the indices
// written are global: the local index + shardIndex(r) * the slice's rows.
// The host's tasks/lm_head.h. The argmax reads the tile's logits back after the
// projection: one warp per row, lanes scan strided columns, then a butterfly keeps the
// (value, lowest index) maximum; that order is total, so the result is the host's
// whatever the scan order.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/bf16.cuh"
#include "device/projection_pass.cuh"
#include "task_context.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

/// The operands of an LmHead task. Built where they are used: values computed before
/// project() would stay live in registers across its k loop.
struct LmHeadOperands {
  const bf16 *x;     // [R, hidden]
  const bf16 *normW; // [hidden]
  const bf16 *w;     // [vocab, hidden]
  float *logits;     // [R, vocab]
  float *partialMax; // [R, tiles, 2]
  uint32_t vocab, hidden, tiles;
  uint32_t vocabBase; // the slice's first global id (0 without tensor parallelism)

  __device__ LmHeadOperands(const TaskContext &ctx, const isa::TaskRecord &task) {
    constexpr isa::TaskKind kKind = isa::TaskKind::LmHead;
    const DeviceTensor &wRef = ctx.tensor(task, role(kKind, "w"));
    const DeviceTensor &pmRef = ctx.tensor(task, role(kKind, "partial_max"));
    x = ctx.data<const bf16>(task, role(kKind, "x"));
    normW = ctx.data<const bf16>(task, role(kKind, "norm_w"));
    w = static_cast<const bf16 *>(wRef.data);
    logits = ctx.data<float>(task, role(kKind, "logits"));
    partialMax = static_cast<float *>(pmRef.data);
    vocab = uint32_t(wRef.shape[0]);
    hidden = uint32_t(wRef.shape[1]);
    tiles = uint32_t(pmRef.shape[1]);
    vocabBase = ctx.params->comm.shardIndex[task.operand[role(kKind, "w")]] * vocab;
  }
};

/// partial_max of the tile's rows from its logits (written by this CTA, visible after a
/// __syncthreads). One warp per row.
__device__ inline void lmHeadTileArgmax(const TaskContext &ctx,
                                        const isa::TaskRecord &task) {
  const LmHeadOperands o(ctx, task);
  const isa::Range rows = task.range[0], cols = task.range[1];
  const uint32_t lane = threadIdx.x % 32;
  for (uint32_t r = rows.begin + threadIdx.x / 32; r < rows.end; r += kWarps) {
    const float *row = o.logits + size_t(r) * o.vocab;
    float best = -INFINITY;
    int32_t bestIndex = -1; // no non-NaN logit yet
    for (uint32_t v = cols.begin + lane; v < cols.end; v += 32) {
      const float value = row[v];
      if (!isnan(value) && (bestIndex < 0 || value > best)) {
        best = value;
        bestIndex = int32_t(v);
      }
    }
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
      const float otherBest = __shfl_xor_sync(0xFFFFFFFFu, best, offset);
      const int32_t otherIndex = __shfl_xor_sync(0xFFFFFFFFu, bestIndex, offset);
      const bool takeOther =
          otherIndex >= 0 && (bestIndex < 0 || otherBest > best ||
                              (otherBest == best && otherIndex < bestIndex));
      if (takeOther) {
        best = otherBest;
        bestIndex = otherIndex;
      }
    }
    if (lane == 0) {
      float *dst = o.partialMax + (size_t(r) * o.tiles + task.aux[0]) * 2;
      dst[0] = best;
      dst[1] =
          float((bestIndex < 0 ? int32_t(cols.begin) : bestIndex) + int32_t(o.vocabBase));
    }
  }
}

template <> struct CudaTask<isa::TaskKind::LmHead> {
  static constexpr Engine kEngine = Engine::Projection;
  __device__ static ProjectionWork work(const TaskContext &ctx,
                                        const isa::TaskRecord &task);
  __device__ static const bf16 *columnRow(const TaskContext &ctx,
                                          const isa::TaskRecord &task, uint32_t unit0,
                                          uint32_t units, uint32_t j);
  __device__ static void epilogue(const TaskContext &ctx, const isa::TaskRecord &task,
                                  const ProjectionPass &p);
  __device__ static void finish(const TaskContext &ctx, const isa::TaskRecord &task);
};

__device__ inline ProjectionWork
CudaTask<isa::TaskKind::LmHead>::work(const TaskContext &ctx,
                                      const isa::TaskRecord &task) {
  const LmHeadOperands o(ctx, task);
  return {{o.x, o.normW, ctx.model->rmsNormEps, o.hidden},
          task.range[0],
          task.range[1].end - task.range[1].begin,
          1};
}

__device__ inline const bf16 *
CudaTask<isa::TaskKind::LmHead>::columnRow(const TaskContext &ctx,
                                           const isa::TaskRecord &task, uint32_t unit0,
                                           uint32_t, uint32_t j) {
  const LmHeadOperands o(ctx, task);
  return o.w + size_t(task.range[1].begin + unit0 + j) * o.hidden;
}

__device__ inline void CudaTask<isa::TaskKind::LmHead>::epilogue(
    const TaskContext &ctx, const isa::TaskRecord &task, const ProjectionPass &p) {
  const LmHeadOperands o(ctx, task);
  for (uint32_t i = threadIdx.x; i < p.rows * p.units; i += kThreads) {
    const uint32_t r = i / p.units, j = i % p.units;
    o.logits[size_t(p.row0 + r) * o.vocab + task.range[1].begin + p.unit0 + j] =
        p.at(r, j);
  }
}

/// After the projection (its writes are visible to the CTA): the tile argmax.
__device__ inline void
CudaTask<isa::TaskKind::LmHead>::finish(const TaskContext &ctx,
                                        const isa::TaskRecord &task) {
  lmHeadTileArgmax(ctx, task);
}

} // namespace mk::cuda::tasks
