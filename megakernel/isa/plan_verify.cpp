//===- plan_verify.cpp - Rules a-d: plan, model, tensors, tasks, events ---===//
//
// The per-record rules. The graph rules (e-h) live in plan_verify_graph.cpp and run
// only on programs whose waits and signals name valid events.
//===----------------------------------------------------------------------===//
#include "mk/isa/plan_verify.h"
#include "mk/isa/task_footprint.h"

#include "plan_verify_internal.h"
#include "str_format.h"

#include <algorithm>
#include <cinttypes>
#include <limits>
#include <string_view>
#include <unordered_map>

namespace mk::isa {
namespace detail {

std::string programLabel(const Plan &plan, uint32_t program) {
  return strFormat("program %u %s", program, quote(plan.programs[program].name).c_str());
}

std::string taskLabel(const Program &prog, uint32_t task) {
  const TaskRecord &r = prog.tasks[task];
  std::string s =
      r.kind < kNumTaskKinds
          ? strFormat("task %u (%s", task, taskKindName(static_cast<TaskKind>(r.kind)))
          : strFormat("task %u (kind %u", task, r.kind);
  if (r.layer != kNoLayer)
    s += strFormat(", layer %u", r.layer);
  return s + ")";
}

std::string eventLabel(const Program &prog, uint32_t event) {
  return strFormat("event %u %s", event, quote(prog.events[event].name).c_str());
}

std::string tensorLabel(const Plan &plan, uint32_t tensor) {
  return strFormat("tensor %u %s", tensor, quote(plan.tensors[tensor].name).c_str());
}

bool tensorByteSize(const TensorDesc &t, uint64_t &bytes) {
  if (t.rank < 1 || t.rank > kMaxRank)
    return false;
  uint64_t n = dtypeSize(t.dtype);
  for (uint32_t i = 0; i < t.rank; ++i) {
    if (t.shape[i] <= 0)
      return false;
    uint64_t d = static_cast<uint64_t>(t.shape[i]);
    if (n > std::numeric_limits<uint64_t>::max() / d)
      return false;
    n *= d;
  }
  bytes = n;
  return true;
}

} // namespace detail

namespace {

using detail::eventLabel;
using detail::programLabel;
using detail::strFormat;
using detail::taskLabel;
using detail::tensorLabel;
using detail::Violations;

bool dtypeValid(DType t) {
  return static_cast<uint8_t>(t) <= static_cast<uint8_t>(DType::I32);
}
bool placementValid(Placement p) {
  return static_cast<uint8_t>(p) <= static_cast<uint8_t>(Placement::Comm);
}

// Rule a.
void checkPlanAndModel(const Plan &plan, Violations &v) {
  if (!findTarget(plan.target)) {
    std::string known;
    for (const TargetDesc &t : kTargets)
      known += strFormat("%s%s=%u", known.empty() ? "" : ", ", t.name,
                         static_cast<uint32_t>(t.kind));
    v.add(strFormat("plan: unknown target %u (known: %s)",
                    static_cast<uint32_t>(plan.target), known.c_str()));
  }
  if (plan.tensorParallel < 1)
    v.add("plan: tensorParallel is 0, expected >= 1");
  if (plan.tensorParallel > kMaxTensorParallel)
    v.add(strFormat("plan: tensorParallel is %u, at most %u ranks are supported",
                    plan.tensorParallel, kMaxTensorParallel));

  const ModelMeta &m = plan.model;
  // What N-way tensor parallelism splits must split evenly (rankDims).
  if (const uint32_t n = plan.tensorParallel; n > 1) {
    const struct {
      const char *name;
      uint32_t value;
    } split[] = {{"numHeads", m.numHeads},
                 {"intermediateSize", m.intermediateSize},
                 {"moeIntermediateSize", m.moeIntermediateSize},
                 {"vocabSize", m.vocabSize}};
    for (const auto &f : split)
      if (f.value % n != 0)
        v.add(strFormat("model: %s %u is not divisible by tensorParallel %u", f.name,
                        f.value, n));
    if (m.numKvHeads != 0 && m.numKvHeads % n != 0 && n % m.numKvHeads != 0)
      v.add(strFormat("model: numKvHeads %u and tensorParallel %u: one must divide the "
                      "other (KV heads are split, or replicated when fewer than the "
                      "ranks)",
                      m.numKvHeads, n));
  }
  const struct {
    const char *name;
    uint32_t value;
  } positive[] = {{"vocabSize", m.vocabSize},    {"hiddenSize", m.hiddenSize},
                  {"numLayers", m.numLayers},    {"numHeads", m.numHeads},
                  {"numKvHeads", m.numKvHeads},  {"headDim", m.headDim},
                  {"kvBlockSize", m.kvBlockSize}};
  for (const auto &f : positive)
    if (f.value == 0)
      v.add(strFormat("model: %s is 0, expected > 0", f.name));
  if (m.numKvHeads != 0 && m.numHeads % m.numKvHeads != 0)
    v.add(strFormat("model: numHeads %u is not a multiple of numKvHeads %u", m.numHeads,
                    m.numKvHeads));
  if (m.numExperts != 0 && (m.numExpertsPerTok == 0 || m.numExpertsPerTok > m.numExperts))
    v.add(strFormat("model: numExpertsPerTok %u, expected 1..numExperts %u",
                    m.numExpertsPerTok, m.numExperts));
  if (m.numExperts != 0 && m.moeIntermediateSize == 0)
    v.add(strFormat("model: moeIntermediateSize is 0 with numExperts %u, expected > 0",
                    m.numExperts));
  if (static_cast<uint8_t>(m.ropeStyle) > static_cast<uint8_t>(RopeStyle::Interleaved))
    v.add(strFormat("model: ropeStyle %u is invalid, expected 0 (rotate_half) or 1 "
                    "(interleaved)",
                    static_cast<uint32_t>(m.ropeStyle)));

  if (plan.programs.empty())
    v.add("plan: no programs, expected at least one");
  if (plan.programs.size() > 0x10000u)
    v.add(strFormat("plan: %zu programs, at most 65536 can be addressed (tensors name "
                    "their program with 16 bits)",
                    plan.programs.size()));
  std::unordered_map<std::string_view, uint32_t> names;
  for (uint32_t p = 0; p < plan.programs.size() && !v.full(); ++p) {
    const Program &prog = plan.programs[p];
    if (prog.name.empty())
      v.add(strFormat("program %u: empty name", p));
    else if (auto [it, inserted] = names.emplace(prog.name, p); !inserted)
      v.add(strFormat("%s: duplicate name (program %u has it too)",
                      programLabel(plan, p).c_str(), it->second));
    if (static_cast<uint8_t>(prog.kind) > static_cast<uint8_t>(ProgramKind::Prefill))
      v.add(strFormat("%s: invalid kind %u, expected 0 (decode) or 1 (prefill)",
                      programLabel(plan, p).c_str(), static_cast<uint32_t>(prog.kind)));
    if (prog.rows == 0)
      v.add(strFormat("%s: rows is 0, expected > 0 (batch size or chunk length)",
                      programLabel(plan, p).c_str()));
  }
}

// Rule b's tensor-parallel part: shard fields and comm buffers.
void checkShard(const Plan &plan, uint32_t i, Violations &v) {
  const TensorDesc &t = plan.tensors[i];
  auto where = [&] { return tensorLabel(plan, i); };
  if (t.placement == Placement::Comm) {
    if (plan.tensorParallel < 2)
      v.add(strFormat("%s: a comm buffer in a plan with tensorParallel %u",
                      where().c_str(), plan.tensorParallel));
    if (t.program >= plan.programs.size())
      v.add(strFormat("%s: comm buffer of program %u, but the plan has %zu programs",
                      where().c_str(), t.program, plan.programs.size()));
  }
  if (t.shardParts == 0 || t.shardReplicas == 0) {
    v.add(strFormat("%s: shard parts %u, replicas %u, expected >= 1", where().c_str(),
                    t.shardParts, t.shardReplicas));
    return;
  }
  if (!t.sharded()) {
    if (t.shardReplicas != 1 || t.shardDim != 0)
      v.add(strFormat("%s: not sharded (parts 1) but shard dim %u, replicas %u; "
                      "expected 0 and 1",
                      where().c_str(), t.shardDim, t.shardReplicas));
    return;
  }
  if (t.placement != Placement::Weight)
    v.add(strFormat("%s: sharded (%u parts), but its placement is %s; only weights are "
                    "sharded",
                    where().c_str(), t.shardParts, placementName(t.placement)));
  if (t.shardDim >= t.rank)
    v.add(strFormat("%s: shard dim %u, but the tensor has rank %u", where().c_str(),
                    t.shardDim, t.rank));
  if (uint64_t(t.shardParts) * t.shardReplicas != plan.tensorParallel)
    v.add(strFormat("%s: %u parts x %u replicas, expected tensorParallel %u ranks",
                    where().c_str(), t.shardParts, t.shardReplicas, plan.tensorParallel));
}

// Rule b.
void checkTensors(const Plan &plan, Violations &v) {
  if (plan.tensors.size() > kNoTensor)
    v.add(
        strFormat("plan: %zu tensors, at most %u can be addressed (tensor ids are 16-bit "
                  "and 0xFFFF means none)",
                  plan.tensors.size(), kNoTensor));
  std::unordered_map<std::string_view, uint32_t> names;
  names.reserve(plan.tensors.size());
  const uint32_t numTensors =
      static_cast<uint32_t>(std::min<size_t>(plan.tensors.size(), 1u << 31));
  for (uint32_t i = 0; i < numTensors && !v.full(); ++i) {
    const TensorDesc &t = plan.tensors[i];
    auto where = [&] { return tensorLabel(plan, i); };
    if (t.name.empty())
      v.add(strFormat("tensor %u: empty name", i));
    else if (auto [it, inserted] = names.emplace(t.name, i); !inserted) {
      // A weight may be bound twice with different sharding (a tied embedding is the
      // whole table for the embedding and a vocabulary slice for the LM head).
      const TensorDesc &o = plan.tensors[it->second];
      const bool twoShardings =
          t.placement == Placement::Weight && o.placement == Placement::Weight &&
          (t.shardParts != o.shardParts || t.shardDim != o.shardDim ||
           t.shardReplicas != o.shardReplicas);
      if (!twoShardings)
        v.add(strFormat("%s: duplicate name (tensor %u has it too)", where().c_str(),
                        it->second));
    }
    checkShard(plan, i, v);
    if (!dtypeValid(t.dtype))
      v.add(strFormat("%s: invalid dtype %u, expected 0..3 (bf16, f16, f32, i32)",
                      where().c_str(), static_cast<uint32_t>(t.dtype)));
    if (!placementValid(t.placement))
      v.add(strFormat("%s: invalid placement %u, expected 0..4 (weight, activation, "
                      "kv_cache, step_state, comm)",
                      where().c_str(), static_cast<uint32_t>(t.placement)));
    if (t.layer != kNoLayer && t.layer >= plan.model.numLayers)
      v.add(strFormat("%s: layer %u, but the model has %u layers", where().c_str(),
                      t.layer, plan.model.numLayers));
    if (t.rank < 1 || t.rank > kMaxRank) {
      v.add(strFormat("%s: rank %u, expected 1..%u", where().c_str(), t.rank, kMaxRank));
      continue;
    }
    bool dimsOk = true;
    for (uint32_t d = 0; d < t.rank; ++d)
      if (t.shape[d] <= 0) {
        v.add(strFormat("%s: dim %u is %" PRId64 ", expected > 0", where().c_str(), d,
                        t.shape[d]));
        dimsOk = false;
      }
    if (!dimsOk || t.placement != Placement::Activation)
      continue;

    if (t.program >= plan.programs.size()) {
      v.add(
          strFormat("%s: activation tensor of program %u, but the plan has %zu programs",
                    where().c_str(), t.program, plan.programs.size()));
      continue;
    }
    // 16 bytes: the widest vector access any executor makes into the arena.
    if (t.offset % 16 != 0)
      v.add(strFormat("%s: arena offset %" PRIu64 " is not 16-byte aligned",
                      where().c_str(), t.offset));
    uint64_t bytes = 0;
    if (!detail::tensorByteSize(t, bytes)) {
      v.add(strFormat("%s: byte size overflows 64 bits", where().c_str()));
      continue;
    }
    uint64_t arena = plan.programs[t.program].arenaBytes;
    if (bytes > arena || t.offset > arena - bytes)
      v.add(strFormat("%s: %" PRIu64 " bytes at arena offset %" PRIu64
                      " do not fit the %" PRIu64 "-byte arena of %s",
                      where().c_str(), bytes, t.offset, arena,
                      programLabel(plan, t.program).c_str()));
  }
}

/// Largest valid range[1].end of a task, from the tensor shapes by convention:
///   embedding, o_proj, gate_up, down_proj: last dim of 'out' ([rows, N]);
///   qkv: heads of its section = rows of 'w' ([heads * headDim, hidden]) / headDim;
///   attn_*: the model's numKvHeads; lm_head: the model's vocabSize (per rank under
///   tensor parallelism, rankDims); argmax, all_gather: none; all_reduce: 'out';
///   moe_router: the model's numExperts; moe_gate_up, moe_down, moe_combine: last dim
///   of 'out'.
struct Extent {
  bool known = false; // false: no such extent, or its tensor is invalid (rule b says so)
  uint64_t limit = 0;
  const TensorDesc *from = nullptr; // the tensor it comes from, if any
};

Extent rangeOneExtent(const Plan &plan, const TaskRecord &r) {
  auto tensorOf = [&](const char *role) -> const TensorDesc * {
    int i = roleIndex(static_cast<TaskKind>(r.kind), role);
    if (i < 0 || r.operand[i] >= plan.tensors.size())
      return nullptr;
    const TensorDesc &t = plan.tensors[r.operand[i]];
    if (t.rank < 1 || t.rank > kMaxRank || t.shape[t.rank - 1] <= 0 || t.shape[0] <= 0)
      return nullptr;
    return &t;
  };
  switch (tileAxis(static_cast<TaskKind>(r.kind))) {
  case TileAxis::OutColumns: {
    const TensorDesc *out = tensorOf("out");
    if (!out)
      return {};
    return {true, static_cast<uint64_t>(out->shape[out->rank - 1]), out};
  }
  case TileAxis::WeightHeads: {
    const TensorDesc *w = tensorOf("w");
    if (!w || plan.model.headDim == 0)
      return {};
    return {true, static_cast<uint64_t>(w->shape[0]) / plan.model.headDim, w};
  }
  case TileAxis::KvHeads:
    return {true, rankDims(plan.model, plan.tensorParallel).kvHeads, nullptr};
  case TileAxis::Vocabulary:
    return {true, rankDims(plan.model, plan.tensorParallel).vocab, nullptr};
  case TileAxis::Experts:
    return {true, plan.model.numExperts, nullptr};
  case TileAxis::None:
    return {};
  }
  return {};
}

std::string describeExtent(const Plan &plan, const TaskRecord &r, const Extent &e) {
  switch (tileAxis(static_cast<TaskKind>(r.kind))) {
  case TileAxis::OutColumns:
    return "the last dim of its 'out' tensor " + quote(e.from->name);
  case TileAxis::WeightHeads:
    return strFormat("the heads of its 'w' tensor %s (%" PRId64 " rows / headDim %u)",
                     quote(e.from->name).c_str(), e.from->shape[0], plan.model.headDim);
  case TileAxis::KvHeads:
    return plan.tensorParallel > 1 ? "the KV heads of one rank"
                                   : "the model's numKvHeads";
  case TileAxis::Vocabulary:
    return plan.tensorParallel > 1 ? "the vocabulary of one rank"
                                   : "the model's vocabSize";
  case TileAxis::Experts:
    return "the model's numExperts";
  case TileAxis::None:
    break; // no extent, so never described
  }
  return "its extent";
}

void checkOperands(const Plan &plan, uint32_t pi, uint32_t t, Violations &v) {
  const Program &prog = plan.programs[pi];
  const TaskRecord &r = prog.tasks[t];
  const TaskKindInfo &info = taskKindInfo(static_cast<TaskKind>(r.kind));
  auto where = [&] { return programLabel(plan, pi) + " " + taskLabel(prog, t); };
  if (r.numOperands != info.numOperands) {
    std::string roles;
    for (uint32_t i = 0; i < info.numOperands; ++i)
      roles += strFormat("%s%s", i ? ", " : "", info.operandRoles[i]);
    v.add(strFormat("%s: has %u operands, %s expects %u (%s)", where().c_str(),
                    r.numOperands, info.name, info.numOperands, roles.c_str()));
    return;
  }
  for (uint32_t i = 0; i < info.numOperands; ++i) {
    const char *role = info.operandRoles[i];
    std::string_view name = roleName(role);
    uint16_t id = r.operand[i];
    if (id == kNoTensor) {
      if (!roleIsOptional(role))
        v.add(strFormat("%s: operand %u '%.*s' is required but absent", where().c_str(),
                        i, static_cast<int>(name.size()), name.data()));
      continue;
    }
    if (id >= plan.tensors.size()) {
      v.add(
          strFormat("%s: operand %u '%.*s' names tensor %u, but the plan has %zu tensors",
                    where().c_str(), i, static_cast<int>(name.size()), name.data(), id,
                    plan.tensors.size()));
      continue;
    }
    const TensorDesc &tensor = plan.tensors[id];
    if (tensor.placement == Placement::Activation && tensor.program != pi)
      v.add(strFormat("%s: operand %u '%.*s' is %s, an activation of program %u, not of "
                      "this program",
                      where().c_str(), i, static_cast<int>(name.size()), name.data(),
                      tensorLabel(plan, id).c_str(), tensor.program));
    if (roleIsWritten(role) && tensor.placement == Placement::Weight)
      v.add(strFormat("%s: operand %u '%.*s' is written, but %s is a weight",
                      where().c_str(), i, static_cast<int>(name.size()), name.data(),
                      tensorLabel(plan, id).c_str()));
  }
}

void checkRanges(const Plan &plan, uint32_t pi, uint32_t t, Violations &v) {
  const Program &prog = plan.programs[pi];
  const TaskRecord &r = prog.tasks[t];
  auto where = [&] { return programLabel(plan, pi) + " " + taskLabel(prog, t); };
  bool ordered = true;
  for (int k = 0; k < 3; ++k)
    if (r.range[k].begin > r.range[k].end) {
      v.add(strFormat("%s: range[%d] is [%u, %u), begin > end", where().c_str(), k,
                      r.range[k].begin, r.range[k].end));
      ordered = false;
    }
  if (!ordered)
    return;
  if (r.range[0].end > prog.rows)
    v.add(strFormat("%s: range[0] (rows) [%u, %u) exceeds the program's %u rows",
                    where().c_str(), r.range[0].begin, r.range[0].end, prog.rows));
  if (r.kind >= kNumTaskKinds)
    return;
  if (Extent e = rangeOneExtent(plan, r); e.known && r.range[1].end > e.limit)
    v.add(strFormat("%s: range[1] [%u, %u) exceeds %" PRIu64 ", %s", where().c_str(),
                    r.range[1].begin, r.range[1].end, e.limit,
                    describeExtent(plan, r, e).c_str()));
  if (static_cast<TaskKind>(r.kind) == TaskKind::AttnDecode && plan.model.maxSeqLen > 0 &&
      r.range[2].end > plan.model.maxSeqLen)
    v.add(strFormat(
        "%s: range[2] (KV positions) [%u, %u) exceeds the model's maxSeqLen %u",
        where().c_str(), r.range[2].begin, r.range[2].end, plan.model.maxSeqLen));
}

/// Returns false when a wait or signal cannot be put in the graph (too many, or an
/// event id out of range); the graph rules are then skipped for the program.
bool checkWaitsAndSignals(const Plan &plan, uint32_t pi, uint32_t t, Violations &v) {
  const Program &prog = plan.programs[pi];
  const TaskRecord &r = prog.tasks[t];
  auto where = [&] { return programLabel(plan, pi) + " " + taskLabel(prog, t); };
  const size_t numEvents = prog.events.size();
  bool graphOk = true;
  if (r.numWaits > kMaxWaits) {
    v.add(strFormat("%s: has %u waits, at most %u are allowed", where().c_str(),
                    r.numWaits, kMaxWaits));
    graphOk = false;
  } else {
    for (uint32_t w = 0; w < r.numWaits; ++w) {
      const Wait &wait = r.wait[w];
      if (wait.event >= numEvents) {
        v.add(strFormat("%s: wait %u names event %u, but the program has %zu events",
                        where().c_str(), w, wait.event, numEvents));
        graphOk = false;
        continue;
      }
      if (wait.count == 0)
        v.add(strFormat("%s: wait %u on %s has count 0, expected > 0", where().c_str(), w,
                        eventLabel(prog, wait.event).c_str()));
      if (wait.stepBack > 1)
        v.add(strFormat("%s: wait %u on %s has stepBack %u, expected 0 (same step) or 1 "
                        "(previous step)",
                        where().c_str(), w, eventLabel(prog, wait.event).c_str(),
                        wait.stepBack));
    }
  }
  if (r.numSignals < 1 || r.numSignals > kMaxSignals) {
    v.add(strFormat("%s: has %u signals, expected 1 or %u", where().c_str(), r.numSignals,
                    kMaxSignals));
    graphOk = graphOk && r.numSignals <= kMaxSignals;
  }
  const uint32_t numSignals = std::min<uint32_t>(r.numSignals, kMaxSignals);
  for (uint32_t s = 0; s < numSignals; ++s)
    if (r.signal[s] >= numEvents) {
      v.add(strFormat("%s: signal %u names event %u, but the program has %zu events",
                      where().c_str(), s, r.signal[s], numEvents));
      graphOk = false;
    }
  // Event counts are "signalling tasks per step"; a double signal would break that.
  if (numSignals == 2 && r.signal[0] == r.signal[1] && r.signal[0] < numEvents)
    v.add(strFormat("%s: signals %s twice", where().c_str(),
                    eventLabel(prog, r.signal[0]).c_str()));
  return graphOk;
}

// Rule c. Returns whether the graph rules can run.
bool checkTasks(const Plan &plan, uint32_t pi, Violations &v) {
  const Program &prog = plan.programs[pi];
  bool graphOk = true;
  for (uint32_t t = 0; t < prog.tasks.size() && !v.full(); ++t) {
    const TaskRecord &r = prog.tasks[t];
    if (r.kind >= kNumTaskKinds)
      v.add(strFormat("%s %s: invalid kind %u, the ISA has %u kinds",
                      programLabel(plan, pi).c_str(), taskLabel(prog, t).c_str(), r.kind,
                      kNumTaskKinds));
    else {
      checkOperands(plan, pi, t, v);
      if (detail::isMoeKind(static_cast<TaskKind>(r.kind)))
        detail::checkMoeTask(plan, pi, t, v);
    }
    if (r.layer != kNoLayer && r.layer >= plan.model.numLayers)
      v.add(strFormat("%s %s: layer %u, but the model has %u layers",
                      programLabel(plan, pi).c_str(), taskLabel(prog, t).c_str(), r.layer,
                      plan.model.numLayers));
    checkRanges(plan, pi, t, v);
    graphOk = checkWaitsAndSignals(plan, pi, t, v) && graphOk;
  }
  if (!v.full())
    detail::checkCommProgram(plan, pi, v);
  return graphOk;
}

// Rule d (on a program whose signals and waits name valid events).
void checkEvents(const Plan &plan, uint32_t pi, Violations &v) {
  const Program &prog = plan.programs[pi];
  std::vector<uint32_t> signallers(prog.events.size(), 0);
  for (const TaskRecord &r : prog.tasks)
    for (uint32_t s = 0; s < r.numSignals; ++s)
      ++signallers[r.signal[s]];
  for (uint32_t e = 0; e < prog.events.size() && !v.full(); ++e) {
    uint32_t count = prog.events[e].count;
    if (count == 0 && signallers[e] == 0)
      v.add(strFormat("%s %s: count is 0 and no task signals it; every event needs at "
                      "least one producer",
                      programLabel(plan, pi).c_str(), eventLabel(prog, e).c_str()));
    else if (count != signallers[e])
      v.add(strFormat("%s %s: count is %u, but %u tasks signal it per step",
                      programLabel(plan, pi).c_str(), eventLabel(prog, e).c_str(), count,
                      signallers[e]));
  }
  for (uint32_t t = 0; t < prog.tasks.size() && !v.full(); ++t) {
    const TaskRecord &r = prog.tasks[t];
    for (uint32_t w = 0; w < r.numWaits; ++w) {
      const Wait &wait = r.wait[w];
      uint32_t count = prog.events[wait.event].count;
      if (wait.count != 0 && wait.count != count)
        v.add(strFormat("%s %s: wait %u on %s has count %u, but the event's count is %u",
                        programLabel(plan, pi).c_str(), taskLabel(prog, t).c_str(), w,
                        eventLabel(prog, wait.event).c_str(), wait.count, count));
    }
  }
}

void verifyInto(const Plan &plan, Violations &v) {
  checkPlanAndModel(plan, v);
  if (!v.full())
    checkTensors(plan, v);
  const uint32_t numPrograms =
      static_cast<uint32_t>(std::min<size_t>(plan.programs.size(), 0x10000u));
  for (uint32_t p = 0; p < numPrograms && !v.full(); ++p) {
    bool graphOk = checkTasks(plan, p, v);
    if (!graphOk || v.full())
      continue;
    checkEvents(plan, p, v);
    if (!v.full())
      detail::verifyProgramGraph(plan, p, v);
    if (!v.full())
      detail::checkCommOrder(plan, p, v);
  }
}

} // namespace

Status verifyPlan(const Plan &plan) {
  Violations v(1);
  verifyInto(plan, v);
  std::vector<std::string> messages = v.take();
  return messages.empty() ? Status::ok() : Status::error(std::move(messages.front()));
}

std::vector<std::string> verifyPlanAll(const Plan &plan, size_t limit) {
  Violations v(limit == 0 ? 1 : limit);
  verifyInto(plan, v);
  return v.take();
}

} // namespace mk::isa
