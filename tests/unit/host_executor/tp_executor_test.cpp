// Ranks of a tensor-parallel plan as HostExecutors of one HostCommGroup, on the toy
// TP plan (tests/unit/isa/toy_plan.h): every rank computes the same tokens, for any
// worker counts and over launches; a rank that does not come names itself in the
// others' errors; a TP plan without a group is refused.
#include "../isa/toy_plan.h"

#include "mk/host/comm_group.h"
#include "mk/host/executor.h"
#include "mk/isa/plan_verify.h"

#include <gtest/gtest.h>

#include <algorithm>
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

  RankMemory(const isa::Plan &plan, uint32_t rank)
      : buffers(isa::test::makeToyTpRankMemory(plan, rank)) {}
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
  // [rank][launch]: bytes of each row of the all_reduce's out (decode.h) and the
  // all_gather's (decode.gathered).
  std::vector<std::vector<std::vector<uint8_t>>> reduced, gathered;
};

/// Row r of tensor `id` of a launch's executor.
std::vector<uint8_t> row(HostExecutor &exec, uint16_t id, uint32_t r) {
  const TensorRef &t = exec.tensor(id);
  const auto *p = static_cast<const uint8_t *>(t.data) + r * t.rowBytes();
  return std::vector<uint8_t>(p, p + t.rowBytes());
}

GroupRun runGroup(const isa::Plan &plan, std::vector<unsigned> workers, uint32_t launches,
                  uint64_t steps, int absentRank = -1, uint64_t watchdogMs = 10'000,
                  const LaunchRows &rows = {}) {
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
  result.reduced.resize(ranks);
  result.gathered.resize(ranks);
  const uint16_t reduced = isa::test::tensorId(plan, "decode.h");
  const uint16_t gathered = isa::test::tensorId(plan, "decode.gathered");
  std::vector<std::thread> threads;
  for (uint32_t r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      if (int(r) == absentRank)
        return;
      for (uint32_t l = 0; l < launches; ++l) {
        if (Status s = exec[r]->launch(0, steps, nullptr, nullptr, rows); !s) {
          result.errors[r] = s.message();
          return;
        }
        const int32_t *t = static_cast<const int32_t *>(exec[r]->read(out));
        result.tokens[r].insert(result.tokens[r].end(), t, t + 2);
        for (uint32_t i = 0; i < 2; ++i) {
          result.reduced[r].push_back(row(*exec[r], reduced, i));
          result.gathered[r].push_back(row(*exec[r], gathered, i));
        }
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

// Rows clipped on every rank: all_reduce exchanges only the computed rows, all_gather
// only the LM head's; those rows keep their bits, the others are not written (the toy
// plan's arena is not shared between tensors), and the comm sites stay in step over
// launches (a skipped comm tile would leave its peers waiting).
TEST(TensorParallelExecutor, ClippedRowsKeepTheirBits) {
  const isa::Plan plan = makeToyTpPlan();
  const GroupRun full = runGroup(plan, {2, 2}, 3, 4);
  ASSERT_EQ(full.errors[0] + full.errors[1], "");
  const LaunchRows firstRow{.end = 1, .logitsBegin = 0, .logitsEnd = 1};
  const LaunchRows secondLogits{.end = 2, .logitsBegin = 1, .logitsEnd = 2};
  auto zero = [](const std::vector<uint8_t> &bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
  };
  for (std::vector<unsigned> workers : {std::vector<unsigned>{1, 3}, {2, 2}}) {
    for (const LaunchRows &rows : {firstRow, secondLogits}) {
      const GroupRun clipped = runGroup(plan, workers, 3, 4, -1, 10'000, rows);
      ASSERT_EQ(clipped.errors[0] + clipped.errors[1], "");
      for (uint32_t rank = 0; rank < 2; ++rank) {
        for (size_t i = 0; i < full.reduced[rank].size(); ++i) {
          const uint32_t r = i % 2;
          EXPECT_FALSE(zero(full.reduced[rank][i]));
          EXPECT_FALSE(zero(full.gathered[rank][i]));
          if (r < rows.end)
            EXPECT_EQ(clipped.reduced[rank][i], full.reduced[rank][i]) << i;
          else
            EXPECT_TRUE(zero(clipped.reduced[rank][i])) << i;
          if (r >= rows.logitsBegin && r < rows.logitsEnd)
            EXPECT_EQ(clipped.gathered[rank][i], full.gathered[rank][i]) << i;
          else
            EXPECT_TRUE(zero(clipped.gathered[rank][i])) << i;
        }
      }
    }
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
