// The host executor end to end on a real plan: mkc compiles the tiny-llama preset,
// weights are random, and a prompt is prefilled and then decoded several steps per
// launch. Results must be bitwise identical for any worker count and across runs, a
// multi-step launch must equal the same steps launched one by one, a hang must come
// back as a watchdog error naming the task and the event, and profiling must record
// every task.
#include "mk/host/executor.h"
#include "mk/host/lane_order.h"
#include "mk/isa/plan_file.h"
#include "mk/isa/plan_verify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>

using namespace mk;
using namespace mk::host;

namespace {

const std::string &planPath() {
  static const std::string path = [] {
    std::string out = (std::filesystem::temp_directory_path() /
                       ("mk-host-executor-" + std::to_string(::getpid()) + ".mkp"))
                          .string();
    std::string cmd = std::string(MK_MKC) + " compile --model tiny-llama --target host" +
                      " --batch 2 --prefill-chunk 8 --max-seq-len 64 -o " + out;
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    static std::string toRemove = out;
    std::atexit([] { std::filesystem::remove(toRemove); });
    return out;
  }();
  return path;
}

uint16_t find(const isa::Plan &plan, const std::string &name) {
  for (size_t i = 0; i < plan.tensors.size(); ++i)
    if (plan.tensors[i].name == name)
      return uint16_t(i);
  ADD_FAILURE() << "no tensor " << name;
  return 0;
}

uint32_t programIndex(const isa::Plan &plan, const std::string &name) {
  for (uint32_t i = 0; i < plan.programs.size(); ++i)
    if (plan.programs[i].name == name)
      return i;
  ADD_FAILURE() << "no program " << name;
  return 0;
}

/// Everything the caller binds: weights, KV caches and step state.
struct Model {
  isa::Plan plan;
  std::vector<std::vector<uint8_t>> memory; // by tensor id (empty for activations)

  Model() {
    Status s = isa::readPlanFile(planPath(), plan);
    EXPECT_TRUE(s) << s.message();
    std::mt19937 rng(1234);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    memory.resize(plan.tensors.size());
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      const isa::TensorDesc &t = plan.tensors[i];
      if (t.placement == isa::Placement::Activation)
        continue;
      memory[i].assign(t.bytes(), 0);
      if (t.placement != isa::Placement::Weight)
        continue;
      bool norm = t.name.find("norm") != std::string::npos;
      auto *w = reinterpret_cast<bf16 *>(memory[i].data());
      for (uint64_t e = 0; e < t.numElements(); ++e)
        w[e] = floatToBf16(norm ? 1.0f + 0.1f * normal(rng) : 0.08f * normal(rng));
    }
  }
  template <typename T> T *data(const std::string &name) {
    return reinterpret_cast<T *>(memory[find(plan, name)].data());
  }
  void bindAll(HostExecutor &exec) {
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      if (!memory[i].empty()) {
        ASSERT_TRUE(exec.bind(uint16_t(i), memory[i].data()));
      }
    }
  }
};

struct Result {
  std::vector<int32_t> tokens; // the prefill's next token, then one per decode step
  std::vector<uint8_t> logits, kvCache;
  bool operator==(const Result &) const = default;
};

constexpr int32_t kPrompt[] = {5, 17, 200, 33, 91, 4};
constexpr int kPromptLen = 6;

/// The step state of a prefill of the prompt's first `len` tokens: one sequence, rows
/// past it are padding.
void setPrefill(Model &m, int len) {
  const int64_t blocks = m.plan.tensors[find(m.plan, "prefill.block_table")].shape[1];
  for (int r = 0; r < 8; ++r) {
    bool on = r < len;
    m.data<int32_t>("prefill.tokens")[r] = on ? kPrompt[r] : 0;
    m.data<int32_t>("prefill.positions")[r] = on ? r : -1;
    m.data<int32_t>("prefill.kv_slots")[r] = on ? r : -1;
  }
  m.data<int32_t>("prefill.seq_lens")[0] = len;
  for (int b = 0; b < blocks; ++b)
    m.data<int32_t>("prefill.block_table")[b] = b;
}

/// Prefills the prompt, then decodes `steps` tokens, `perLaunch` steps per launch.
Result generate(unsigned workers, int steps, int perLaunch) {
  Model m;
  HostExecutor exec(m.plan, {.workers = workers});
  m.bindAll(exec);
  const int64_t blocks = m.plan.tensors[find(m.plan, "prefill.block_table")].shape[1];
  setPrefill(m, kPromptLen);
  Status s = exec.launch(programIndex(m.plan, "prefill"), 1);
  EXPECT_TRUE(s) << s.message();
  Result result;
  result.tokens.push_back(m.data<int32_t>("prefill.tokens_out")[kPromptLen - 1]);

  // Decode row 0 continues the sequence (same physical blocks); row 1 is a free slot.
  int32_t *tokens = m.data<int32_t>("decode.tokens");
  int32_t *positions = m.data<int32_t>("decode.positions");
  int32_t *seqLens = m.data<int32_t>("decode.seq_lens");
  int32_t *slots = m.data<int32_t>("decode.kv_slots");
  for (int b = 0; b < blocks; ++b)
    m.data<int32_t>("decode.block_table")[b] = b;
  tokens[0] = result.tokens.back();
  tokens[1] = 0;
  positions[1] = slots[1] = -1;
  seqLens[1] = 0;
  const uint32_t decode = programIndex(m.plan, "decode");
  for (int done = 0; done < steps; done += perLaunch) {
    int pos = kPromptLen + done;
    positions[0] = pos;
    seqLens[0] = pos + 1;
    slots[0] = pos;
    s = exec.launch(decode, perLaunch);
    EXPECT_TRUE(s) << s.message();
    // The last step's argmax wrote the next input token in place.
    result.tokens.push_back(tokens[0]);
  }
  const TensorRef &logits = exec.tensor(find(m.plan, "decode.logits"));
  const size_t logitsBytes = m.plan.tensors[find(m.plan, "decode.logits")].bytes();
  result.logits.assign(static_cast<uint8_t *>(logits.data),
                       static_cast<uint8_t *>(logits.data) + logitsBytes);
  for (const char *name : {"kv.l0.k", "kv.l1.v"}) {
    auto &mem = m.memory[find(m.plan, name)];
    result.kvCache.insert(result.kvCache.end(), mem.begin(), mem.end());
  }
  return result;
}

TEST(HostExecutor, PlanVerifies) {
  Model m;
  Status s = isa::verifyPlan(m.plan);
  EXPECT_TRUE(s) << s.message();
}

// The orders the workers claim in: every program's, dealt into 1..5 lanes, is a plan
// that verifies (a topological queue order) and a permutation of the plan's; one lane
// changes nothing; with two lanes a gate/up phase's even tickets walk its first half
// and its odd ones the second.
TEST(HostExecutor, LaneOrdersVerifyAndDealEachPhaseIntoContiguousLanes) {
  Model m;
  for (unsigned lanes = 1; lanes <= 5; ++lanes) {
    isa::Plan dealt = m.plan;
    for (size_t p = 0; p < dealt.programs.size(); ++p) {
      dealt.programs[p].order = laneOrder(m.plan.programs[p], lanes);
      std::vector<uint32_t> a = dealt.programs[p].order, b = m.plan.programs[p].order;
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      EXPECT_EQ(a, b) << dealt.programs[p].name << ", " << lanes << " lanes";
      if (lanes == 1) {
        EXPECT_EQ(dealt.programs[p].order, m.plan.programs[p].order);
      }
    }
    Status s = isa::verifyPlan(dealt);
    EXPECT_TRUE(s) << lanes << " lanes: " << s.message();
  }
  const isa::Program &decode = m.plan.programs[programIndex(m.plan, "decode")];
  const std::vector<uint32_t> two = laneOrder(decode, 2);
  // The first gate/up phase, in the plan's order and dealt.
  auto isGateUp = [&](size_t i) {
    return decode.tasks[decode.order[i]].kind == uint16_t(isa::TaskKind::GateUp);
  };
  size_t begin = 0;
  while (begin < decode.order.size() && !isGateUp(begin))
    ++begin;
  size_t end = begin;
  while (end < decode.order.size() && isGateUp(end))
    ++end;
  const size_t n = end - begin;
  ASSERT_GE(n, 4u) << "the tiny plan's gate/up phase is too short to deal";
  ASSERT_EQ(n % 2, 0u) << "the expectation below is for an even phase";
  for (size_t i = 0; i < n; ++i)
    EXPECT_EQ(two[begin + i], decode.order[begin + (i % 2) * (n / 2) + i / 2])
        << "ticket " << i << " of the phase";
  // The embedding leads and the argmax ends, alone in their phases.
  EXPECT_EQ(two.front(), decode.order.front());
  EXPECT_EQ(two.back(), decode.order.back());
}

TEST(HostExecutor, BitwiseIdenticalForAnyWorkerCountAndRun) {
  Result one = generate(1, 4, 4);
  ASSERT_EQ(one.tokens.size(), 2u);
  // The logits are real numbers that differ (the comparison below means something).
  const auto *logits = reinterpret_cast<const float *>(one.logits.data());
  size_t n = one.logits.size() / sizeof(float) / 2; // row 0 of the two decode rows
  float lo = logits[0], hi = logits[0];
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(std::isfinite(logits[i])) << i;
    lo = std::min(lo, logits[i]);
    hi = std::max(hi, logits[i]);
  }
  EXPECT_GT(hi - lo, 0.1f);
  for (unsigned workers : {2u, 5u, 2u})
    EXPECT_EQ(generate(workers, 4, 4), one) << workers << " workers";
}

TEST(HostExecutor, MultiStepLaunchEqualsSingleSteps) {
  Result multi = generate(3, 4, 4), single = generate(3, 4, 1);
  // Same final logits, KV cache and last token; single steps also saw the others.
  EXPECT_EQ(multi.logits, single.logits);
  EXPECT_EQ(multi.kvCache, single.kvCache);
  EXPECT_EQ(multi.tokens.back(), single.tokens.back());
  EXPECT_EQ(single.tokens.size(), 5u);
}

TEST(HostExecutor, WatchdogNamesTheStuckTaskAndEvent) {
  Model m;
  uint32_t decode = programIndex(m.plan, "decode");
  // Make one task wait for one signal more than its event ever gets per step.
  isa::Program &p = m.plan.programs[decode];
  uint32_t victim = p.order[p.order.size() / 2];
  ASSERT_GT(p.tasks[victim].numWaits, 0);
  p.tasks[victim].wait[0].count += 1;
  HostExecutor exec(m.plan, {.workers = 2, .watchdogMs = 200});
  m.bindAll(exec);
  Status s = exec.launch(decode, 1);
  ASSERT_FALSE(s);
  // The shape isa::watchdogMessage gives both executors.
  EXPECT_EQ(s.message().rfind("decode: watchdog: no task finished for ", 0), 0u)
      << s.message();
  EXPECT_NE(s.message().find("task " + std::to_string(victim)), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("needs"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << "one line";
}

TEST(HostExecutor, RefusesToLaunchWithUnboundTensors) {
  Model m;
  HostExecutor exec(m.plan, {.workers = 1});
  Status s = exec.launch(programIndex(m.plan, "decode"), 1);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("not bound"), std::string::npos) << s.message();
  EXPECT_FALSE(exec.bind(find(m.plan, "decode.h0"), m.memory[0].data()))
      << "activations belong to the executor";
}

// The step hook sees every step's tokens before the next step starts, and a token it
// writes is what the next step embeds: overriding every token with a fixed one must
// give the same logits whatever the worker count, and differ from greedy decoding.
TEST(HostExecutor, StepHookSeesEachStepAndCanOverrideTokens) {
  auto run = [](unsigned workers, bool override, std::vector<int32_t> &seen) {
    Model m;
    HostExecutor exec(m.plan, {.workers = workers});
    m.bindAll(exec);
    int32_t *tokens = m.data<int32_t>("decode.tokens");
    m.data<int32_t>("decode.positions")[0] = 0;
    m.data<int32_t>("decode.seq_lens")[0] = 1;
    m.data<int32_t>("decode.kv_slots")[0] = 0;
    m.data<int32_t>("decode.positions")[1] = -1;
    m.data<int32_t>("decode.kv_slots")[1] = -1;
    tokens[0] = 7;
    for (int b = 0; b < 4; ++b)
      m.data<int32_t>("decode.block_table")[b] = b;
    seen.clear();
    Status s =
        exec.launch(programIndex(m.plan, "decode"), 5, nullptr, [&](uint64_t step) {
          EXPECT_EQ(step, seen.size());
          seen.push_back(tokens[0]);
          if (override)
            tokens[0] = 42;
        });
    EXPECT_TRUE(s) << s.message();
    const TensorRef &logits = exec.tensor(find(m.plan, "decode.logits"));
    return std::vector<float>(static_cast<float *>(logits.data),
                              static_cast<float *>(logits.data) + 256);
  };
  std::vector<int32_t> greedy, forced1, forced4;
  std::vector<float> g = run(2, false, greedy);
  std::vector<float> f1 = run(1, true, forced1), f4 = run(4, true, forced4);
  EXPECT_EQ(greedy.size(), 5u);
  EXPECT_EQ(forced1.size(), 5u);
  EXPECT_EQ(f1, f4);
  EXPECT_NE(f1, g);
  EXPECT_EQ(forced1, forced4);
}

TEST(HostExecutor, ProfileRecordsEveryTask) {
  Model m;
  HostExecutor exec(m.plan, {.workers = 3, .profile = true});
  m.bindAll(exec);
  uint32_t decode = programIndex(m.plan, "decode");
  m.data<int32_t>("decode.positions")[0] = 0;
  m.data<int32_t>("decode.seq_lens")[0] = 1;
  m.data<int32_t>("decode.positions")[1] = -1;
  m.data<int32_t>("decode.kv_slots")[1] = -1;
  std::vector<ProfileRecord> profile;
  ASSERT_TRUE(exec.launch(decode, 3, &profile));
  EXPECT_EQ(profile.size(), 3 * m.plan.programs[decode].tasks.size());
  for (const ProfileRecord &r : profile) {
    EXPECT_LE(r.claimNs, r.readyNs);
    EXPECT_LE(r.readyNs, r.doneNs);
    EXPECT_LT(r.worker, 3u);
    EXPECT_LT(r.step, 3u);
  }
}

/// The process's thread ids (Linux: /proc/self/task).
std::set<std::string> threadIds() {
  std::set<std::string> ids;
  for (const auto &e : std::filesystem::directory_iterator("/proc/self/task"))
    ids.insert(e.path().filename().string());
  return ids;
}

double processCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// The workers start with the first launch and serve every later one (the same
// threads), sleep while the executor is idle, wake for the next launch, and leave with
// the executor.
TEST(HostExecutor, WorkersPersistAcrossLaunchesAndSleepWhenIdle) {
  const std::set<std::string> before = threadIds();
  Model m;
  {
    HostExecutor exec(m.plan, {.workers = 3, .profile = true});
    m.bindAll(exec);
    const uint32_t decode = programIndex(m.plan, "decode");
    m.data<int32_t>("decode.positions")[0] = 0;
    m.data<int32_t>("decode.seq_lens")[0] = 1;
    m.data<int32_t>("decode.positions")[1] = -1;
    m.data<int32_t>("decode.kv_slots")[1] = -1;
    ASSERT_TRUE(exec.launch(decode, 1));
    const std::set<std::string> pool = threadIds();
    EXPECT_EQ(pool.size(), before.size() + 3);
    std::vector<ProfileRecord> profile;
    for (int launch = 0; launch < 30; ++launch) {
      ASSERT_TRUE(exec.launch(decode, 2, &profile));
      EXPECT_EQ(profile.size(), 2 * m.plan.programs[decode].tasks.size());
      EXPECT_EQ(threadIds(), pool) << "launch " << launch;
    }
    // Idle: past the workers' short poll, they sleep.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const double cpu0 = processCpuMs();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const double idleCpu = processCpuMs() - cpu0;
    EXPECT_LT(idleCpu, 20.0) << "3 idle workers burnt " << idleCpu << " ms of CPU in 200";
    // Asleep, they still wake for a launch.
    ASSERT_TRUE(exec.launch(decode, 2, &profile));
    EXPECT_EQ(profile.size(), 2 * m.plan.programs[decode].tasks.size());
    EXPECT_EQ(threadIds(), pool);
  }
  EXPECT_EQ(threadIds(), before) << "the executor joins its workers";
}

/// Bytes of rows [r0, r1) of a tensor whose first dimension is rows.
std::vector<uint8_t> rowBytes(const TensorRef &t, int64_t r0, int64_t r1) {
  const auto *p = static_cast<const uint8_t *>(t.data);
  return std::vector<uint8_t>(p + r0 * t.rowBytes(), p + r1 * t.rowBytes());
}

bool allZero(const std::vector<uint8_t> &bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

// A prefill of 3 real rows of 8, with the LM head on the last only, against the full
// launch: the same KV cache in every layer (every computed row's K/V, which the next
// layer's hidden state of every row feeds), the same logits, partial argmaxes and token
// of the last row (which all layers of all rows feed); the LM head and the argmax leave
// the other rows alone (partial_max is no other tensor's memory); the embedding gathers
// 3 table rows, the LM head streams nothing when no row needs it; any worker count.
TEST(HostExecutor, LaunchRowsComputeOnlyTheRowsAskedWithTheSameBits) {
  constexpr int kLen = 3, kRows = 8;
  const int logitsRow = kLen - 1;
  Model full;
  HostExecutor fullExec(full.plan, {.workers = 2});
  full.bindAll(fullExec);
  setPrefill(full, kLen);
  const uint32_t prefill = programIndex(full.plan, "prefill");
  ASSERT_EQ(full.plan.programs[prefill].rows, uint32_t(kRows));
  ASSERT_TRUE(fullExec.launch(prefill, 1));
  const uint64_t fullBytes = *fullExec.lastLaunchWeightBytes();
  const uint16_t logits = find(full.plan, "prefill.logits");
  const uint16_t partialMax = find(full.plan, "prefill.partial_max");
  const uint64_t tableRow =
      fullExec.tensor(find(full.plan, "model.embed_tokens.weight")).rowBytes();

  for (unsigned workers : {1u, 3u}) {
    Model m;
    HostExecutor exec(m.plan, {.workers = workers});
    m.bindAll(exec);
    setPrefill(m, kLen);
    const LaunchRows rows{
        .end = kLen, .logitsBegin = uint32_t(logitsRow), .logitsEnd = kLen};
    Status s = exec.launch(prefill, 1, nullptr, nullptr, rows);
    ASSERT_TRUE(s) << s.message();
    for (size_t i = 0; i < m.plan.tensors.size(); ++i) {
      if (m.plan.tensors[i].placement == isa::Placement::KvCache) {
        EXPECT_EQ(m.memory[i], full.memory[i]) << m.plan.tensors[i].name;
      }
    }
    for (uint16_t id : {logits, partialMax})
      EXPECT_EQ(rowBytes(exec.tensor(id), logitsRow, kLen),
                rowBytes(fullExec.tensor(id), logitsRow, kLen))
          << m.plan.tensors[id].name;
    EXPECT_TRUE(allZero(rowBytes(exec.tensor(partialMax), 0, logitsRow)));
    EXPECT_TRUE(allZero(rowBytes(exec.tensor(partialMax), kLen, kRows)));
    const int32_t *tokens = m.data<int32_t>("prefill.tokens_out");
    EXPECT_EQ(tokens[logitsRow], full.data<int32_t>("prefill.tokens_out")[logitsRow]);
    for (int r = 0; r < kRows; ++r)
      EXPECT_TRUE(r == logitsRow || tokens[r] == 0) << "argmax wrote row " << r;
    // The LM head streams its weights once for one row as for 8.
    EXPECT_EQ(*exec.lastLaunchWeightBytes(), fullBytes - (kRows - kLen) * tableRow);

    // No logits row (a chunk before the prompt's last): the LM head streams nothing.
    const LaunchRows noHead{.end = kLen, .logitsBegin = kLen, .logitsEnd = kLen};
    ASSERT_TRUE(exec.launch(prefill, 1, nullptr, nullptr, noHead));
    uint64_t headBytes = 0;
    const TaskContext ctx = makeTaskContext(m.plan, prefill, &exec.tensor(0),
                                            uint32_t(m.plan.tensors.size()));
    for (const isa::TaskRecord &t : m.plan.programs[prefill].tasks)
      if (t.kind == uint16_t(isa::TaskKind::LmHead))
        headBytes += taskStreamBytes(ctx, t);
    ASSERT_GT(headBytes, 0u);
    EXPECT_EQ(*exec.lastLaunchWeightBytes(),
              fullBytes - (kRows - kLen) * tableRow - headBytes);
  }
}

TEST(HostExecutor, LaunchRowsRefuseAnActiveRowPastTheEnd) {
  Model m;
  HostExecutor exec(m.plan, {.workers = 2});
  m.bindAll(exec);
  setPrefill(m, 4);
  const uint32_t prefill = programIndex(m.plan, "prefill");
  Status s = exec.launch(prefill, 1, nullptr, nullptr, {.end = 3});
  EXPECT_EQ(s.message(), "prefill: launch rows: row 3 is active (position 3) but the "
                         "launch computes rows [0, 3)");
  s = exec.launch(prefill, 1, nullptr, nullptr, {.logitsBegin = 2, .logitsEnd = 1});
  EXPECT_EQ(s.message(), "prefill: launch rows: logits rows [2, 1) are reversed");
  EXPECT_TRUE(exec.launch(prefill, 1, nullptr, nullptr, {.end = 4}));
}

} // namespace
