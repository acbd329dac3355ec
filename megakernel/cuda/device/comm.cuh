//===- comm.cuh - One comm tile's flags: push, publish, wait (CUDA side) ----===//
//
// The cross-rank protocol of mk/isa/protocol.h for a comm task on rank p, epoch e,
// buffer b = e % 2, tile t of its site:
//   1. push     every thread stores p's tile into every rank q's comm[b][p] region
//               (rank q's copy through its LSA pointer; q = p too);
//   2. publish  after a CTA barrier the leader makes the stores visible at system scope
//               (__threadfence_system: cumulative over the writes the barrier ordered
//               before it) and RELEASE-stores e into flags[b][t][p] of every rank q;
//   3. wait     the leader ACQUIRE-polls its own flags[b][t][q] for every q until
//               int32(flag - e) >= 0 (epochs are uint32 and wrap), so every peer's
//               pushed tile is visible to it; a fence and a CTA barrier extend that to
//               the CTA's threads, which then read comm[b][q] in rank order.
// The flags are the only cross-rank synchronization (no barrier, no collective launch).
//
// Multimem (CommParams::multicast, sm_90+): the push of a 16-byte chunk may be ONE
// multimem.st to the window's multicast address, which the NVLink switch writes into
// every rank's comm[b][p] at once, instead of one store per rank. Only the push: the
// reduce never uses multimem.ld_reduce, because the switch adds the ranks' values in
// an order it picks, and the sum must be fp32 in rank order from 0 (the host's
// all_reduce, bit for bit, and the same bits on every rank and every run). The flags
// stay per-peer release stores: the push's multimem stores are ordered before the
// leader's __threadfence_system by the CTA barrier, and that fence is cumulative, so
// a peer that acquires the flag sees them, exactly as for the LSA stores (NCCL's own
// symmetric kernels order multimem stores before their barrier's release the same
// way). sm_80 compiles the LSA path only.
// Why two buffers suffice and why it cannot deadlock: protocol.h.
//===----------------------------------------------------------------------===//
#pragma once

#include "config.cuh"
#include "device/bf16.cuh"
#include "launch.h"
#include "task_context.cuh"

#include "mk/isa/protocol.h"
#include "mk/isa/task_record.h"

#include <cuda/atomic>

#include <cstdint>

namespace mk::cuda {

/// The epoch of a comm task (TaskRecord::aux[0] = its site) at the context's step.
__device__ inline uint32_t commEpoch(const TaskContext &ctx,
                                     const isa::TaskRecord &task) {
  const CommParams &c = ctx.params->comm;
  return protocol::commEpoch(c.base, ctx.step, c.sites, task.aux[0]);
}

/// Loads that skip L1 (cached at L2 only): peers write this rank's comm memory from
/// other GPUs, and a line of an earlier epoch must not be read from L1.
__device__ __forceinline__ bf16 loadBf16L2(const bf16 *p) {
  return __ushort_as_bfloat16(__ldcg(reinterpret_cast<const unsigned short *>(p)));
}
__device__ __forceinline__ float loadF32L2(const float *p) { return __ldcg(p); }

/// This rank's multicast address of the comm tensor of role `r`, or null (no
/// multimem in this launch, or an architecture without multimem.st).
template <typename T>
__device__ inline T *multicastData(const TaskContext &ctx, const isa::TaskRecord &task,
                                   uint32_t r) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  void *const *table = ctx.params->comm.multicast;
  return table ? static_cast<T *>(table[task.operand[r]]) : nullptr;
#else
  (void)ctx, (void)task, (void)r;
  return nullptr;
#endif
}

/// 16 bytes to every rank's copy at once (`mc` from multicastData, 16-byte aligned).
/// Relaxed: the flags' release orders it (see above).
__device__ __forceinline__ void multimemStore16(void *mc, uint4 v) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("multimem.st.relaxed.sys.global.v4.f32 [%0], {%1, %2, %3, %4};" ::"l"(mc),
               "r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w)
               : "memory");
#else
  (void)mc, (void)v;
  __trap(); // unreachable: multicastData is null here
#endif
}

__device__ inline uint64_t commTimerNs() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

/// Index of flag [b][tile][rank] in the flags tensor [2, F, N] of role `flagsRole`.
__device__ inline uint32_t commFlag(const TaskContext &ctx, const isa::TaskRecord &task,
                                    uint32_t flagsRole, uint32_t epoch, uint32_t rank) {
  const DeviceTensor &flags = ctx.tensor(task, flagsRole);
  return uint32_t(protocol::commFlagIndex(protocol::commBuffer(epoch), task.aux[1], rank,
                                          uint32_t(flags.shape[1]),
                                          uint32_t(flags.shape[2])));
}

/// Leader, after the CTA barrier that follows the push: publishes the tile (step 2):
/// flags[b][tile][this rank] = epoch on every rank.
__device__ inline void publishCommTile(const TaskContext &ctx,
                                       const isa::TaskRecord &task, uint32_t flagsRole,
                                       uint32_t epoch) {
  const CommParams &c = ctx.params->comm;
  const uint32_t index = commFlag(ctx, task, flagsRole, epoch, c.rank);
  __threadfence_system();
  for (uint32_t q = 0; q < c.ranks; ++q)
    protocol::storeFlagRelease(ctx.peerData<uint32_t>(task, flagsRole, q) + index, epoch);
}

/// Leader: waits for every rank's flag of the tile in this rank's flags (step 3).
/// Returns false when it gave up: another worker stopped the launch, or this wait
/// outlived the watchdog (then it records the hang, naming the peer and the flag, and
/// stops the launch).
__device__ inline bool awaitCommTile(const TaskContext &ctx, const isa::TaskRecord &task,
                                     uint32_t flagsRole, uint32_t epoch) {
  const KernelParams &p = *ctx.params;
  uint32_t *flags = ctx.peerData<uint32_t>(task, flagsRole, p.comm.rank);
  const uint64_t start = commTimerNs();
  for (uint32_t q = 0; q < p.comm.ranks; ++q) {
    const uint32_t index = commFlag(ctx, task, flagsRole, epoch, q);
    for (uint64_t spins = 0;; ++spins) {
      const uint32_t seen = protocol::loadFlagAcquire(flags + index);
      if (protocol::epochReached(seen, epoch))
        break;
      __nanosleep(spins < 64 ? 32 : 256);
      if (spins % 256 != 255)
        continue;
      if (::cuda::atomic_ref<uint32_t, ::cuda::thread_scope_device>(*p.stop).load(
              ::cuda::memory_order_relaxed) != 0)
        return false;
      if (p.watchdogNs == 0 || commTimerNs() - start < p.watchdogNs)
        continue;
      if (atomicCAS(&p.hang->hung, 0u, 1u) == 0u) {
        p.hang->worker = blockIdx.x;
        p.hang->task = ctx.taskIndex;
        p.hang->wait = 0;
        p.hang->step = ctx.step;
        p.hang->counter = seen;
        p.hang->target = epoch;
        p.hang->peer = q;
        p.hang->flag = index;
      }
      ::cuda::atomic_ref<uint32_t, ::cuda::thread_scope_device>(*p.stop).store(
          1, ::cuda::memory_order_relaxed);
      return false;
    }
  }
  __threadfence();
  return true;
}

/// Steps 2 of a comm tile for the whole CTA, called by every thread after its share of
/// the push: a barrier (every push is done), then the leader publishes the tile and
/// waits for every rank's; the verdict reaches every thread through the task's scratch.
/// Returns, on every thread, whether the wait completed (false: the launch stops).
__device__ inline bool exchangeCommTile(const TaskContext &ctx,
                                        const isa::TaskRecord &task, uint32_t flagsRole,
                                        uint32_t epoch) {
  __syncthreads();
  volatile uint32_t *ok = reinterpret_cast<volatile uint32_t *>(ctx.scratch);
  if (threadIdx.x == 0) {
    publishCommTile(ctx, task, flagsRole, epoch);
    *ok = awaitCommTile(ctx, task, flagsRole, epoch) ? 1u : 0u;
  }
  __syncthreads();
  return *ok != 0;
}

} // namespace mk::cuda
