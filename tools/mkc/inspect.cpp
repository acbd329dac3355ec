//===- inspect.cpp - mkc inspect / verify -------------------------------------===//
#include "inspect.h"

#include "mk/isa/message_text.h"
#include "mk/isa/moe_routes.h"
#include "mk/isa/plan_file.h"
#include "mk/isa/plan_stats.h"
#include "mk/isa/plan_verify.h"

#include <fmt/format.h>

#include <set>
#include <string>

using namespace mk::isa;

namespace {

std::string bytesString(uint64_t b) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.2f} {}", v, units[u]);
}

const char *targetName(TargetKind kind) {
  const TargetDesc *t = findTarget(kind);
  return t ? t->name : "?";
}

uint32_t tasksOf(const ProgramStats &s, TaskKind kind) {
  return s.tasksByKind[static_cast<uint32_t>(kind)];
}

/// The MoE layers' tasks, and the weight bytes a batch-1 decode step reads: the part
/// every step streams and the k experts of each MoE layer (mkrun's
/// decode_weight_bytes_per_step measures it).
void printMoe(const Plan &plan, const Program &p, const ProgramStats &s) {
  const ModelMeta &m = plan.model;
  const uint32_t layers = tasksOf(s, TaskKind::MoeRouter);
  if (layers && m.numExperts) {
    const uint32_t slots = moeSlots(m.numExperts, p.rows, m.numExpertsPerTok);
    fmt::print("  moe: {} layers x (1 router + {} slots x ({} gate_up + {} down) + {} "
               "combine)\n",
               layers, slots, tasksOf(s, TaskKind::MoeGateUp) / (layers * slots),
               tasksOf(s, TaskKind::MoeDown) / (layers * slots),
               tasksOf(s, TaskKind::MoeCombine) / layers);
  }
  if (p.kind != ProgramKind::Decode)
    return;
  DecodeWeightBytes b = batch1DecodeWeightBytes(plan, p);
  std::string parts;
  if (b.moeLayers)
    parts = fmt::format(
        "dense {} + {} experts x {} per expert x {} MoE layers = ", bytesString(b.dense),
        b.expertsPerToken, bytesString(b.perExpert()), b.moeLayers);
  fmt::print("  expected decode weight bytes per step (batch 1): {}{} ({} bytes)\n",
             parts, bytesString(b.total()), b.total());
}

/// Each rank's weight bytes against the whole model's. A rank binds a sharded weight's
/// slice; a slice of a tensor the plan also binds whole (a tied LM head) costs the rank
/// nothing more.
void printRankWeights(const Plan &plan) {
  std::set<std::string> whole;
  for (const TensorDesc &t : plan.tensors)
    if (t.placement == Placement::Weight && t.shardParts == 1)
      whole.insert(t.name);
  uint64_t perRank = 0, model = 0;
  std::set<std::string> counted;
  for (const TensorDesc &t : plan.tensors) {
    if (t.placement != Placement::Weight)
      continue;
    if (t.shardParts == 1 || !whole.count(t.name))
      perRank += t.bytes();
    if (counted.insert(t.name).second)
      model += t.bytes() * t.shardParts;
  }
  fmt::print(
      "tensor parallel: {} ranks, weights per rank {} of the model's {} ({:.1f}%)\n",
      plan.tensorParallel, bytesString(perRank), bytesString(model),
      model ? 100.0 * double(perRank) / double(model) : 0.0);
}

/// The comm tasks of a program and what one rank moves per step: every comm tile
/// pushes this rank's part to all N ranks (itself included) and reads the N parts
/// back (protocol.h).
void printComm(const Plan &plan, const Program &p) {
  const uint32_t n = plan.tensorParallel;
  struct Kind {
    TaskKind kind;
    std::set<uint32_t> sites;
    uint32_t tasks = 0;
    uint64_t bytes = 0; // one rank's part, summed over the step's tiles
  } kinds[] = {{TaskKind::AllReduce, {}}, {TaskKind::AllGather, {}}};
  for (const TaskRecord &r : p.tasks)
    for (Kind &k : kinds)
      if (r.kind == static_cast<uint16_t>(k.kind)) {
        k.sites.insert(r.aux[0]);
        ++k.tasks;
        const uint64_t rows = r.range[0].end - r.range[0].begin;
        const uint64_t cols = r.range[1].end - r.range[1].begin;
        // all_reduce: [rows, columns] bf16; all_gather: [rows, tiles] (value, index) f32.
        k.bytes += k.kind == TaskKind::AllReduce ? rows * cols * 2 : rows * cols * 8;
      }
  for (const Kind &k : kinds) {
    if (!k.tasks)
      continue;
    fmt::print("  {}: {} site{}, {} task{}; per rank per step: pushes {} ({} x {}), "
               "reads {}\n",
               taskKindName(k.kind), k.sites.size(), k.sites.size() == 1 ? "" : "s",
               k.tasks, k.tasks == 1 ? "" : "s", bytesString(n * k.bytes), n,
               bytesString(k.bytes), bytesString(n * k.bytes));
  }
}

} // namespace

int mk::mkc::runInspect(const std::string &path, bool listCriticalPath) {
  Plan plan;
  if (Status s = readPlanFile(path, plan); !s) {
    fmt::print(stderr, "mkc: error: {}\n", s.message());
    return 1;
  }
  std::vector<std::string> problems = verifyPlanAll(plan);
  const ModelMeta &m = plan.model;
  fmt::print("plan {}: target {}, tensor parallel {}\n", path, targetName(plan.target),
             plan.tensorParallel);
  fmt::print("model {}: {} layers, hidden {}, heads {}/{} x {}, ffn {}, vocab {}, "
             "max_seq_len {}, kv block {}, config {:016x}\n",
             printable(m.family), m.numLayers, m.hiddenSize, m.numHeads, m.numKvHeads,
             m.headDim, m.intermediateSize, m.vocabSize, m.maxSeqLen, m.kvBlockSize,
             m.configHash);
  if (m.numExperts)
    fmt::print("experts: {} of {} per token (moe ffn {}), top-k weights {}\n",
               m.numExpertsPerTok, m.numExperts, m.moeIntermediateSize,
               m.normTopkProb ? "renormalized" : "as the softmax gives them");
  if (!problems.empty()) {
    fmt::print("verified: NO ({} problem(s)); first: {}\n", problems.size(), problems[0]);
    fmt::print(stderr, "mkc: error: {}: the plan does not verify: {}{}\n", path,
               problems[0], problems.size() > 1 ? " (and more: see `mkc verify`)" : "");
    return 1;
  }
  PlanStats stats = computePlanStats(plan);
  fmt::print(
      "tensors: {} weights ({}), {} KV caches ({}), {} activations, {} step state\n",
      stats.numWeights, bytesString(stats.weightBytes), stats.numKvCaches,
      bytesString(stats.kvCacheBytes), stats.numActivations, stats.numStepState);
  if (plan.tensorParallel > 1)
    printRankWeights(plan);
  for (size_t i = 0; i < plan.programs.size(); ++i) {
    const Program &p = plan.programs[i];
    const ProgramStats &s = stats.programs[i];
    fmt::print(
        "program {} ({}, {} rows): {} tasks, {} events, {} waits (+{} cross-step), "
        "at most {} waits per task\n",
        printable(p.name), p.kind == ProgramKind::Decode ? "decode" : "prefill", p.rows,
        s.numTasks, s.numEvents, s.numWaits, s.numCrossStepWaits, s.maxWaitsPerTask);
    std::string kinds;
    for (uint32_t k = 0; k < kNumTaskKinds; ++k)
      if (s.tasksByKind[k])
        kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", kTaskKindInfo[k].name,
                             s.tasksByKind[k]);
    fmt::print("  tasks by kind: {}\n", kinds);
    printMoe(plan, p, s);
    if (plan.tensorParallel > 1)
      printComm(plan, p);
    fmt::print(
        "  critical path: {} tasks, {} moved, {:.1f} us on {} (all tasks: {} moved, "
        "bandwidth floor {:.1f} us)\n",
        s.criticalPath.size(), bytesString(s.criticalPathBytes), s.criticalPathUs,
        targetName(plan.target), bytesString(s.totalBytes), s.bandwidthFloorUs);
    if (listCriticalPath)
      for (uint32_t t : s.criticalPath) {
        const TaskRecord &r = p.tasks[t];
        fmt::print("    task {} {} layer {} range [{}, {}) bytes {}\n", t,
                   kTaskKindInfo[r.kind].name,
                   r.layer == kNoLayer ? std::string("-") : std::to_string(r.layer),
                   r.range[1].begin, r.range[1].end, r.costBytes);
      }
    fmt::print("  activation arena: {}\n", bytesString(p.arenaBytes));
  }
  fmt::print("verified: yes\n");
  return 0;
}

int mk::mkc::runVerify(const std::string &path) {
  Plan plan;
  if (Status s = readPlanFile(path, plan); !s) {
    fmt::print(stderr, "mkc: error: {}\n", s.message());
    return 1;
  }
  std::vector<std::string> problems = verifyPlanAll(plan);
  for (const std::string &p : problems)
    fmt::print(stderr, "mkc: error: {}: {}\n", path, p);
  if (!problems.empty())
    return 1;
  fmt::print("{}: verified ({} programs, {} tensors)\n", path, plan.programs.size(),
             plan.tensors.size());
  return 0;
}
