//===- task_record.h - The 128-byte task record ---------------------------===//
//
// One record per tile task. POD, fixed size, identical on host and device, stored
// little-endian in the plan file exactly as laid out here.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/task_kinds.h"

#include <cstdint>
#include <type_traits>

namespace mk::isa {

inline constexpr uint32_t kIsaVersion = 3;
// The tripwire of the task table: a plan's kind ids mean the table of its ISA version.
static_assert(
    kNumTaskKinds == 16,
    "a task kind was added or removed in MK_TASK_KINDS: bump kIsaVersion "
    "(plans of the old table are then refused, not misread) and set this count");
inline constexpr uint32_t kMaxOperands = 12;
inline constexpr uint32_t kMaxWaits = 4;
inline constexpr uint32_t kMaxSignals = 2;
inline constexpr uint16_t kNoTensor = 0xFFFF;
inline constexpr uint16_t kNoLayer = 0xFFFF;
inline constexpr uint32_t kNoEvent = 0xFFFFFFFFu;

/// Half-open index range [begin, end).
struct Range {
  uint32_t begin;
  uint32_t end;
};

/// Wait for event `event`: a task of step s is ready when
///   counter[event] >= (s + 1 - stepBack) * count
/// stepBack = 0 for same-step producers, 1 for the previous step's (cross-step edges
/// always point backwards). count = number of producer signals per step.
struct Wait {
  uint32_t event;
  uint16_t count;
  uint8_t stepBack;
  uint8_t reserved;
};

/// Task flag bits (TaskRecord::flags).
enum TaskFlags : uint32_t {
  kFlagNone = 0,
  kFlagRopeInterleaved = 1u << 0, // Qkv: interleaved pairs instead of rotate-half
  kFlagRopeLlama3 = 1u << 1,      // Qkv: llama3 frequency scaling
  kFlagSlidingWindow = 1u << 2,   // attention: aux[1] holds the window
};

struct alignas(8) TaskRecord {
  uint16_t kind;                  // TaskKind
  uint16_t layer;                 // kNoLayer when not per-layer
  uint32_t flags;                 // TaskFlags
  Range range[3];                 // tile coordinates, meaning per kind (task_kinds.h)
  uint32_t aux[2];                // kind-specific scalars
  uint16_t operand[kMaxOperands]; // tensor ids by role, kNoTensor if absent
  Wait wait[kMaxWaits];           // first numWaits valid
  uint32_t signal[kMaxSignals];   // first numSignals valid
  uint8_t numWaits;
  uint8_t numSignals;
  uint8_t numOperands;
  uint8_t reserved0;
  uint32_t reserved1;
  uint64_t costBytes; // bytes moved, for the scheduler and simulator
  uint64_t costFlops;
};

static_assert(sizeof(Range) == 8);
static_assert(sizeof(Wait) == 8);
static_assert(sizeof(TaskRecord) == 128, "the task record is 128 bytes");
static_assert(std::is_trivially_copyable_v<TaskRecord>);
static_assert(std::is_standard_layout_v<TaskRecord>);

} // namespace mk::isa
