//===- simd_target_test.cpp - Listing, choosing and forcing the SIMD target ===//
//
// Highway's test hook (hwy::SetSupportedTargetsForTest) plays CPUs this machine is
// not: an AVX2-only CPU must run AVX2, one without AVX2 the scalar fallback, and
// forcing a target such a CPU lacks must fail with one line.
//===----------------------------------------------------------------------===//
#include "simd_targets.h"

#include <hwy/targets.h>

#include <algorithm>

namespace mk::host::test {
namespace {

/// Plays a CPU with exactly `targets` (Highway bits) until destroyed.
class FakeCpu {
public:
  explicit FakeCpu(int64_t targets) {
    hwy::SetSupportedTargetsForTest(targets);
    simd::resetTarget();
  }
  ~FakeCpu() {
    hwy::SetSupportedTargetsForTest(0); // the real CPU again
    simd::resetTarget();
  }
};

TEST(SimdTarget, X86BuildsCompileAvx2AndBothAvx512TargetsBestFirst) {
  const std::vector<std::string> names = compiledTargetNames();
#if HWY_ARCH_X86_64
  const std::vector<std::string> vector = {"AVX3_DL", "AVX3", "AVX2"};
  ASSERT_GE(names.size(), vector.size() + 1) << simd::compiledTargetNames();
  EXPECT_TRUE(std::equal(vector.begin(), vector.end(), names.begin()))
      << simd::compiledTargetNames();
#endif
#if HWY_STATIC_TARGET == HWY_SCALAR || HWY_STATIC_TARGET == HWY_EMU128
  // A baseline without SIMD: the fallback serves CPUs without AVX2 and FMA.
  EXPECT_TRUE(names.back() == "SCALAR" || names.back() == "EMU128") << names.back();
#endif
  EXPECT_TRUE(cpuSupports(names.back()));
  EXPECT_EQ(simd::compiledTargetNames().find(names.front()), 0u);
}

TEST(SimdTarget, TheBestSupportedTargetIsActive) {
  simd::resetTarget();
  for (const simd::Target &t : simd::compiledTargets())
    if (t.supported) {
      EXPECT_EQ(simd::activeTarget(), t.name);
      return;
    }
  FAIL() << "no supported target";
}

#if HWY_ARCH_X86_64
TEST(SimdTarget, AnAvx2OnlyCpuRunsAvx2) {
  FakeCpu cpu(HWY_AVX2 | HWY_SSE4 | HWY_SSSE3 | HWY_EMU128 | HWY_SCALAR);
  EXPECT_EQ(simd::activeTarget(), "AVX2");
  Status s = simd::forceTarget("avx3");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "SIMD target AVX3: this CPU does not support it (it supports "
                         "AVX2, " +
                             fallbackTargetName() + ")");
  EXPECT_EQ(simd::activeTarget(), "AVX2") << "a failed force changes nothing";
}

TEST(SimdTarget, ACpuWithoutAvx2RunsTheFallback) {
  FakeCpu cpu(HWY_SSE4 | HWY_SSSE3 | HWY_EMU128 | HWY_SCALAR);
  EXPECT_EQ(simd::activeTarget(), fallbackTargetName());
}
#endif

TEST(SimdTarget, NamesAreCaseInsensitiveAndUnknownOnesAreRefused) {
  const std::string fallback = fallbackTargetName();
  std::string lower = fallback;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  {
    ForcedTarget forced(fallback);
    EXPECT_TRUE(simd::forceTarget(lower));
    EXPECT_EQ(simd::activeTarget(), fallback);
  }
  Status s = simd::forceTarget("AVX9");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(),
            "unknown SIMD target 'AVX9' (compiled: " + simd::compiledTargetNames() + ")");
}

} // namespace
} // namespace mk::host::test
