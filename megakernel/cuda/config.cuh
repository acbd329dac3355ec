//===- config.cuh - Per-architecture budgets of the persistent kernel ------===//
//
// One constexpr config per target architecture; the kernel and the task kernels read
// kConfig (the one of the architecture being compiled). Every budget is checked here
// at compile time against the hardware limit, so a change that would not fit fails the
// build instead of the launch.
//
// Dynamic shared memory of a worker CTA:
//   [0, stageBytes)                     weight staging ring, kStageSlots slots: the
//                                       prefetch step copies the first bytes of a
//                                       task's main weight span into a slot while the
//                                       task before it waits and runs (cp.async on
//                                       sm_80, a bulk copy completing on an mbarrier on
//                                       sm_90a; device/staging.cuh)
//   [stageBytes, stageBytes + scratch)  task scratch (normalized rows, tiles, partials)
//   then kControlBytes of control (one mbarrier per staging slot)
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace mk::cuda {

struct ArchConfig {
  uint32_t threads;      // threads of a worker CTA (one CTA per SM)
  uint32_t stageBytes;   // weight staging ring (all slots)
  uint32_t scratchBytes; // task scratch
  uint32_t smemLimit;    // opt-in dynamic shared memory per block of the architecture
  uint32_t maxRegsPerThread;
};

/// Slots of the staging ring: the task being run and the one claimed ahead
/// (protocol::kPrefetchSlots).
inline constexpr uint32_t kStageSlots = 2;
inline constexpr uint32_t kControlBytes = 8 * kStageSlots;

// A100 (sm_80): 163 KB of opt-in shared memory per block, 64K registers per SM.
inline constexpr ArchConfig kSm80{256, 64 * 1024, 96 * 1024, 166912, 255};
// H100/H200 (sm_90a): 227 KB of opt-in shared memory per block.
inline constexpr ArchConfig kSm90{256, 96 * 1024, 128 * 1024, 232448, 255};

constexpr uint32_t dynamicSmemBytes(const ArchConfig &c) {
  return c.stageBytes + c.scratchBytes + kControlBytes;
}

static_assert(dynamicSmemBytes(kSm80) <= kSm80.smemLimit, "sm_80 shared memory budget");
static_assert(dynamicSmemBytes(kSm90) <= kSm90.smemLimit, "sm_90a shared memory budget");
static_assert(kSm80.threads * kSm80.maxRegsPerThread <= 65536, "sm_80 register budget");
static_assert(kSm90.threads * kSm90.maxRegsPerThread <= 65536, "sm_90a register budget");
static_assert(kSm80.stageBytes % 16 == 0 && kSm90.stageBytes % 16 == 0,
              "staging copies move 16-byte chunks");
static_assert(kSm80.threads % 32 == 0 && kSm90.threads % 32 == 0);

// The threads of the kernel do not depend on the architecture, so the host can launch
// before it knows which image the driver picked.
inline constexpr uint32_t kThreads = 256;
static_assert(kSm80.threads == kThreads && kSm90.threads == kThreads);
static_assert(kSm80.maxRegsPerThread <= 255 && kSm90.maxRegsPerThread <= 255,
              "the ISA's per-thread register limit");
inline constexpr uint32_t kWarps = kThreads / 32;

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
inline constexpr ArchConfig kConfig = kSm90;
#else
inline constexpr ArchConfig kConfig = kSm80;
#endif
/// Bytes of one staging slot: the most of a task's weights staged ahead.
inline constexpr uint32_t kStageSlotBytes = kConfig.stageBytes / kStageSlots;
static_assert(kSm80.stageBytes % (16 * kStageSlots) == 0 &&
                  kSm90.stageBytes % (16 * kStageSlots) == 0,
              "staging slots hold whole 16-byte chunks");

} // namespace mk::cuda
