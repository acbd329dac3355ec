//===- plan_stats.cpp - What a plan does, in numbers -------------------------===//
#include "mk/isa/plan_stats.h"

#include "mk/isa/task_footprint.h"

#include <algorithm>
#include <map>

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

/// The kinds whose late weights batch1DecodeWeightBytes knows how to count.
constexpr bool lateWeightsCounted(TaskKind kind) {
  return kind == TaskKind::Embedding || kind == TaskKind::MoeGateUp ||
         kind == TaskKind::MoeDown;
}
constexpr bool everyLateKindCounted() {
  for (uint32_t k = 0; k < kNumTaskKinds; ++k)
    if (lateWeightRoles(TaskKind(k)) != 0 && !lateWeightsCounted(TaskKind(k)))
      return false;
  return true;
}
static_assert(everyLateKindCounted(),
              "a kind with late weights: count them in batch1DecodeWeightBytes");

} // namespace

DecodeWeightBytes mk::isa::batch1DecodeWeightBytes(const Plan &plan,
                                                   const Program &program) {
  std::vector<TensorView> views(plan.tensors.size());
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const TensorDesc &t = plan.tensors[i];
    views[i].dtype = t.dtype;
    views[i].rank = t.rank;
    std::copy(t.shape, t.shape + kMaxRank, views[i].shape);
  }
  DecodeWeightBytes b;
  // Expert 0's gate + up + down bytes of each MoE layer (all its experts are alike).
  std::map<uint16_t, uint64_t> expertBytesByLayer;
  constexpr uint32_t kGate = role(TaskKind::MoeGateUp, "w_gate");
  constexpr uint32_t kUp = role(TaskKind::MoeGateUp, "w_up");
  constexpr uint32_t kDown = role(TaskKind::MoeDown, "w");
  for (const TaskRecord &r : program.tasks) {
    const auto kind = static_cast<TaskKind>(r.kind);
    const FootprintInput in{r, views.data(), plan.model.headDim};
    auto emit = [&](uint32_t role, int64_t begin, int64_t end) {
      b.dense += uint64_t(end - begin) * views[r.operand[role]].rowBytes();
    };
    forEachWeightRows(in, emit);
    switch (kind) {
    case TaskKind::Embedding: // one token: its row's columns range[1]
      b.dense +=
          uint64_t(r.range[1].end - r.range[1].begin) *
          dtypeSize(plan.tensors[r.operand[role(TaskKind::Embedding, "table")]].dtype);
      break;
    case TaskKind::MoeRouter:
      expertBytesByLayer.try_emplace(r.layer, 0);
      break;
    case TaskKind::MoeGateUp:
      if (r.range[1].begin == 0 && r.range[2].begin == 0)
        expertBytesByLayer[r.layer] +=
            plan.tensors[r.operand[kGate]].bytes() + plan.tensors[r.operand[kUp]].bytes();
      break;
    case TaskKind::MoeDown:
      if (r.range[1].begin == 0 && r.range[2].begin == 0)
        expertBytesByLayer[r.layer] += plan.tensors[r.operand[kDown]].bytes();
      break;
    default:
      break;
    }
  }
  b.moeLayers = static_cast<uint32_t>(expertBytesByLayer.size());
  b.expertsPerToken = b.moeLayers ? plan.model.numExpertsPerTok : 0;
  for (const auto &[layer, bytes] : expertBytesByLayer)
    b.experts += uint64_t(b.expertsPerToken) * bytes;
  return b;
}

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
