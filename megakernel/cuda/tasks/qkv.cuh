//===- qkv.cuh - RMSNorm prologue, one of Q/K/V, QK-norm, RoPE, KV append --===//
//
//   x [R, hidden] bf16, norm_w [hidden] bf16, w [section_heads * hd, hidden] bf16,
//   bias? [section_heads * hd] bf16, head_norm_w? [hd] bf16,
//   positions [R] i32, kv_slots [R] i32, block_table [S, max_blocks] i32
//   out: Q section  -> q activation [R, heads * hd] bf16, columns of heads range[1]
//        K/V section -> KV cache [blocks, block_size, kv_heads, hd] bf16, heads range[1]
//   tile: rows range[0], heads range[1] of section aux[0] (QkvSection).
//
// The host's tasks/qkv.h. Per active row r (positions[r] >= 0) and head h:
//   xn = rmsNorm(x[r], norm_w)                                (bf16, rms_norm.cuh)
//   y  = bf16(xn . w[h*hd + d] + bias[h*hd + d])              (fp32 accumulation)
//   y  = rmsNorm(y, head_norm_w)           if head_norm_w    (Qwen3 QK-norm)
//   y  = rope(y, pos)                      Q and K sections  (rope.cuh)
// with pos = positions[r] + s at decode step s (prefill: positions[r]). Q writes
// out[r, h*hd ...]; an inactive row's Q columns are zeros. K/V write the cache at slot
// kv_slots[r] at step 0, or the block_table slot of pos at decode step s > 0;
// inactive rows and slots < 0 write nothing.
// Projection (tasks/projection_dispatch.cuh): a unit is a head (hd weight rows), so every
// pass holds whole heads; the epilogue takes one warp per (row, head) of the pass.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/bf16.cuh"
#include "device/projection_pass.cuh"
#include "device/rms_norm.cuh"
#include "device/rope.cuh"
#include "task_context.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

/// Physical cache slot of logical position pos of a sequence (isa::kvSlot).
__device__ __forceinline__ int64_t kvCacheSlot(const int32_t *blockTableRow, int64_t pos,
                                               int64_t blockSize) {
  return int64_t(blockTableRow[pos / blockSize]) * blockSize + pos % blockSize;
}

/// The operands of a Qkv task (shapes in the file comment). Built where they are used:
/// values computed before project() would stay live in registers across its k loop.
struct QkvOperands {
  const bf16 *x;                      // [R, hidden]
  const bf16 *normW;                  // [hidden]
  const bf16 *w;                      // [section_heads * hd, hidden]
  const bf16 *bias;                   // [section_heads * hd] or nullptr
  const bf16 *headNormW;              // [hd] or nullptr
  const int32_t *positions, *kvSlots; // [R]
  const int32_t *blockTable;          // [S, maxBlocks]; decode K/V at step > 0 only
  const float *invFreq;               // [hd / 2]
  bf16 *out;
  uint32_t qCols;     // Q: [R, qCols]
  uint32_t blockSize; // K/V: [blocks, blockSize, kvHeads, hd]
  uint32_t kvHeads;
  uint32_t maxBlocks;
  uint64_t step; // decode step (prefill: 0)
  uint32_t hd, hidden;
  bool isQ, rope, interleaved;

  __device__ QkvOperands(const TaskContext &ctx, const isa::TaskRecord &task) {
    constexpr isa::TaskKind kKind = isa::TaskKind::Qkv;
    const DeviceModel &model = *ctx.model;
    isQ = task.aux[0] == uint32_t(isa::QkvSection::Q);
    rope = task.aux[0] != uint32_t(isa::QkvSection::V);
    interleaved = task.flags & isa::kFlagRopeInterleaved;
    invFreq = model.invFreq[task.flags & isa::kFlagRopeLlama3 ? 1 : 0];
    hd = model.headDim;
    x = ctx.data<const bf16>(task, role(kKind, "x"));
    hidden = uint32_t(ctx.tensor(task, role(kKind, "x")).shape[1]);
    normW = ctx.data<const bf16>(task, role(kKind, "norm_w"));
    w = ctx.data<const bf16>(task, role(kKind, "w"));
    bias = ctx.dataOrNull<const bf16>(task, role(kKind, "bias"));
    headNormW = ctx.dataOrNull<const bf16>(task, role(kKind, "head_norm_w"));
    positions = ctx.data<const int32_t>(task, role(kKind, "positions"));
    kvSlots = ctx.data<const int32_t>(task, role(kKind, "kv_slots"));
    const DeviceTensor &outRef = ctx.tensor(task, role(kKind, "out"));
    out = static_cast<bf16 *>(outRef.data);
    qCols = isQ ? uint32_t(outRef.shape[1]) : 0;
    blockSize = isQ ? 0 : uint32_t(outRef.shape[1]);
    kvHeads = isQ ? 0 : uint32_t(outRef.shape[2]);
    step = ctx.isDecode ? ctx.step : 0;
    blockTable = nullptr;
    maxBlocks = 0;
    if (!isQ && step > 0) {
      const DeviceTensor &t = ctx.tensor(task, role(kKind, "block_table"));
      blockTable = static_cast<const int32_t *>(t.data);
      maxBlocks = uint32_t(t.shape[1]);
    }
  }
};

template <> struct CudaTask<isa::TaskKind::Qkv> {
  static constexpr Engine kEngine = Engine::Projection;
  __device__ static ProjectionWork work(const TaskContext &ctx,
                                        const isa::TaskRecord &task);
  __device__ static const bf16 *columnRow(const TaskContext &ctx,
                                          const isa::TaskRecord &task, uint32_t unit0,
                                          uint32_t units, uint32_t j);
  __device__ static void epilogue(const TaskContext &ctx, const isa::TaskRecord &task,
                                  const ProjectionPass &p);
  __device__ static void finish(const TaskContext &, const isa::TaskRecord &) {}
};

/// The epilogue of one pass: bias, QK-norm, RoPE and the store of every (row, head) of
/// the pass, one warp each.
__device__ inline void CudaTask<isa::TaskKind::Qkv>::epilogue(const TaskContext &ctx,
                                                              const isa::TaskRecord &task,
                                                              const ProjectionPass &p) {
  const QkvOperands o(ctx, task);
  const uint32_t hd = o.hd, lane = threadIdx.x % 32;
  for (uint32_t i = threadIdx.x / 32; i < p.rows * p.units; i += kWarps) {
    const uint32_t r = i / p.units, h = task.range[1].begin + p.unit0 + i % p.units;
    const int64_t row = p.row0 + r;
    const int32_t pos = o.positions[row];
    if (pos < 0) {
      if (o.isQ)
        for (uint32_t d = lane; d < hd; d += 32)
          o.out[row * o.qCols + h * hd + d] = toBf16(0.0f);
      continue;
    }
    float *y = &p.at(r, (i % p.units) * hd); // [hd]
    for (uint32_t d = lane; d < hd; d += 32)
      y[d] = roundBf16(y[d] + (o.bias ? toFloat(o.bias[h * hd + d]) : 0.0f));
    if (o.headNormW)
      warpRmsNormInPlace(y, o.headNormW, hd, ctx.model->rmsNormEps);
    __syncwarp(); // the rotation reads other lanes' elements
    const int64_t tokenPos = int64_t(pos) + int64_t(o.step);
    bf16 *dst;
    if (o.isQ) {
      dst = o.out + row * o.qCols + h * hd;
    } else {
      const int64_t slot = o.step == 0 ? int64_t(o.kvSlots[row])
                                       : kvCacheSlot(o.blockTable + row * o.maxBlocks,
                                                     tokenPos, o.blockSize);
      if (slot < 0)
        continue;
      dst = o.out + (slot * o.kvHeads + h) * hd;
    }
    if (o.rope) {
      warpRopeStore(y, dst, o.invFreq, tokenPos, hd, o.interleaved);
    } else {
      for (uint32_t d = lane; d < hd; d += 32)
        dst[d] = toBf16(y[d]);
    }
  }
}

/// A unit is a head of the section: hd weight rows.
__device__ inline ProjectionWork
CudaTask<isa::TaskKind::Qkv>::work(const TaskContext &ctx, const isa::TaskRecord &task) {
  const QkvOperands o(ctx, task);
  return {{o.x, o.normW, ctx.model->rmsNormEps, o.hidden},
          task.range[0],
          task.range[1].end - task.range[1].begin,
          o.hd};
}

__device__ inline const bf16 *
CudaTask<isa::TaskKind::Qkv>::columnRow(const TaskContext &ctx,
                                        const isa::TaskRecord &task, uint32_t unit0,
                                        uint32_t, uint32_t j) {
  const QkvOperands o(ctx, task);
  return o.w + (size_t(task.range[1].begin + unit0) * o.hd + j) * o.hidden;
}

} // namespace mk::cuda::tasks
