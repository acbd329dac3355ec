//===- all_gather.cuh - Tensor parallelism: every rank's LM-head partials ---===//
//
//   local [R, T, 2] f32, comm [2, N, R, 2 T] f32, flags [2, F, N] i32
//   -> out [R, N T, 2] f32
//   one tile: rows range[0], range[1] = [0, T); site aux[0], tile aux[1] = 0.
// Pushes local (this rank's lm_head partials, global vocabulary ids) into every rank's
// comm[b][rank], waits for every rank's (device/comm.cuh), then out[r, q T + t] = rank
// q's partial t of row r: argmax reads out as it reads one rank's partial_max, so ties
// still go to the lowest global id and every rank picks the same token. The host's
// tasks/all_gather.h. If the wait gives up (the launch is stopping), out is not
// written.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/comm.cuh"
#include "task_context.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

namespace all_gather {
constexpr isa::TaskKind kKind = isa::TaskKind::AllGather;
constexpr uint32_t kLocal = role(kKind, "local");
constexpr uint32_t kComm = role(kKind, "comm");
constexpr uint32_t kFlags = role(kKind, "flags");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace all_gather

template <> struct CudaTask<isa::TaskKind::AllGather> {
  static constexpr Engine kEngine = Engine::Own;
  __device__ static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

__device__ inline void
CudaTask<isa::TaskKind::AllGather>::run(const TaskContext &ctx,
                                        const isa::TaskRecord &task) {
  using namespace all_gather;
  const CommParams &c = ctx.params->comm;
  const DeviceTensor &localRef = ctx.tensor(task, kLocal);
  const uint32_t rows = uint32_t(localRef.shape[0]);
  const uint32_t rowFloats = uint32_t(localRef.shape[1]) * 2; // 2 T
  const size_t region = size_t(rows) * rowFloats;             // one rank's [R, 2 T]
  const uint32_t epoch = commEpoch(ctx, task);
  const uint32_t b = protocol::commBuffer(epoch);
  const uint32_t r0 = task.range[0].begin;
  const uint32_t n = (task.range[0].end - r0) * rowFloats;
  const float *local = ctx.data<const float>(task, kLocal) + size_t(r0) * rowFloats;

  // 1. push the rows' partials (contiguous in local and in each region), 4 floats per
  // store where the block allows it (the regions are 16-byte aligned when it does).
  const bool wide = n % 4 == 0 && (size_t(r0) * rowFloats) % 4 == 0 &&
                    reinterpret_cast<uintptr_t>(local) % 16 == 0 && region % 4 == 0;
  const uint32_t lanes = wide ? 4 : 1;
  // With multimem, one store reaches every rank's comm[b][rank] (device/comm.cuh).
  float *multicast = wide ? multicastData<float>(ctx, task, kComm) : nullptr;
  if (multicast) {
    float *dst =
        multicast + (size_t(b) * c.ranks + c.rank) * region + size_t(r0) * rowFloats;
    for (uint32_t i = threadIdx.x * lanes; i < n; i += kThreads * lanes)
      multimemStore16(dst + i, *reinterpret_cast<const uint4 *>(local + i));
  }
  for (uint32_t q = 0; q < (multicast ? 0 : c.ranks); ++q) {
    float *dst = ctx.peerData<float>(task, kComm, q) +
                 (size_t(b) * c.ranks + c.rank) * region + size_t(r0) * rowFloats;
    for (uint32_t i = threadIdx.x * lanes; i < n; i += kThreads * lanes) {
      if (wide)
        *reinterpret_cast<float4 *>(dst + i) =
            *reinterpret_cast<const float4 *>(local + i);
      else
        dst[i] = local[i];
    }
  }
  // 2. publish and wait (comm.cuh).
  if (!exchangeCommTile(ctx, task, kFlags, epoch))
    return;

  // 3. out[r] = rank 0's row r, rank 1's, ... (from this rank's copy, read at L2).
  const float *comm =
      ctx.peerData<const float>(task, kComm, c.rank) + size_t(b) * c.ranks * region;
  float *out = ctx.data<float>(task, kOut); // [R, N T, 2]
  const uint32_t total = n * c.ranks;
  for (uint32_t i = threadIdx.x; i < total; i += kThreads) {
    const uint32_t r = r0 + i / (rowFloats * c.ranks), k = i % (rowFloats * c.ranks);
    const uint32_t q = k / rowFloats, j = k % rowFloats;
    out[(size_t(r) * c.ranks + q) * rowFloats + j] =
        loadF32L2(comm + q * region + size_t(r) * rowFloats + j);
  }
}

} // namespace mk::cuda::tasks
