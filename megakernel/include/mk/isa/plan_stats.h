//===- plan_stats.h - What a plan does, in numbers ---------------------------===//
//
// Used by `mkc inspect` and `mkprof`: task counts by kind, events and waits, the
// critical path of each program under the target's cost model, memory totals, and the
// weight bytes a batch-1 decode step is expected to read.
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

/// The weight bytes one step of a decode program reads with one active row, counted as
/// the executors count them (every static footprint span and every late span of every
/// task, task_footprint.h): what every step streams, and the k experts the router
/// picks in each MoE layer (an expert's gate, up and down rows, over its slot's tiles).
struct DecodeWeightBytes {
  uint64_t dense = 0;   // static footprints, plus the one embedding row gathered
  uint64_t experts = 0; // k experts x (gate + up + down), summed over the MoE layers
  uint32_t expertsPerToken = 0; // k (the model's numExpertsPerTok)
  uint32_t moeLayers = 0;       // layers with a moe_router task
  uint64_t perExpert() const {
    uint64_t n = uint64_t(expertsPerToken) * moeLayers;
    return n ? experts / n : 0;
  }
  uint64_t total() const { return dense + experts; }
};

/// Requires a plan that passed verifyPlan; `program` is one of its programs.
DecodeWeightBytes batch1DecodeWeightBytes(const Plan &plan, const Program &program);

} // namespace mk::isa
