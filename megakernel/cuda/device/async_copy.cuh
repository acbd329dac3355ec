//===- async_copy.cuh - 16-byte cp.async copies into shared memory ---------===//
//
// cp.async (sm_80 and later): a thread's copies complete in commit-group order, and a
// thread sees its own copies after cp.async.wait_group; other threads see them after a
// CTA barrier that follows the wait.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace mk::cuda {

__device__ __forceinline__ void cpAsync16(void *smem, const void *global) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(
                   uint32_t(__cvta_generic_to_shared(smem))),
               "l"(global)
               : "memory");
}
/// Copies `bytes` (0 or 16) of `global` and zero-fills the rest of the 16 bytes.
__device__ __forceinline__ void cpAsync16OrZero(uint32_t smem, const void *global,
                                                uint32_t bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(smem), "l"(global),
               "r"(bytes)
               : "memory");
}
__device__ __forceinline__ void cpAsyncCommit() {
  asm volatile("cp.async.commit_group;" ::: "memory");
}
/// Waits until at most `kPending` of this thread's cp.async groups are in flight.
template <int kPending> __device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(kPending) : "memory");
}

} // namespace mk::cuda
