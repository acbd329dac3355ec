//===- simd_targets.h - Running a test on each compiled SIMD target -------===//
//
// Tests take the target name as their parameter (INSTANTIATE_TEST_SUITE_P over
// compiledTargetNames()) and skip, naming it, a target this CPU lacks. The reference
// target is the scalar fallback: always compiled, always supported, and the plainest
// implementation of the contracts.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/simd.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mk::host::test {

/// Every compiled target's name, best first.
inline std::vector<std::string> compiledTargetNames() {
  std::vector<std::string> names;
  for (const simd::Target &t : simd::compiledTargets())
    names.emplace_back(t.name);
  return names;
}

/// The fallback: the last compiled target.
inline std::string fallbackTargetName() { return compiledTargetNames().back(); }

inline bool cpuSupports(const std::string &name) {
  for (const simd::Target &t : simd::compiledTargets())
    if (t.name == name)
      return t.supported;
  return false;
}

/// Forces a target for the guard's lifetime, then goes back to the best one.
class ForcedTarget {
public:
  explicit ForcedTarget(const std::string &name) {
    Status s = simd::forceTarget(name);
    EXPECT_TRUE(s) << s.message();
    EXPECT_EQ(simd::activeTarget(), name);
  }
  ~ForcedTarget() { simd::resetTarget(); }
  ForcedTarget(const ForcedTarget &) = delete;
  ForcedTarget &operator=(const ForcedTarget &) = delete;
};

/// Runs `compute` on `target` and on the fallback and expects the same bytes.
template <typename Compute>
void expectSameBitsAsFallback(const std::string &target, Compute compute) {
  auto onTarget = [&] {
    ForcedTarget forced(target);
    return compute();
  }();
  auto onFallback = [&] {
    ForcedTarget forced(fallbackTargetName());
    return compute();
  }();
  EXPECT_TRUE(onTarget == onFallback)
      << target << " and " << fallbackTargetName() << " give different bits";
}

} // namespace mk::host::test

/// The first statement of a test on target GetParam(): skips it on a CPU without it.
#define MK_SKIP_UNLESS_CPU_SUPPORTS(target)                                              \
  do {                                                                                   \
    if (!::mk::host::test::cpuSupports(target))                                          \
      GTEST_SKIP() << "SIMD target " << (target) << ": this CPU does not support it";    \
  } while (0)
