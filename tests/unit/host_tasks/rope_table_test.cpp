//===- rope_table_test.cpp - RopeTable: cached angles are the computed ones -===//
#include "kernels/rope.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <vector>

namespace mk::host::test {
namespace {

/// The angles of `pos` computed directly, as rope.h defines them.
std::vector<float> directCosSin(const isa::ModelMeta &model, bool llama3, uint32_t hd,
                                int64_t pos) {
  std::vector<float> invFreq(hd / 2), cosSin(hd);
  kernels::ropeInvFreq(model, llama3, hd, invFreq.data());
  for (uint32_t i = 0; i < hd / 2; ++i) {
    const float angle = static_cast<float>(pos) * invFreq[i];
    cosSin[i] = static_cast<float>(std::cos(static_cast<double>(angle)));
    cosSin[hd / 2 + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
  }
  return cosSin;
}

void expectAngles(const isa::ModelMeta &model, bool llama3, uint32_t hd, int64_t pos) {
  const kernels::RopeAngles got =
      kernels::RopeTable::forThread(model, llama3, hd).angles(pos);
  const std::vector<float> want = directCosSin(model, llama3, hd, pos);
  for (uint32_t i = 0; i < hd / 2; ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(got.cos[i]), std::bit_cast<uint32_t>(want[i]))
        << "pos " << pos << ", cos " << i;
    ASSERT_EQ(std::bit_cast<uint32_t>(got.sin[i]),
              std::bit_cast<uint32_t>(want[hd / 2 + i]))
        << "pos " << pos << ", sin " << i;
  }
}

TEST(RopeTable, CachedAnglesAreTheComputedOnesAcrossSlotsAndModels) {
  isa::ModelMeta a;
  a.ropeTheta = 10000.0f;
  isa::ModelMeta b = a;
  b.ropeTheta = 500000.0f;
  b.ropeFactor = 8.0f;
  b.ropeHighFreqFactor = 4.0f;
  b.ropeOriginalMaxPos = 64;
  // Positions that share a slot (the table is direct-mapped by position), revisits,
  // and switches of model, scaling and head size between them.
  for (int64_t pos : {0, 5, 5, 261, 5, 7000, 261})
    expectAngles(a, false, 64, pos);
  expectAngles(b, true, 64, 261);
  expectAngles(b, false, 64, 261);
  expectAngles(a, false, 128, 261);
  expectAngles(a, false, 64, 261);
  expectAngles(b, true, 32, 5);
}

} // namespace
} // namespace mk::host::test
