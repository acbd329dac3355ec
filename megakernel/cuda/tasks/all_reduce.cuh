//===- all_reduce.cuh - Tensor parallelism: the sum of every rank's partial --===//
//
//   partial [R, H] bf16, residual [R, H] bf16 (optional), comm [2, N, R, H] bf16,
//   flags [2, F, N] i32 -> out [R, H] bf16
//   tile: rows range[0], columns range[1]; site aux[0], tile aux[1].
// Pushes the tile of partial into every rank's comm[b][rank], waits for every rank's
// (device/comm.cuh), then
//   out[r, c] = bf16(residual[r, c] + bf16(sum))   (out = bf16(sum) without residual)
//   sum = 0; sum += float(comm[b][q][r, c]) for q = 0, 1, ..., N - 1 (fp32, rank order)
// The host's tasks/all_reduce.h, bit for bit. If the wait gives up (the launch is
// stopping), out is not written.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/bf16.cuh"
#include "device/comm.cuh"
#include "task_context.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

namespace all_reduce {
constexpr isa::TaskKind kKind = isa::TaskKind::AllReduce;
constexpr uint32_t kPartial = role(kKind, "partial");
constexpr uint32_t kResidual = role(kKind, "residual");
constexpr uint32_t kComm = role(kKind, "comm");
constexpr uint32_t kFlags = role(kKind, "flags");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace all_reduce

template <> struct CudaTask<isa::TaskKind::AllReduce> {
  static constexpr Engine kEngine = Engine::Own;
  __device__ static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

__device__ inline void
CudaTask<isa::TaskKind::AllReduce>::run(const TaskContext &ctx,
                                        const isa::TaskRecord &task) {
  using namespace all_reduce;
  const CommParams &c = ctx.params->comm;
  const DeviceTensor &outRef = ctx.tensor(task, kOut);
  const uint32_t rows = uint32_t(outRef.shape[0]);
  const size_t hidden = size_t(outRef.shape[1]);
  const size_t region = size_t(rows) * hidden; // one rank's [R, H] of comm[b]
  const uint32_t epoch = commEpoch(ctx, task);
  const uint32_t b = protocol::commBuffer(epoch);
  const uint32_t r0 = task.range[0].begin, c0 = task.range[1].begin;
  const uint32_t width = task.range[1].end - c0;
  const uint32_t n = (task.range[0].end - r0) * width;
  const bf16 *partial = ctx.data<const bf16>(task, kPartial); // [R, H]

  // 1. push: consecutive threads take consecutive columns of a row, 8 at a time (one
  // 16-byte store: a remote store crosses NVLink as one packet) where the tile's
  // columns and the buffers allow it. The comm regions are 16-byte aligned whenever
  // hidden is a multiple of 8 (nccl_window.h, executor.cpp's 256-byte offsets).
  const bool wide = (c0 | width | uint32_t(hidden)) % 8 == 0 &&
                    reinterpret_cast<uintptr_t>(partial) % 16 == 0;
  const uint32_t lanes = wide ? 8 : 1;
  // With multimem, one store reaches every rank's comm[b][rank] (device/comm.cuh).
  bf16 *multicast = wide ? multicastData<bf16>(ctx, task, kComm) : nullptr;
  if (multicast) {
    bf16 *dst = multicast + (size_t(b) * c.ranks + c.rank) * region;
    for (uint32_t i = threadIdx.x * lanes; i < n; i += kThreads * lanes) {
      const size_t at = size_t(r0 + i / width) * hidden + c0 + i % width;
      multimemStore16(dst + at, *reinterpret_cast<const uint4 *>(partial + at));
    }
  }
  for (uint32_t q = 0; q < (multicast ? 0 : c.ranks); ++q) {
    bf16 *dst =
        ctx.peerData<bf16>(task, kComm, q) + (size_t(b) * c.ranks + c.rank) * region;
    for (uint32_t i = threadIdx.x * lanes; i < n; i += kThreads * lanes) {
      const size_t at = size_t(r0 + i / width) * hidden + c0 + i % width;
      if (wide)
        *reinterpret_cast<uint4 *>(dst + at) =
            *reinterpret_cast<const uint4 *>(partial + at);
      else
        dst[at] = partial[at];
    }
  }
  // 2. publish and wait (comm.cuh).
  if (!exchangeCommTile(ctx, task, kFlags, epoch))
    return;

  // 3. reduce in rank order from this rank's copy (written by the peers: read at L2).
  const bf16 *comm =
      ctx.peerData<const bf16>(task, kComm, c.rank) + size_t(b) * c.ranks * region;
  const bf16 *residual = ctx.dataOrNull<const bf16>(task, kResidual); // [R, H]
  bf16 *out = ctx.data<bf16>(task, kOut);                             // [R, H]
  for (uint32_t i = threadIdx.x; i < n; i += kThreads) {
    const size_t at = size_t(r0 + i / width) * hidden + c0 + i % width;
    float sum = 0.0f;
    for (uint32_t q = 0; q < c.ranks; ++q)
      sum += toFloat(loadBf16L2(comm + q * region + at));
    out[at] = residual ? toBf16(toFloat(residual[at]) + roundBf16(sum)) : toBf16(sum);
  }
}

} // namespace mk::cuda::tasks
