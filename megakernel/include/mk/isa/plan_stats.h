//===- plan_stats.h - What a plan does, in numbers ---------------------------===//
//
// Used by `mkc inspect` and `mkprof`: task counts by kind, events and waits, the
// critical path of each program under the target's cost model, memory totals.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"

#include <array>
#include <cstdint>
#include <vector>

namespace mk::isa {

struct ProgramStats {
  std::array<uint32_t, kNumTaskKinds> tasksByKind{};
  uint32_t numTasks = 0;
  uint32_t numEvents = 0;
  uint32_t numWaits = 0;          // same-step waits
  uint32_t numCrossStepWaits = 0; // waits with stepBack > 0
  uint32_t maxWaitsPerTask = 0;
  // The longest same-step dependency chain, costing each task
  // max(bytes / per-worker bandwidth, flops / per-worker compute) on the target.
  std::vector<uint32_t> criticalPath; // task indices, first to last
  uint64_t criticalPathBytes = 0;
  double criticalPathUs = 0.0;
  uint64_t totalBytes = 0; // sum of task cost bytes
  uint64_t totalFlops = 0;
  /// total bytes / (workers x per-worker bandwidth): the step time if every worker
  /// streamed at full bandwidth all the time.
  double bandwidthFloorUs = 0.0;
};

struct PlanStats {
  uint64_t weightBytes = 0;
  uint32_t numWeights = 0, numActivations = 0, numKvCaches = 0, numStepState = 0;
  uint64_t kvCacheBytes = 0;
  std::vector<ProgramStats> programs;
};

/// Requires a plan that passed verifyPlan (the DAG must be acyclic).
PlanStats computePlanStats(const Plan &plan);

} // namespace mk::isa
