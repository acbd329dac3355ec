// Ranks of a tensor-parallel plan as HostExecutors of one HostCommGroup, on the toy
// TP plan (tests/unit/isa/toy_plan.h): every rank computes the same tokens, for any
// worker counts and over launches; a rank that does not come names itself in the
// others' errors; a TP plan without a group is refused.
#include "../isa/toy_plan.h"

#include "mk/host/comm_group.h"
#include "mk/host/executor.h"
#include "mk/isa/plan_verify.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <vector>

namespace mk::host {
namespace {

using isa::test::makeToyTpPlan;

/// One rank's memory: every weight (its slice: random per slice, so the ranks differ),
/// step state and KV caches.
struct RankMemory {
  std::vector<std::vector<uint8_t>> buffers;

  RankMemory(const isa::Plan &plan, uint32_t rank) : buffers(plan.tensors.size()) {
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      const isa::TensorDesc &t = plan.tensors[i];
      if (t.placement == isa::Placement::Activation ||
          t.placement == isa::Placement::Comm)
        continue;
      buffers[i].assign(t.bytes(), 0);
      if (t.placement != isa::Placement::Weight)
        continue;
      std::mt19937 rng(uint32_t(i * 977 + t.shardIndex(rank) * 13 + 1));
      std::uniform_real_distribution<float> value(-1.0f, 1.0f);
      bf16 *w = reinterpret_cast<bf16 *>(buffers[i].data());
      for (uint64_t e = 0; e < t.numElements(); ++e)
        w[e] = floatToBf16(value(rng));
    }
    int32_t *tokens = reinterpret_cast<int32_t *>(
        buffers[isa::test::tensorId(plan, "decode.tokens")].data());
    tokens[0] = 5, tokens[1] = 60;
  }
  void bindAll(const isa::Plan &plan, HostExecutor &exec) {
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      if (!buffers[i].empty()) {
        ASSERT_TRUE(exec.bind(uint16_t(i), buffers[i].data()));
      }
    }
  }
};

/// Runs `launches` launches of `steps` steps on every rank; returns each rank's tokens
/// after each launch, or the ranks' errors.
struct GroupRun {
  std::vector<std::vector<int32_t>> tokens; // [rank][launch * rows]
  std::vector<std::string> errors;          // [rank], "" when ok
};

GroupRun runGroup(const isa::Plan &plan, std::vector<unsigned> workers, uint32_t launches,
                  uint64_t steps, int absentRank = -1, uint64_t watchdogMs = 10'000) {
  const uint32_t ranks = plan.tensorParallel;
  HostCommGroup group(ranks);
  std::vector<std::unique_ptr<RankMemory>> memory;
  std::vector<std::unique_ptr<HostExecutor>> exec;
  for (uint32_t r = 0; r < ranks; ++r) {
    memory.push_back(std::make_unique<RankMemory>(plan, r));
    ExecutorOptions o;
    o.workers = workers[r];
    o.watchdogMs = watchdogMs;
    exec.push_back(std::make_unique<HostExecutor>(plan, o, r, &group));
    memory[r]->bindAll(plan, *exec[r]);
  }
  const uint16_t out = isa::test::tensorId(plan, "decode.tokens_out");
  GroupRun result;
  result.tokens.resize(ranks);
  result.errors.resize(ranks);
  std::vector<std::thread> threads;
  for (uint32_t r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      if (int(r) == absentRank)
        return;
      for (uint32_t l = 0; l < launches; ++l) {
        if (Status s = exec[r]->launch(0, steps); !s) {
          result.errors[r] = s.message();
          return;
        }
        const int32_t *t = static_cast<const int32_t *>(exec[r]->read(out));
        result.tokens[r].insert(result.tokens[r].end(), t, t + 2);
      }
    });
  for (std::thread &t : threads)
    t.join();
  return result;
}

TEST(TensorParallelExecutor, EveryRankComputesTheSameTokensForAnyWorkers) {
  const isa::Plan plan = makeToyTpPlan();
  ASSERT_TRUE(isa::verifyPlan(plan).isOk());
  const GroupRun base = runGroup(plan, {1, 1}, 3, 4);
  ASSERT_EQ(base.errors[0], "");
  ASSERT_EQ(base.errors[1], "");
  EXPECT_EQ(base.tokens[0], base.tokens[1]);
  for (int32_t t : base.tokens[0])
    EXPECT_TRUE(t >= 0 && t < 64) << t;
  for (std::vector<unsigned> workers :
       {std::vector<unsigned>{2, 1}, {1, 3}, {4, 4}, {2, 2}}) {
    const GroupRun again = runGroup(plan, workers, 3, 4);
    EXPECT_EQ(again.errors[0] + again.errors[1], "");
    EXPECT_EQ(again.tokens, base.tokens) << workers[0] << "+" << workers[1] << " workers";
  }
}

TEST(TensorParallelExecutor, ARankThatNeverComesIsNamedByTheWatchdog) {
  const isa::Plan plan = makeToyTpPlan();
  const GroupRun run = runGroup(plan, {2, 2}, 1, 2, /*absentRank=*/1, /*watchdogMs=*/300);
  EXPECT_NE(run.errors[0].find("waits for rank 1's flag"), std::string::npos)
      << run.errors[0];
}

TEST(TensorParallelExecutor, ARankThatCannotLaunchStopsTheOthers) {
  const isa::Plan plan = makeToyTpPlan();
  HostCommGroup group(2);
  RankMemory m0(plan, 0), m1(plan, 1);
  HostExecutor e0(plan, ExecutorOptions{1, 60'000, false}, 0, &group);
  HostExecutor e1(plan, ExecutorOptions{1, 60'000, false}, 1, &group);
  m0.bindAll(plan, e0); // rank 1 binds nothing: its launch is refused
  std::string err0, err1;
  std::thread t0([&] { err0 = e0.launch(0, 2).message(); });
  std::thread t1([&] { err1 = e1.launch(0, 2).message(); });
  t0.join();
  t1.join();
  EXPECT_NE(err1.find("launch:"), std::string::npos) << err1;
  EXPECT_EQ(err0.rfind("stopped: rank 1: launch:", 0), 0u) << err0;
}

TEST(TensorParallelExecutor, APlanOfSeveralRanksNeedsAGroup) {
  const isa::Plan plan = makeToyTpPlan();
  HostExecutor exec(plan, ExecutorOptions{1, 1000, false});
  EXPECT_EQ(exec.launch(0, 1).message(),
            "the plan is tensor-parallel (2 ranks): each rank needs its executor in a "
            "rank group (mkrun runs them with --tp)");
  HostCommGroup three(3);
  HostExecutor wrong(plan, ExecutorOptions{1, 1000, false}, 0, &three);
  EXPECT_EQ(wrong.launch(0, 1).message(),
            "the plan has 2 tensor-parallel ranks, the rank group 3");
}

TEST(TensorParallelExecutor, CommBuffersBelongToTheExecutor) {
  const isa::Plan plan = makeToyTpPlan();
  HostCommGroup group(2);
  HostExecutor exec(plan, ExecutorOptions{1, 1000, false}, 0, &group);
  std::vector<uint8_t> mem(4096);
  EXPECT_EQ(
      exec.bind(isa::test::tensorId(plan, "decode.comm.flags"), mem.data()).message(),
      "bind: tensor 'decode.comm.flags' is a comm buffer; the executor owns it");
}

} // namespace
} // namespace mk::host
