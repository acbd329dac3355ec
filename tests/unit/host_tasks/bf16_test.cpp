//===- bf16_test.cpp - bf16 conversions -----------------------------------===//
#include "mk/host/bf16.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

namespace mk::host {
namespace {

TEST(Bf16, EveryBf16RoundTripsExactly) {
  for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    const bf16 v{static_cast<uint16_t>(bits)};
    const float f = bf16ToFloat(v);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(f))));
      continue;
    }
    EXPECT_EQ(floatToBf16(f).bits, v.bits) << bits;
  }
}

TEST(Bf16, RoundsToNearestEven) {
  // Between two neighbours a and b: below the midpoint -> a, above -> b, at the
  // midpoint -> the one with an even mantissa.
  for (uint32_t bits : {0x3F80u, 0x3F81u, 0xC2F7u, 0x0001u, 0x7F00u}) {
    const uint32_t a = bits << 16, mid = a + 0x8000u;
    EXPECT_EQ(floatToBf16(std::bit_cast<float>(mid - 1)).bits, bits);
    EXPECT_EQ(floatToBf16(std::bit_cast<float>(mid + 1)).bits, bits + 1);
    EXPECT_EQ(floatToBf16(std::bit_cast<float>(mid)).bits, (bits & 1) ? bits + 1 : bits);
  }
}

TEST(Bf16, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(floatToBf16(inf).bits, 0x7F80);
  EXPECT_EQ(floatToBf16(-inf).bits, 0xFF80);
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::max()).bits, 0x7F80);
  // A NaN whose payload sits only in the low half stays NaN (and becomes quiet).
  const float lowNan = std::bit_cast<float>(0x7F800001u);
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(lowNan))));
  EXPECT_EQ(floatToBf16(lowNan).bits & 0x0040, 0x0040);
  EXPECT_EQ(floatToBf16(std::bit_cast<float>(0xFFC00000u)).bits, 0xFFC0);
}

} // namespace
} // namespace mk::host
