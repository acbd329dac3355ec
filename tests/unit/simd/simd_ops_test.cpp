//===- simd_ops_test.cpp - The SIMD primitives' contracts, pinned bit for bit ===//
//
// contractDot below is dot.h's contract written out once more, one element at a time;
// every compiled target must match it exactly, for bf16 and fp32 vectors of lengths
// around and between multiples of 32. The inputs are checked to tell the contract
// apart from its near misses (another partial count, mul + add instead of fma), so
// the equality means something. The elementwise primitives (weightedRowSum,
// normalizeBf16) are pinned against their scalar definitions the same way.
//===----------------------------------------------------------------------===//
#include "simd_targets.h"

#include "kernels/dot.h"
#include "kernels/simd_ops.h"

#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace mk::host::test {
namespace {

float toFloat(bf16 v) { return bf16ToFloat(v); }
float toFloat(float v) { return v; }

/// dot.h's contract with `partials` partial sums and, unless `fused`, a separately
/// rounded product (the near misses; the contract is partials = 32, fused).
template <typename T>
float contractDot(const std::vector<T> &a, const std::vector<T> &b, size_t partials = 32,
                  bool fused = true) {
  std::vector<float> p(partials, 0.0f);
  const size_t n = a.size(), padded = (n + partials - 1) / partials * partials;
  for (size_t i = 0; i < padded; ++i) {
    const float x = i < n ? toFloat(a[i]) : 0.0f, y = i < n ? toFloat(b[i]) : 0.0f;
    const size_t j = i % partials;
    if (fused) {
      p[j] = std::fma(x, y, p[j]);
    } else {
      const volatile float product = x * y; // rounded, never contracted
      p[j] = p[j] + product;
    }
  }
  for (size_t w = partials / 2; w > 0; w /= 2)
    for (size_t j = 0; j < w; ++j)
      p[j] = p[j] + p[j + w];
  return p[0];
}

/// Random non-zero values over 2^-12 .. 2^6 in magnitude, either sign: sums that
/// cancel and round differently in every order.
template <typename T> std::vector<T> randomVector(size_t n, std::mt19937 &rng) {
  std::uniform_real_distribution<float> exponent(-12.0f, 6.0f);
  std::bernoulli_distribution negative(0.5);
  std::vector<T> v(n);
  for (T &x : v) {
    const float f = std::exp2(exponent(rng)) * (negative(rng) ? -1.0f : 1.0f);
    if constexpr (std::is_same_v<T, bf16>)
      x = floatToBf16(f);
    else
      x = f;
  }
  return v;
}

const size_t kLengths[] = {1,  2,  7,  8,   15,  16,  17,  31,  32,  33,  40,   63,  64,
                           65, 96, 99, 100, 128, 191, 192, 200, 255, 256, 1000, 4099};

template <typename T> float dotOn(const std::vector<T> &a, const std::vector<T> &b) {
  if constexpr (std::is_same_v<T, bf16>)
    return kernels::dotBf16(a.data(), b.data(), a.size());
  else
    return kernels::dotF32(a.data(), b.data(), a.size());
}

template <typename T> void checkAgainstContract(const std::string &target) {
  ForcedTarget forced(target);
  std::mt19937 rng(11);
  size_t orderMatters = 0, fmaMatters = 0;
  for (size_t n : kLengths) {
    for (int trial = 0; trial < 8; ++trial) {
      const std::vector<T> a = randomVector<T>(n, rng), b = randomVector<T>(n, rng);
      const float want = contractDot(a, b), got = dotOn(a, b);
      ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want))
          << "n = " << n << ": got " << got << ", the contract gives " << want;
      orderMatters += contractDot(a, b, 16) != want || contractDot(a, b, 64) != want;
      fmaMatters += contractDot(a, b, 32, false) != want;
    }
  }
  EXPECT_GT(orderMatters, std::size(kLengths)) << "inputs too tame to pin the order";
  if constexpr (std::is_same_v<T, float>) {
    EXPECT_GT(fmaMatters, std::size(kLengths)) << "inputs too tame to pin the FMAs";
  }
}

class SimdOps : public ::testing::TestWithParam<std::string> {};

TEST_P(SimdOps, Bf16DotIsTheContractBitForBit) {
  MK_SKIP_UNLESS_CPU_SUPPORTS(GetParam());
  checkAgainstContract<bf16>(GetParam());
}

TEST_P(SimdOps, F32DotIsTheContractBitForBit) {
  MK_SKIP_UNLESS_CPU_SUPPORTS(GetParam());
  checkAgainstContract<float>(GetParam());
}

// Products that underflow to -0 make every partial -0; the zero-padded tail turns the
// partials it pads into +0 (fma(0, 0, -0) = +0), so the sign of the result tells
// whether the tail was padded as the contract says.
TEST_P(SimdOps, TheTailIsZeroPadded) {
  MK_SKIP_UNLESS_CPU_SUPPORTS(GetParam());
  ForcedTarget forced(GetParam());
  for (size_t n : {size_t(32), size_t(33), size_t(64), size_t(70)}) {
    const std::vector<bf16> a(n, floatToBf16(-0x1p-80f)), b(n, floatToBf16(0x1p-80f));
    const float got = kernels::dotBf16(a.data(), b.data(), n);
    EXPECT_EQ(std::bit_cast<uint32_t>(got), n % 32 ? 0x00000000u : 0x80000000u)
        << "n = " << n;
    EXPECT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(contractDot(a, b)));
  }
}

// The tiled block of dots: every (row, column) is dotBf16's contract, across tile
// remainders (rows and columns not multiples of a tile), tiny and ragged k, strides
// wider than k, more rows than one packed panel holds (k = 4099), and a prefill
// chunk's 64 rows after smaller and larger calls (the reused, re-aligned panel).
TEST_P(SimdOps, Bf16DotBlockIsTheContractPerElement) {
  MK_SKIP_UNLESS_CPU_SUPPORTS(GetParam());
  ForcedTarget forced(GetParam());
  std::mt19937 rng(17);
  for (size_t k : {size_t(1), size_t(7), size_t(31), size_t(32), size_t(33), size_t(100),
                   size_t(1024), size_t(4099)}) {
    for (int64_t rows : {1, 2, 3, 4, 5, 7, 9, 13, 64}) {
      for (int64_t cols : {1, 2, 3, 4, 5, 7, 8, 9, 17}) {
        if (k > 1024 && rows < 13 && cols != 9)
          continue;
        if (rows == 64 && (k < 1024 || cols != 9))
          continue;
        const int64_t ldx = int64_t(k) + 3, ldw = int64_t(k) + 5, ldo = cols + 2;
        const std::vector<bf16> x = randomVector<bf16>(size_t(rows * ldx), rng);
        const std::vector<bf16> w = randomVector<bf16>(size_t(cols * ldw), rng);
        std::vector<float> got(size_t(rows * ldo), -1.0f);
        kernels::dotBlockBf16(x.data(), ldx, rows, w.data(), ldw, cols, k, got.data(),
                              ldo);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c) {
            const std::vector<bf16> a(x.begin() + r * ldx, x.begin() + r * ldx + k);
            const std::vector<bf16> b(w.begin() + c * ldw, w.begin() + c * ldw + k);
            ASSERT_EQ(std::bit_cast<uint32_t>(got[size_t(r * ldo + c)]),
                      std::bit_cast<uint32_t>(contractDot(a, b)))
                << "k = " << k << ", rows = " << rows << ", cols = " << cols
                << ", r = " << r << ", c = " << c;
          }
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = cols; c < ldo; ++c)
            ASSERT_EQ(got[size_t(r * ldo + c)], -1.0f) << "wrote outside the block";
      }
    }
  }
}

// The tail's zero padding through the block: -0 products, +0 padded partials.
TEST_P(SimdOps, TheBlockTailIsZeroPadded) {
  MK_SKIP_UNLESS_CPU_SUPPORTS(GetParam());
  ForcedTarget forced(GetParam());
  for (size_t n : {size_t(32), size_t(33), size_t(64), size_t(70)}) {
    const std::vector<bf16> a(3 * n, floatToBf16(-0x1p-80f)),
        b(5 * n, floatToBf16(0x1p-80f));
    std::vector<float> got(15);
    kernels::dotBlockBf16(a.data(), int64_t(n), 3, b.data(), int64_t(n), 5, n, got.data(),
                          5);
    for (float g : got)
      EXPECT_EQ(std::bit_cast<uint32_t>(g), n % 32 ? 0x00000000u : 0x80000000u)
          << "n = " << n;
  }
}

// Attention scores: each the contract's dot of a query head and a gathered cache row.
TEST_P(SimdOps, DotRowsAreTheContractPerScore) {
  MK_SKIP_UNLESS_CPU_SUPPORTS(GetParam());
  ForcedTarget forced(GetParam());
  std::mt19937 rng(23);
  for (size_t hd : {size_t(1), size_t(8), size_t(40), size_t(64), size_t(100),
                    size_t(128), size_t(256)}) {
    for (int64_t nq : {1, 2, 4, 7}) {
      for (int64_t n : {0, 1, 3, 37}) {
        const int64_t stride = int64_t(hd) * 3 + 8, slots = 41;
        const std::vector<bf16> q = randomVector<bf16>(size_t(nq) * hd, rng);
        const std::vector<bf16> k = randomVector<bf16>(size_t(slots * stride), rng);
        std::vector<int64_t> rows(static_cast<size_t>(n));
        for (int64_t &r : rows)
          r = std::uniform_int_distribution<int64_t>(0, slots - 1)(rng);
        std::vector<float> got(size_t(nq * n) + 1, -1.0f);
        kernels::simdOps().dotRowsBf16(q.data(), nq, k.data(), rows.data(), stride, n, hd,
                                       got.data());
        for (int64_t h = 0; h < nq; ++h)
          for (int64_t j = 0; j < n; ++j) {
            const std::vector<bf16> a(q.begin() + h * int64_t(hd),
                                      q.begin() + (h + 1) * int64_t(hd));
            const std::vector<bf16> b(k.begin() + rows[size_t(j)] * stride,
                                      k.begin() + rows[size_t(j)] * stride + int64_t(hd));
            ASSERT_EQ(std::bit_cast<uint32_t>(got[size_t(h * n + j)]),
                      std::bit_cast<uint32_t>(contractDot(a, b)))
                << "hd = " << hd << ", nq = " << nq << ", n = " << n << ", h = " << h
                << ", j = " << j;
          }
        ASSERT_EQ(got.back(), -1.0f) << "wrote past the scores";
      }
    }
  }
}

TEST_P(SimdOps, WeightedRowSumIsElementwiseFmaInRowOrder) {
  MK_SKIP_UNLESS_CPU_SUPPORTS(GetParam());
  ForcedTarget forced(GetParam());
  std::mt19937 rng(5);
  for (uint32_t hd : {1u, 8u, 32u, 40u, 64u, 100u, 128u}) {
    for (int64_t n : {0, 1, 5, 37}) {
      const int64_t stride = hd + 24, slots = 50;
      const std::vector<bf16> v = randomVector<bf16>(size_t(slots * stride), rng);
      std::vector<int64_t> rows(static_cast<size_t>(n));
      for (int64_t &r : rows)
        r = std::uniform_int_distribution<int64_t>(0, slots - 1)(rng);
      std::vector<float> p = randomVector<float>(size_t(n), rng);
      const std::vector<float> o0 = randomVector<float>(hd, rng);
      std::vector<float> want = o0, got = o0;
      for (int64_t j = 0; j < n; ++j)
        for (uint32_t d = 0; d < hd; ++d)
          want[d] = std::fma(p[j], bf16ToFloat(v[rows[j] * stride + d]), want[d]);
      kernels::simdOps().weightedRowSum(p.data(), v.data(), rows.data(), stride, n, hd,
                                        got.data());
      for (uint32_t d = 0; d < hd; ++d)
        ASSERT_EQ(std::bit_cast<uint32_t>(got[d]), std::bit_cast<uint32_t>(want[d]))
            << "hd = " << hd << ", rows = " << n << ", d = " << d;
    }
  }
}

TEST_P(SimdOps, NormalizeIsTheScalarRmsNormApplication) {
  MK_SKIP_UNLESS_CPU_SUPPORTS(GetParam());
  ForcedTarget forced(GetParam());
  std::mt19937 rng(9);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  for (size_t n : {size_t(1), size_t(7), size_t(16), size_t(45), size_t(200)}) {
    std::vector<bf16> x = randomVector<bf16>(n, rng), w = randomVector<bf16>(n, rng);
    // Ties, overflow to infinity, infinities and NaNs of either sign.
    const float special[] = {1.00390625f,
                             3.0e38f,
                             -3.0e38f,
                             kInf,
                             -kInf,
                             std::bit_cast<float>(0x7FC12345u),
                             std::bit_cast<float>(0xFF812345u)};
    for (size_t i = 0; i < n && i < std::size(special); ++i)
      x[n - 1 - i] = floatToBf16(special[i]);
    for (float scale : {1.0f, 0.37f, 1.0e-3f, 3.0e5f}) {
      std::vector<bf16> got(n);
      kernels::simdOps().normalizeBf16(x.data(), w.data(), scale, n, got.data());
      for (size_t i = 0; i < n; ++i) {
        const bf16 want =
            floatToBf16(bf16ToFloat(w[i]) * roundToBf16(bf16ToFloat(x[i]) * scale));
        ASSERT_EQ(got[i].bits, want.bits) << "n = " << n << ", i = " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, SimdOps, ::testing::ValuesIn(compiledTargetNames()),
                         [](const auto &info) { return info.param; });

} // namespace
} // namespace mk::host::test
