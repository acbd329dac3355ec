// all_reduce and all_gather on 2..4 ranks (threads): the sum in rank order, the
// residual, exact tile coverage, every rank's bits equal, and epochs over steps and
// sites reusing the two buffers.
#include "comm_fixture.h"

#include <gtest/gtest.h>

#include <cstring>

namespace mk::host::test {
namespace {

/// The all_reduce's result by its definition, from every rank's partial.
bf16 expectedSum(const CommRanks &c, int64_t i, bool withResidual) {
  float sum = 0.0f;
  for (uint32_t q = 0; q < c.ranks; ++q)
    sum += bf16ToFloat(c.bench[q]->data<bf16>(c.partial)[i]);
  if (!withResidual)
    return floatToBf16(sum);
  return floatToBf16(bf16ToFloat(c.bench[0]->data<bf16>(c.residual)[i]) +
                     roundToBf16(sum));
}

class AllReduceRanks : public ::testing::TestWithParam<uint32_t> {};

TEST_P(AllReduceRanks, SumsInRankOrderOnEveryRank) {
  const uint32_t ranks = GetParam(), rows = 3, hidden = 48;
  CommRanks c(ranks, rows, hidden, 2, 4);
  // The residual is replicated: the same on every rank.
  for (uint32_t r = 1; r < ranks; ++r)
    std::memcpy(c.bench[r]->data<bf16>(c.residual), c.bench[0]->data<bf16>(c.residual),
                rows * hidden * sizeof(bf16));
  for (uint32_t r = 0; r < ranks; ++r)
    c.bench[r]->poison(c.out);
  // Three tiles of one site, in a different order than their columns.
  c.run({c.reduceTask({32, 48}, 0, 2), c.reduceTask({0, 16}, 0, 0),
         c.reduceTask({16, 32}, 0, 1)},
        0, 0, 1);
  for (uint32_t r = 0; r < ranks; ++r)
    for (int64_t i = 0; i < int64_t(rows) * hidden; ++i)
      ASSERT_EQ(c.bench[r]->data<bf16>(c.out)[i].bits, expectedSum(c, i, true).bits)
          << "rank " << r << " element " << i;
}

TEST_P(AllReduceRanks, WithoutResidualAndOverManyEpochs) {
  const uint32_t ranks = GetParam(), rows = 2, hidden = 32;
  CommRanks c(ranks, rows, hidden, 2, 2);
  // Two sites per step (the buffers alternate), five steps, two launches: the partial
  // changes every time and every result must be the sum of that time's partials.
  uint64_t commBase = 0;
  for (int launch = 0; launch < 2; ++launch) {
    for (uint64_t step = 0; step < 5; ++step)
      for (uint32_t site = 0; site < 2; ++site) {
        for (uint32_t r = 0; r < ranks; ++r) {
          c.bench[r]->fillRandomBf16(c.partial, 2.0f);
          c.bench[r]->poison(c.out);
        }
        c.run({c.reduceTask({0, 16}, site, 0, false),
               c.reduceTask({16, 32}, site, 1, false)},
              step, commBase, 2);
        for (uint32_t r = 0; r < ranks; ++r)
          for (int64_t i = 0; i < int64_t(rows) * hidden; ++i)
            ASSERT_EQ(c.bench[r]->data<bf16>(c.out)[i].bits,
                      expectedSum(c, i, false).bits)
                << "launch " << launch << " step " << step << " site " << site << " rank "
                << r;
      }
    commBase += 5 * 2;
  }
}

TEST_P(AllReduceRanks, WritesOnlyItsTile) {
  const uint32_t ranks = GetParam(), rows = 3, hidden = 48;
  CommRanks c(ranks, rows, hidden, 2, 4);
  for (uint32_t r = 0; r < ranks; ++r)
    c.bench[r]->poison(c.out);
  c.run({c.reduceTask({16, 32}, 0, 1)}, 0, 0, 1);
  for (uint32_t r = 0; r < ranks; ++r)
    EXPECT_TRUE(c.bench[r]->coverage(c.out, [&](int64_t i) {
      const int64_t col = i % hidden;
      return col >= 16 && col < 32;
    }));
}

TEST_P(AllReduceRanks, AllGatherPutsRankQsTilesAtQTimesT) {
  const uint32_t ranks = GetParam(), rows = 2, tiles = 3;
  CommRanks c(ranks, rows, 32, tiles, 2);
  for (uint32_t r = 0; r < ranks; ++r) {
    float *local = c.bench[r]->data<float>(c.local);
    for (uint32_t i = 0; i < rows * tiles * 2; ++i)
      local[i] = float(r * 1000 + i);
    c.bench[r]->poison(c.gathered);
  }
  c.run({c.gatherTask(0)}, 0, 0, 1);
  for (uint32_t r = 0; r < ranks; ++r) {
    const float *out = c.bench[r]->data<float>(c.gathered);
    for (uint32_t row = 0; row < rows; ++row)
      for (uint32_t q = 0; q < ranks; ++q)
        for (uint32_t j = 0; j < tiles * 2; ++j)
          ASSERT_EQ(out[(row * ranks + q) * tiles * 2 + j],
                    float(q * 1000 + row * tiles * 2 + j))
              << "rank " << r << " row " << row << " from rank " << q;
  }
}

INSTANTIATE_TEST_SUITE_P(Ranks, AllReduceRanks, ::testing::Values(2u, 3u, 4u));

} // namespace
} // namespace mk::host::test
