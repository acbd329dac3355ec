//===- normalized_rows_test.cpp - normalizedRows: rmsNormRow per row, reused -===//
#include "kernels/rms_norm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace mk::host::test {
namespace {

constexpr int64_t kHidden = 96, kRows = 6;

std::vector<bf16> randomRows(std::mt19937 &rng, size_t n) {
  std::normal_distribution<float> d(0.0f, 2.0f);
  std::vector<bf16> v(n);
  for (bf16 &x : v)
    x = floatToBf16(d(rng));
  return v;
}

/// New values in place (the same address: the cache's key).
void rewrite(std::vector<bf16> &x, std::mt19937 &rng) {
  const std::vector<bf16> fresh = randomRows(rng, x.size());
  std::copy(fresh.begin(), fresh.end(), x.begin());
}

/// rows [r0, r0 + n) as the function defines them.
std::vector<uint16_t> expected(const std::vector<bf16> &x, const std::vector<bf16> &w,
                               int64_t r0, int64_t n, const int32_t *positions) {
  std::vector<bf16> out(size_t(n * kHidden));
  for (int64_t i = 0; i < n; ++i) {
    if (positions && positions[r0 + i] < 0)
      continue; // zeros
    kernels::rmsNormRow(x.data() + (r0 + i) * kHidden, w.data(), kHidden, 1e-5f,
                        out.data() + i * kHidden);
  }
  std::vector<uint16_t> bits(out.size());
  for (size_t i = 0; i < out.size(); ++i)
    bits[i] = out[i].bits;
  return bits;
}

std::vector<uint16_t> bitsOf(const bf16 *p, int64_t n) {
  std::vector<uint16_t> bits(size_t(n * kHidden));
  for (size_t i = 0; i < bits.size(); ++i)
    bits[i] = p[i].bits;
  return bits;
}

TEST(NormalizedRows, AreRmsNormRowsWithInactiveRowsZero) {
  std::mt19937 rng(7);
  const std::vector<bf16> x = randomRows(rng, kRows * kHidden);
  const std::vector<bf16> w = randomRows(rng, kHidden);
  const int32_t positions[kRows] = {3, -1, 4, 5, -1, 6};
  for (uint64_t launch : {0u, 9u}) {
    EXPECT_EQ(bitsOf(kernels::normalizedRows(launch, 0, x.data(), 1, 4, kHidden, w.data(),
                                             1e-5f, positions),
                     4),
              expected(x, w, 1, 4, positions));
    EXPECT_EQ(bitsOf(kernels::normalizedRows(launch, 0, x.data(), 0, kRows, kHidden,
                                             w.data(), 1e-5f, nullptr),
                     kRows),
              expected(x, w, 0, kRows, nullptr));
  }
}

// Within one launch and step the rows are computed once per thread; any other launch,
// step, tensor or row range computes them again, and launch 0 always does.
TEST(NormalizedRows, AreReusedOnlyForTheSameLaunchStepTensorsAndRows) {
  std::mt19937 rng(8);
  std::vector<bf16> x = randomRows(rng, kRows * kHidden);
  const std::vector<bf16> w = randomRows(rng, kHidden), w2 = randomRows(rng, kHidden);
  const std::vector<uint16_t> before = expected(x, w, 0, kRows, nullptr);

  const bf16 *first = kernels::normalizedRows(42, 3, x.data(), 0, kRows, kHidden,
                                              w.data(), 1e-5f, nullptr);
  ASSERT_EQ(bitsOf(first, kRows), before);
  // The launch promises x does not change within the step: rewrite it in place anyway,
  // and the same key still returns what was computed (proof that it was not).
  rewrite(x, rng);
  const std::vector<uint16_t> after = expected(x, w, 0, kRows, nullptr);
  ASSERT_NE(after, before);
  EXPECT_EQ(bitsOf(kernels::normalizedRows(42, 3, x.data(), 0, kRows, kHidden, w.data(),
                                           1e-5f, nullptr),
                   kRows),
            before);
  // Another step, launch, row range or weight: computed from x as it is now.
  EXPECT_EQ(bitsOf(kernels::normalizedRows(42, 4, x.data(), 0, kRows, kHidden, w.data(),
                                           1e-5f, nullptr),
                   kRows),
            after);
  EXPECT_EQ(bitsOf(kernels::normalizedRows(43, 3, x.data(), 0, kRows, kHidden, w.data(),
                                           1e-5f, nullptr),
                   kRows),
            after);
  EXPECT_EQ(bitsOf(kernels::normalizedRows(43, 3, x.data(), 2, 3, kHidden, w.data(),
                                           1e-5f, nullptr),
                   3),
            expected(x, w, 2, 3, nullptr));
  EXPECT_EQ(bitsOf(kernels::normalizedRows(43, 3, x.data(), 0, kRows, kHidden, w2.data(),
                                           1e-5f, nullptr),
                   kRows),
            expected(x, w2, 0, kRows, nullptr));
  // Launch 0 keeps nothing.
  kernels::normalizedRows(0, 0, x.data(), 0, kRows, kHidden, w.data(), 1e-5f, nullptr);
  rewrite(x, rng);
  EXPECT_EQ(bitsOf(kernels::normalizedRows(0, 0, x.data(), 0, kRows, kHidden, w.data(),
                                           1e-5f, nullptr),
                   kRows),
            expected(x, w, 0, kRows, nullptr));
}

} // namespace
} // namespace mk::host::test
