//===- cuda_backend_test.cpp - What the CUDA backend says where it cannot run ===//
//
// Runs everywhere (label unit): on a machine without a GPU or driver, in a build
// without CUDA, and on a GPU machine. The errors are what mkrun prints after
// "--backend cuda:", so they must be one line and say what is missing.
//===----------------------------------------------------------------------===//
#include "mk/cuda/executor.h"

#include <gtest/gtest.h>

#include <string>

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

} // namespace
} // namespace mk::cuda
