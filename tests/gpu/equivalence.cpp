//===- equivalence.cpp - One plan on the host and the CUDA executor, compared ===//
#include "equivalence.h"

#include "mk/host/executor.h"
#include "mk/isa/plan_verify.h"
#include "mk/isa/task_footprint.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string_view>

namespace mk::cuda::test {

namespace {

/// Roles that name model weights: Weight placement, staged by the CUDA kernel before
/// the dependency wait, never written.
bool isWeightRole(std::string_view role) {
  for (std::string_view w :
       {"table", "norm_w", "w", "bias", "head_norm_w", "w_gate", "w_up"})
    if (role == w)
      return true;
  return false;
}

/// The expert groups of a task: the group roles of a MoE expert tile (its late weights,
/// mk/isa/task_footprint.h), each with the tensors operand + 1 .. operand + E - 1 of
/// experts 1.. (expert 0 is the operand itself). fn(role, expert, tensor).
template <class Fn>
void forEachGroupExpert(const isa::TaskRecord &t, uint32_t experts, Fn fn) {
  const auto kind = isa::TaskKind(t.kind);
  if (kind != isa::TaskKind::MoeGateUp && kind != isa::TaskKind::MoeDown)
    return;
  for (uint32_t o = 0; o < t.numOperands; ++o)
    if (isa::lateWeightRoles(kind) & (1u << o))
      for (uint32_t e = 1; e < experts; ++e)
        fn(o, e, uint16_t(t.operand[o] + e));
}

/// "[a, b, c]": the coordinates of flat index i in a tensor.
std::string coords(const host::TensorRef &ref, int64_t i) {
  std::vector<int64_t> c(ref.rank);
  for (int64_t d = int64_t(ref.rank) - 1; d >= 0; --d) {
    c[d] = i % ref.shape[d];
    i /= ref.shape[d];
  }
  std::string s = "[";
  for (size_t d = 0; d < c.size(); ++d)
    s += (d ? ", " : "") + std::to_string(c[d]);
  return s + "]";
}

std::string describe(const isa::Plan &plan, uint16_t id) {
  const isa::TensorDesc &t = plan.tensors[id];
  std::string s = "tensor " + std::to_string(id) + " '" + t.name + "' [";
  for (uint32_t d = 0; d < t.rank; ++d)
    s += (d ? ", " : "") + std::to_string(t.shape[d]);
  return s + "] " + isa::dtypeName(t.dtype);
}

/// Host vs CUDA of one float output. Values of elements with `skipValue(i)` are left to
/// another check; their coverage is still compared.
void compareFloats(const TaskBench &h, const TaskBench &c, uint16_t id,
                   const std::function<bool(int64_t)> &skipValue, const std::string &what,
                   std::ostringstream &errors) {
  const int64_t n = h.numElements(id);
  const int64_t rows = h.ref(id).shape[0], perRow = n / rows;
  std::vector<double> rowDiff(size_t(rows), 0.0), rowRef(size_t(rows), 0.0);
  std::vector<double> rowMax(size_t(rows), 0.0);
  std::vector<int64_t> compared; // finite on both sides
  int64_t written = 0, coverage = 0, nans = 0, infs = 0;
  int64_t firstCoverage = -1, firstNan = -1, firstInf = -1;
  for (int64_t i = 0; i < n; ++i) {
    const bool hs = h.isSentinel(id, i), cs = c.isSentinel(id, i);
    if (hs != cs) {
      if (coverage++ == 0)
        firstCoverage = i;
      continue;
    }
    if (hs)
      continue;
    ++written;
    if (skipValue && skipValue(i))
      continue;
    const double hv = h.at(id, i), cv = c.at(id, i);
    if (std::isnan(hv) || std::isnan(cv)) {
      if (nans++ == 0)
        firstNan = i;
      continue;
    }
    if (!std::isfinite(hv) || !std::isfinite(cv)) {
      // -inf is a real value (the lse of an empty KV split) and must be reproduced.
      if (hv != cv && infs++ == 0)
        firstInf = i;
      continue;
    }
    rowDiff[i / perRow] += (cv - hv) * (cv - hv);
    rowRef[i / perRow] += hv * hv;
    rowMax[i / perRow] = std::max(rowMax[i / perRow], std::abs(hv));
    compared.push_back(i);
  }
  const host::TensorRef &ref = h.ref(id);
  if (coverage)
    errors << what << ": " << coverage << " elements written by one backend only (first "
           << coords(ref, firstCoverage) << ": host "
           << (h.isSentinel(id, firstCoverage) ? "poisoned" : "written") << ", cuda "
           << (c.isSentinel(id, firstCoverage) ? "poisoned" : "written")
           << "): the CUDA tile differs from the host's\n";
  if (nans)
    errors << what << ": " << nans << " NaN values (first " << coords(ref, firstNan)
           << ": host " << h.at(id, firstNan) << ", cuda " << c.at(id, firstNan) << ")\n";
  if (infs)
    errors << what << ": infinities differ (first " << coords(ref, firstInf) << ": host "
           << h.at(id, firstInf) << ", cuda " << c.at(id, firstInf) << ")\n";
  if (written == 0)
    errors << what << ": no element written by either backend (a scenario bug)\n";

  double diff = 0, norm = 0, worst = 0;
  int64_t worstRow = -1;
  for (int64_t r = 0; r < rows; ++r) {
    diff += rowDiff[r];
    norm += rowRef[r];
    // A row of exact zeros (an inactive row) must stay exactly zero.
    const double e = rowRef[r] > 0    ? std::sqrt(rowDiff[r] / rowRef[r])
                     : rowDiff[r] > 0 ? INFINITY
                                      : 0.0;
    if (e > worst) {
      worst = e;
      worstRow = r;
    }
  }
  const double err = norm > 0 ? std::sqrt(diff / norm) : diff > 0 ? INFINITY : 0.0;
  if (err > kTolerance || worst > kRowTolerance)
    errors << what << ": normalized error " << err << " (limit " << kTolerance
           << "), worst leading index " << worstRow << ": " << worst << " (limit "
           << kRowTolerance << ")\n";

  // Single elements, which a norm over many hides.
  int64_t far = 0, firstFar = -1;
  for (int64_t i : compared)
    if (std::abs(c.at(id, i) - h.at(id, i)) >
            kElementTolerance * (std::abs(h.at(id, i)) + rowMax[i / perRow]) &&
        far++ == 0)
      firstFar = i;
  if (far)
    errors << what << ": " << far << " elements differ by more than " << kElementTolerance
           << " of their magnitude plus their leading index's largest (first "
           << coords(ref, firstFar) << ": host " << h.at(id, firstFar) << ", cuda "
           << c.at(id, firstFar) << ")\n";
}

/// Host vs CUDA of an output that must match bit for bit.
void compareBytes(const TaskBench &h, const TaskBench &c, uint16_t id,
                  const std::string &what, std::ostringstream &errors) {
  const std::vector<std::byte> hb = h.bytes(id), cb = c.bytes(id);
  const size_t size = isa::dtypeSize(h.ref(id).dtype);
  for (size_t i = 0; i < hb.size(); i += size)
    if (std::memcmp(hb.data() + i, cb.data() + i, size) != 0) {
      const int64_t e = int64_t(i / size);
      int64_t count = 0;
      for (size_t j = i; j < hb.size(); j += size)
        count += std::memcmp(hb.data() + j, cb.data() + j, size) != 0;
      errors << what << ": " << count << " elements differ (first "
             << coords(h.ref(id), e) << ": host "
             << (h.isSentinel(id, e) ? std::string("poisoned")
                                     : std::to_string(h.at(id, e)))
             << ", cuda "
             << (c.isSentinel(id, e) ? std::string("poisoned")
                                     : std::to_string(c.at(id, e)))
             << ")\n";
      return;
    }
}

/// lm_head's partial argmax (value, index) of every row of `task`: each backend's must be
/// the first maximum of its own logits over the tile (exactly), and the indices must
/// agree unless the host's logits at the two indices are a near tie.
void checkPartialArgmax(const TaskBench &h, const TaskBench &c,
                        const isa::TaskRecord &task, const std::string &what,
                        std::ostringstream &errors) {
  const uint16_t logits = task.operand[isa::roleIndex(isa::TaskKind::LmHead, "logits")];
  const uint16_t pm = task.operand[isa::roleIndex(isa::TaskKind::LmHead, "partial_max")];
  const int64_t vocab = h.ref(logits).shape[1], tiles = h.ref(pm).shape[1];
  const isa::Range cols = task.range[1];
  int64_t bad = 0;
  std::ostringstream first;
  for (int64_t r = task.range[0].begin; r < task.range[0].end; ++r) {
    const int64_t at = (r * tiles + task.aux[0]) * 2;
    int64_t index[2];
    for (int side = 0; side < 2; ++side) {
      const TaskBench &b = side ? c : h;
      double best = -INFINITY;
      int64_t bestIndex = -1;
      for (int64_t v = cols.begin; v < cols.end; ++v) {
        const double x = b.at(logits, r * vocab + v);
        if (!std::isnan(x) && (bestIndex < 0 || x > best)) {
          best = x;
          bestIndex = v;
        }
      }
      if (bestIndex < 0)
        bestIndex = cols.begin;
      const double got = b.at(pm, at + 1);
      index[side] = std::isnan(got) ? -1 : int64_t(got);
      if (b.at(pm, at) != best || got != double(bestIndex)) {
        if (bad++ == 0)
          first << (side ? "cuda" : "host") << " row " << r << " holds (" << b.at(pm, at)
                << ", " << got << "), the first maximum of its logits is (" << best
                << ", " << bestIndex << ")";
      }
    }
    if (index[0] == index[1])
      continue;
    auto inTile = [&](int64_t v) { return v >= cols.begin && v < cols.end; };
    if (inTile(index[0]) && inTile(index[1])) {
      const double a = h.at(logits, r * vocab + index[0]);
      const double b = h.at(logits, r * vocab + index[1]);
      if (std::abs(a - b) <= 1e-3 * std::max(1.0, std::abs(a)))
        continue; // a near tie: either backend's rounding may pick either
    }
    if (bad++ == 0)
      first << "row " << r << ": host index " << index[0] << ", cuda index " << index[1];
  }
  if (bad)
    errors << what << " (lm_head tile " << task.aux[0] << "): " << bad
           << " wrong partial argmaxes (" << first.str() << ")\n";
}

} // namespace

void Scenario::add(const isa::TaskRecord &task, uint32_t phase) {
  EXPECT_TRUE(phases.empty() || phase >= phases.back()) << "phases must not decrease";
  tasks.push_back(task);
  phases.push_back(phase);
}

uint32_t Scenario::numTensors() const {
  uint32_t n = 0;
  for (const isa::TaskRecord &t : tasks) {
    for (uint32_t o = 0; o < t.numOperands; ++o)
      if (t.operand[o] != isa::kNoTensor)
        n = std::max<uint32_t>(n, t.operand[o] + 1u);
    forEachGroupExpert(t, bench.model.numExperts, [&](uint32_t, uint32_t, uint16_t id) {
      n = std::max<uint32_t>(n, id + 1u);
    });
  }
  return n;
}

/// The tensors bound to operands whose role satisfies `keep(role)`, over every task.
template <class Keep>
std::set<uint16_t> operandsWhere(const std::vector<isa::TaskRecord> &tasks, Keep keep) {
  std::set<uint16_t> out;
  for (const isa::TaskRecord &t : tasks) {
    const isa::TaskKindInfo &info = isa::taskKindInfo(isa::TaskKind(t.kind));
    for (uint32_t o = 0; o < t.numOperands; ++o)
      if (t.operand[o] != isa::kNoTensor && keep(info.operandRoles[o]))
        out.insert(t.operand[o]);
  }
  return out;
}

std::set<uint16_t> Scenario::outputs() const {
  return operandsWhere(tasks, [](const char *role) { return isa::roleIsWritten(role); });
}

std::set<uint16_t> Scenario::weights() const {
  std::set<uint16_t> out = operandsWhere(
      tasks, [](const char *role) { return isWeightRole(isa::roleName(role)); });
  for (const isa::TaskRecord &t : tasks)
    forEachGroupExpert(t, bench.model.numExperts,
                       [&](uint32_t, uint32_t, uint16_t id) { out.insert(id); });
  return out;
}

isa::Plan Scenario::plan() const {
  isa::Plan plan;
  plan.target = isa::TargetKind::Host;
  plan.model = bench.model;

  // Tensors, named after the first role that uses them.
  const uint32_t n = numTensors();
  const std::set<uint16_t> weightIds = weights(), outputIds = outputs();
  std::vector<std::string> names(n);
  for (const isa::TaskRecord &t : tasks) {
    const isa::TaskKindInfo &info = isa::taskKindInfo(isa::TaskKind(t.kind));
    for (uint32_t o = 0; o < t.numOperands; ++o)
      if (t.operand[o] != isa::kNoTensor && names[t.operand[o]].empty())
        names[t.operand[o]] = std::string(isa::roleName(info.operandRoles[o]));
    forEachGroupExpert(t, bench.model.numExperts,
                       [&](uint32_t o, uint32_t e, uint16_t id) {
                         if (names[id].empty())
                           names[id] = std::string(isa::roleName(info.operandRoles[o])) +
                                       ".e" + std::to_string(e);
                       });
  }
  for (uint16_t id = 0; id < n; ++id) {
    EXPECT_FALSE(weightIds.count(id) && outputIds.count(id))
        << "tensor " << id << " is both a weight and an output";
    const host::TensorRef &ref = bench.ref(id);
    isa::TensorDesc t;
    t.name = "t" + std::to_string(id) + "." + (names[id].empty() ? "unused" : names[id]);
    t.dtype = ref.dtype;
    t.placement =
        weightIds.count(id) ? isa::Placement::Weight : isa::Placement::StepState;
    t.rank = ref.rank;
    std::copy(ref.shape, ref.shape + isa::kMaxRank, t.shape);
    plan.tensors.push_back(t);
  }

  // One event per phase, counted by its tasks; phase 0 waits on the last phase of the
  // previous step, phase p on phase p - 1 of the same step.
  isa::Program program;
  program.name = bench.program.name;
  program.kind = bench.program.kind;
  const uint32_t numPhases = phases.empty() ? 0 : phases.back() + 1;
  std::vector<uint32_t> count(numPhases, 0);
  for (uint32_t p : phases)
    ++count[p];
  for (uint32_t p = 0; p < numPhases; ++p) {
    EXPECT_GT(count[p], 0u) << "phase " << p << " has no task";
    program.events.push_back({"phase" + std::to_string(p), count[p]});
  }
  for (size_t i = 0; i < tasks.size(); ++i) {
    isa::TaskRecord t = tasks[i];
    const uint32_t p = phases[i];
    const uint32_t waitOn = p == 0 ? numPhases - 1 : p - 1;
    t.wait[0] = {waitOn, uint16_t(count[waitOn]), uint8_t(p == 0 ? 1 : 0), 0};
    t.numWaits = 1;
    t.signal[0] = p;
    t.numSignals = 1;
    program.rows = std::max(program.rows, t.range[0].end);
    program.tasks.push_back(t);
    program.order.push_back(uint32_t(i));
  }
  program.rows = std::max(program.rows, 1u);
  plan.programs.push_back(std::move(program));
  return plan;
}

std::ostream &operator<<(std::ostream &os, const ScenarioCase &c) { return os << c.name; }

std::string caseName(const ::testing::TestParamInfo<ScenarioCase> &info) {
  return info.param.name;
}

Status runScenario(Executor &executor, Scenario &s) {
  for (uint16_t id = 0; id < s.numTensors(); ++id)
    if (Status st = executor.bind(id, s.bench.ref(id).data); !st)
      return st;
  return executor.launch(0, s.steps);
}

Status runOnHost(Scenario &s, const isa::Plan &plan, unsigned workers) {
  host::HostExecutor executor(plan, {.workers = workers});
  return runScenario(executor, s);
}

Status runOnCuda(Scenario &s, const isa::Plan &plan, CudaOptions options) {
  options.checkTarget = false;
  std::unique_ptr<Executor> executor;
  if (Status st = createExecutor(plan, options, executor); !st)
    return st;
  return runScenario(*executor, s);
}

::testing::AssertionResult sameResults(const Scenario &host, const Scenario &cuda) {
  const isa::Plan plan = host.plan();
  const std::set<uint16_t> outputs = host.outputs(), weights = host.weights();
  const TaskBench &h = host.bench, &c = cuda.bench;
  std::ostringstream errors;
  // lm_head partials: values by normalized error below, indices by checkPartialArgmax.
  std::set<uint16_t> partials;
  for (const isa::TaskRecord &t : host.tasks)
    if (t.kind == uint16_t(isa::TaskKind::LmHead)) {
      partials.insert(t.operand[isa::roleIndex(isa::TaskKind::LmHead, "partial_max")]);
      checkPartialArgmax(
          h, c, t,
          describe(plan, t.operand[isa::roleIndex(isa::TaskKind::LmHead, "partial_max")]),
          errors);
    }
  for (uint16_t id = 0; id < host.numTensors(); ++id) {
    const std::string what = describe(plan, id);
    if (weights.count(id))
      continue; // uploaded once, never downloaded
    if (!outputs.count(id)) {
      compareBytes(h, c, id, what + " (an input)", errors);
      continue;
    }
    if (h.ref(id).dtype == isa::DType::I32 || host.exactOutputs.count(id)) {
      compareBytes(h, c, id, what, errors);
      continue;
    }
    std::function<bool(int64_t)> skipValue;
    if (partials.count(id))
      skipValue = [](int64_t i) { return i % 2 == 1; }; // the indices
    compareFloats(h, c, id, skipValue, what, errors);
  }
  if (errors.str().empty())
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "CUDA vs host:\n" << errors.str();
}

::testing::AssertionResult bitwiseEqual(const Scenario &a, const Scenario &b) {
  if (a.numTensors() != b.numTensors())
    return ::testing::AssertionFailure()
           << a.numTensors() << " vs " << b.numTensors() << " tensors";
  for (uint16_t id = 0; id < a.numTensors(); ++id)
    if (a.bench.bytes(id) != b.bench.bytes(id))
      return ::testing::AssertionFailure() << "tensor " << id << " differs";
  return ::testing::AssertionSuccess();
}

void expectCudaMatchesHost(const ScenarioCase &c) {
  Scenario host = c.build(), cuda = c.build();
  const isa::Plan plan = host.plan();
  Status verified = isa::verifyPlan(plan);
  ASSERT_TRUE(verified) << "the scenario's plan does not verify: " << verified.message();
  ASSERT_TRUE(bitwiseEqual(host, cuda)) << "two builds of the scenario differ";
  ASSERT_EQ(host.tasks.size(), cuda.tasks.size());
  ASSERT_EQ(0, std::memcmp(host.tasks.data(), cuda.tasks.data(),
                           host.tasks.size() * sizeof(isa::TaskRecord)))
      << "two builds of the scenario have different tasks";
  Status ran = runOnHost(host, plan);
  ASSERT_TRUE(ran) << "host executor: " << ran.message();
  for (uint16_t id : host.outputs()) {
    int64_t written = 0;
    for (int64_t i = 0; i < host.bench.numElements(id); ++i)
      written += !host.bench.isSentinel(id, i);
    ASSERT_GT(written, 0) << "the host wrote nothing into tensor " << id;
  }

  MK_SKIP_WITHOUT_DEVICE();
  ran = runOnCuda(cuda, plan);
  ASSERT_TRUE(ran) << "cuda executor: " << ran.message();
  EXPECT_TRUE(sameResults(host, cuda));
}

} // namespace mk::cuda::test
