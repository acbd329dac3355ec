//===- staging.cuh - Copy a task's first weight bytes into shared memory ---===//
//
// The protocol's prefetch step on the GPU: right after the claim, before the
// dependency wait, the CTA starts copying the first kConfig.stageBytes of the task's
// main weight span into the staging buffer, so those bytes are in flight (and usually
// landed) while the leader waits. The task reads them through TaskContext::weight().
//   sm_90a: one bulk copy engine transfer (cp.async.bulk) issued by the leader,
//           completing on an mbarrier that every thread waits on.
//   sm_80:  cp.async 16-byte copies spread over all threads (one commit group).
//===----------------------------------------------------------------------===//
#pragma once

#include "config.cuh"

#include <cstdint>

namespace mk::cuda {

/// Per-CTA staging state; lives in registers of every thread (all threads follow the
/// same sequence of stage()/wait() calls, so `phase` agrees across the CTA).
struct Stager {
  uint8_t *buffer;   // kConfig.stageBytes of shared memory
  uint64_t *barrier; // an mbarrier in shared memory (sm_90a)
  uint32_t phase = 0;
  bool pending = false;

  /// Once per kernel, by every thread, before the first stage().
  __device__ void init() {
#if __CUDA_ARCH__ >= 900
    if (threadIdx.x == 0) {
      const uint32_t bar = uint32_t(__cvta_generic_to_shared(barrier));
      asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(bar));
      asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    }
    __syncthreads();
#endif
  }

  /// Starts copying `bytes` (a multiple of 16, at most kConfig.stageBytes) from `src`
  /// (16-byte aligned) into the buffer. Called by every thread with the same arguments.
  __device__ void stage(const void *src, uint32_t bytes) {
    pending = bytes > 0;
    if (!pending)
      return;
#if __CUDA_ARCH__ >= 900
    if (threadIdx.x == 0) {
      const uint32_t bar = uint32_t(__cvta_generic_to_shared(barrier));
      const uint32_t dst = uint32_t(__cvta_generic_to_shared(buffer));
      // The previous task read the buffer with ordinary loads (generic proxy); the
      // bulk copy writes it through the async proxy. The CTA barrier that ended the
      // previous task orders those reads before this thread; the proxy fence orders
      // them before the copy.
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
    const uint32_t dst = uint32_t(__cvta_generic_to_shared(buffer));
    const char *s = static_cast<const char *>(src);
    for (uint32_t off = threadIdx.x * 16; off < bytes; off += kThreads * 16)
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst + off),
                   "l"(s + off)
                   : "memory");
    asm volatile("cp.async.commit_group;" ::: "memory");
#endif
  }

  /// Every thread: waits until the staged bytes are in shared memory. A CTA barrier
  /// must follow before the bytes are read by other threads than the copier (sm_80).
  __device__ void wait() {
    if (!pending)
      return;
#if __CUDA_ARCH__ >= 900
    const uint32_t bar = uint32_t(__cvta_generic_to_shared(barrier));
    uint32_t done = 0;
    while (!done)
      asm volatile("{\n"
                   ".reg .pred p;\n"
                   "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                   "selp.u32 %0, 1, 0, p;\n"
                   "}\n"
                   : "=r"(done)
                   : "r"(bar), "r"(phase)
                   : "memory");
    phase ^= 1;
#else
    asm volatile("cp.async.wait_all;" ::: "memory");
#endif
    pending = false;
  }
};

} // namespace mk::cuda
