//===- cuda_backend_test.cpp - What the CUDA backend says where it cannot run ===//
//
// Runs everywhere (label unit): on a machine without a GPU or driver, in a build
// without CUDA, and on a GPU machine. The errors are what mkrun prints after
// "--backend cuda:", so they must be one line and say what is missing.
//===----------------------------------------------------------------------===//
#include "mk/cuda/executor.h"
#include "mk/runtime/rank_comm.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace mk::cuda {
namespace {

::testing::AssertionResult oneLineError(const Status &s) {
  if (s)
    return ::testing::AssertionFailure() << "succeeded, expected an error";
  const std::string &m = s.message();
  if (m.empty() || m.find('\n') != std::string::npos)
    return ::testing::AssertionFailure() << "not one line: '" << m << "'";
  if (m.rfind("cuda: ", 0) != 0 && m.rfind("plan: ", 0) != 0)
    return ::testing::AssertionFailure()
           << "does not say which part failed: '" << m << "'";
  return ::testing::AssertionSuccess() << m;
}

bool contains(const std::string &s, const char *what) {
  return s.find(what) != std::string::npos;
}

/// Why no executor can exist here, as the message must say it.
bool explainsMissingBackend(const std::string &m) {
  if (!built())
    return contains(m, "without CUDA");
  return contains(m, "driver") || contains(m, "device");
}

TEST(CudaBackend, AbsentDeviceIndexIsRefusedInOneLine) {
  // No machine has device 1000: without a driver the driver is missing, with one the
  // index does not exist, without CUDA the backend is not built.
  std::unique_ptr<Executor> executor;
  const Status s = createExecutor(isa::Plan{}, {.device = 1000}, executor);
  ASSERT_TRUE(oneLineError(s));
  EXPECT_TRUE(explainsMissingBackend(s.message())) << s.message();
  EXPECT_EQ(executor, nullptr);
  EXPECT_FALSE(deviceAvailable(1000));
  if (built() && deviceAvailable(0)) {
    EXPECT_TRUE(contains(s.message(), "device 1000 does not exist")) << s.message();
  }
}

TEST(CudaBackend, WithoutADeviceCreateExecutorSaysWhy) {
  std::unique_ptr<Executor> executor;
  const Status probe = probeDevice(0);
  EXPECT_EQ(bool(probe), deviceAvailable(0));
  if (!built()) {
    EXPECT_FALSE(probe) << "a build without CUDA has no device";
  }
  if (probe) {
    // A device is present: the other refusal a user meets is a plan for another target
    // (the default plan targets the host executor).
    const Status s = createExecutor(isa::Plan{}, {}, executor);
    ASSERT_TRUE(oneLineError(s));
    EXPECT_TRUE(contains(s.message(), "host") && contains(s.message(), "recompile"))
        << s.message();
    EXPECT_EQ(executor, nullptr);
    return;
  }
  const Status s = createExecutor(isa::Plan{}, {}, executor);
  ASSERT_TRUE(oneLineError(s));
  EXPECT_TRUE(explainsMissingBackend(s.message())) << s.message();
  EXPECT_EQ(s.message(), probe.message()) << "createExecutor reports the probe's reason";
  EXPECT_EQ(executor, nullptr);
}

TEST(CudaBackend, TensorParallelPlanNeedsItsRanks) {
  isa::Plan plan;
  plan.tensorParallel = 2;
  std::unique_ptr<Executor> executor;
  const Status s = createExecutor(plan, {}, executor);
  ASSERT_TRUE(oneLineError(s));
  if (built()) {
    EXPECT_EQ(s.message(), "plan: tensor-parallel over 2 ranks, but 1 rank runs it");
  }
  const Status t = createExecutor(isa::Plan{}, {.rank = 0, .ranks = 2}, executor);
  ASSERT_TRUE(oneLineError(t));
  if (built()) {
    EXPECT_EQ(t.message(), "plan: tensor-parallel over 1 rank, but 2 ranks run it");
  }
}

// Two ranks of a tensor-parallel plan, as threads, where neither can run it: no
// device here, or (on a GPU machine) rank 0's plan targets the host and rank 1's device
// does not exist. Each rank's createExecutor calls agree exactly once, before any NCCL
// call (a rank that reached ncclCommInitRank would wait there for the other forever),
// and both return the lowest failing rank's error.
TEST(CudaBackend, TensorParallelRanksAgreeOnAFailureBeforeNccl) {
  isa::Plan plan;
  plan.tensorParallel = 2;
  runtime::HostRankGroup group(2);
  std::atomic<int> agreeCalls{0};
  std::vector<Status> results(2);
  std::vector<std::thread> ranks;
  for (uint32_t r = 0; r < 2; ++r)
    ranks.emplace_back([&, r] {
      CudaOptions options;
      options.device = r == 0 ? 0 : 1000;
      options.rank = r;
      options.ranks = 2;
      options.agree = [&, r](const Status &mine) {
        ++agreeCalls;
        return group.rank(r).agree(mine);
      };
      std::unique_ptr<Executor> executor;
      results[r] = createExecutor(plan, options, executor);
      EXPECT_EQ(executor, nullptr);
    });
  for (std::thread &t : ranks)
    t.join();
  for (const Status &s : results) {
    ASSERT_FALSE(s);
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  }
  if (!built()) {
    EXPECT_TRUE(explainsMissingBackend(results[0].message())) << results[0].message();
    EXPECT_EQ(agreeCalls, 0) << "a build without CUDA makes no NCCL call to agree on";
    return;
  }
  EXPECT_EQ(agreeCalls, 2);
  EXPECT_EQ(results[0].message(), results[1].message());
  EXPECT_EQ(results[0].message().rfind("rank 0: ", 0), 0u) << results[0].message();
}

} // namespace
} // namespace mk::cuda
