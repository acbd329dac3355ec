//===- staging.cuh - Copy tasks' first weight bytes into shared memory -----===//
//
// The protocol's prefetch step on the GPU. The staging buffer is a ring of
// kStageSlots slots of kStageSlotBytes: the worker loop (protocol::ctaWorkerLoop)
// stages the task it will run next into one slot while the current task, whose bytes
// were staged an iteration earlier, waits and runs from the other. A stage copies the
// first bytes of the task's main weight span; the task reads them through
// TaskContext::weight().
//   sm_90a: one bulk copy engine transfer (cp.async.bulk) per stage, issued by the
//           leader and completing on the slot's mbarrier, which every thread waits on.
//   sm_80:  cp.async 16-byte copies spread over all threads, one commit group per
//           stage; a slot's wait leaves only the younger stage's group in flight.
//===----------------------------------------------------------------------===//
#pragma once

#include "config.cuh"

#include <cstdint>

namespace mk::cuda {

/// Per-CTA staging state; lives in registers of every thread (all threads follow the
/// same sequence of stage()/wait() calls, so the state agrees across the CTA).
struct Stager {
  uint8_t *buffer;       // kStageSlots * kStageSlotBytes of shared memory
  uint64_t *barriers;    // kStageSlots mbarriers in shared memory (sm_90a)
  uint32_t phases = 0;   // bit s: the parity slot s's next completion has (sm_90a)
  uint32_t pending = 0;  // bit s: slot s has a copy in flight
  uint32_t lastSlot = 0; // slot of the latest stage() (sm_80 group accounting)

  __device__ uint8_t *slot(uint32_t s) const { return buffer + s * kStageSlotBytes; }

  /// Once per kernel, by every thread, before the first stage().
  __device__ void init() {
#if __CUDA_ARCH__ >= 900
    if (threadIdx.x == 0) {
      for (uint32_t s = 0; s < kStageSlots; ++s) {
        const uint32_t bar = uint32_t(__cvta_generic_to_shared(barriers + s));
        asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(bar));
      }
      asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    }
    __syncthreads();
#endif
  }

  /// Starts copying `bytes` (a multiple of 16, at most kStageSlotBytes) from `src`
  /// (16-byte aligned) into slot `s`, which no task reads any more. Called by every
  /// thread with the same arguments.
  __device__ void stage(const void *src, uint32_t bytes, uint32_t s) {
    lastSlot = s;
    pending = bytes > 0 ? pending | (1u << s) : pending & ~(1u << s);
#if __CUDA_ARCH__ >= 900
    if (bytes > 0 && threadIdx.x == 0) {
      const uint32_t bar = uint32_t(__cvta_generic_to_shared(barriers + s));
      const uint32_t dst = uint32_t(__cvta_generic_to_shared(slot(s)));
      // The task before last read the slot with ordinary loads (generic proxy); the
      // bulk copy writes it through the async proxy. The CTA barrier that ended that
      // task orders those reads before this thread; the proxy fence orders them
      // before the copy.
      asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
      asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar),
                   "r"(bytes)
                   : "memory");
      asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes "
                   "[%0], [%1], %2, [%3];" ::"r"(dst),
                   "l"(src), "r"(bytes), "r"(bar)
                   : "memory");
    }
#else
    const uint32_t dst = uint32_t(__cvta_generic_to_shared(slot(s)));
    const char *p = static_cast<const char *>(src);
    for (uint32_t off = threadIdx.x * 16; off < bytes; off += kThreads * 16)
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst + off),
                   "l"(p + off)
                   : "memory");
    // Every stage commits a group (possibly empty), so the groups are the stages.
    asm volatile("cp.async.commit_group;" ::: "memory");
#endif
  }

  /// Every thread: waits until slot `s`'s staged bytes are in shared memory. A CTA
  /// barrier must follow before the bytes are read by other threads than the copier
  /// (sm_80).
  __device__ void wait(uint32_t s) {
    if (!(pending & (1u << s)))
      return;
#if __CUDA_ARCH__ >= 900
    const uint32_t bar = uint32_t(__cvta_generic_to_shared(barriers + s));
    const uint32_t parity = (phases >> s) & 1;
    uint32_t done = 0;
    while (!done)
      asm volatile("{\n"
                   ".reg .pred p;\n"
                   "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                   "selp.u32 %0, 1, 0, p;\n"
                   "}\n"
                   : "=r"(done)
                   : "r"(bar), "r"(parity)
                   : "memory");
    phases ^= 1u << s;
#else
    // Groups complete in commit order: when a younger stage (the other slot's) was
    // committed after this one, all but the newest group suffices.
    if (lastSlot != s)
      asm volatile("cp.async.wait_group 1;" ::: "memory");
    else
      asm volatile("cp.async.wait_group 0;" ::: "memory");
#endif
    pending &= ~(1u << s);
  }
};

} // namespace mk::cuda
