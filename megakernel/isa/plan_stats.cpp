//===- plan_stats.cpp - What a plan does, in numbers -------------------------===//
#include "mk/isa/plan_stats.h"

#include <algorithm>

using namespace mk::isa;

namespace {

ProgramStats programStats(const Program &p, const TargetDesc &target) {
  ProgramStats s;
  size_t n = p.tasks.size();
  s.numTasks = n;
  s.numEvents = p.events.size();
  std::vector<std::vector<uint32_t>> producers(p.events.size());
  for (uint32_t t = 0; t < n; ++t) {
    const TaskRecord &r = p.tasks[t];
    if (r.kind < kNumTaskKinds)
      ++s.tasksByKind[r.kind];
    for (uint32_t i = 0; i < r.numSignals && i < kMaxSignals; ++i)
      if (r.signal[i] < producers.size())
        producers[r.signal[i]].push_back(t);
    s.totalBytes += r.costBytes;
    s.totalFlops += r.costFlops;
  }
  double bytesPerUs = target.memBandwidthGBs * 1e3 / target.workers;
  double flopsPerUs = target.tflopsBf16 * 1e6 / target.workers;
  auto cost = [&](const TaskRecord &r) {
    return std::max(r.costBytes / bytesPerUs, r.costFlops / flopsPerUs);
  };
  s.bandwidthFloorUs = s.totalBytes / (bytesPerUs * target.workers);

  // Longest path in queue order (a topological order of same-step edges).
  std::vector<double> finish(n, 0.0);
  std::vector<int64_t> via(n, -1);
  for (uint32_t t : p.order) {
    if (t >= n)
      continue;
    const TaskRecord &r = p.tasks[t];
    double start = 0.0;
    uint32_t waits = std::min<uint32_t>(r.numWaits, kMaxWaits);
    s.maxWaitsPerTask = std::max(s.maxWaitsPerTask, waits);
    for (uint32_t w = 0; w < waits; ++w) {
      if (r.wait[w].stepBack) {
        ++s.numCrossStepWaits;
        continue;
      }
      ++s.numWaits;
      if (r.wait[w].event >= producers.size())
        continue;
      for (uint32_t q : producers[r.wait[w].event])
        if (finish[q] > start) {
          start = finish[q];
          via[t] = q;
        }
    }
    finish[t] = start + cost(r);
  }
  if (n == 0)
    return s;
  int64_t last = std::max_element(finish.begin(), finish.end()) - finish.begin();
  s.criticalPathUs = finish[last];
  for (int64_t t = last; t >= 0; t = via[t]) {
    s.criticalPath.push_back(t);
    s.criticalPathBytes += p.tasks[t].costBytes;
  }
  std::reverse(s.criticalPath.begin(), s.criticalPath.end());
  return s;
}

} // namespace

PlanStats mk::isa::computePlanStats(const Plan &plan) {
  PlanStats s;
  for (const TensorDesc &t : plan.tensors) {
    switch (t.placement) {
    case Placement::Weight:
      ++s.numWeights;
      s.weightBytes += t.bytes();
      break;
    case Placement::Activation:
      ++s.numActivations;
      break;
    case Placement::KvCache:
      ++s.numKvCaches;
      s.kvCacheBytes += t.bytes();
      break;
    case Placement::StepState:
      ++s.numStepState;
      break;
    case Placement::Comm:
      break;
    }
  }
  const TargetDesc *target = findTarget(plan.target);
  if (!target)
    target = &kTargets[0];
  for (const Program &p : plan.programs)
    s.programs.push_back(programStats(p, *target));
  return s;
}
