//===- plan_stats_test.cpp - The batch-1 decode weight bytes of a plan ----===//
//
// batch1DecodeWeightBytes counts what the executors count for one active row: the
// static footprint of every task, the embedding row, and k whole experts per MoE
// layer. Checked by hand on the toy plans (toy_plan.h).
//===----------------------------------------------------------------------===//
#include "toy_plan.h"

#include "mk/isa/plan_stats.h"
#include "mk/isa/plan_verify.h"

#include <gtest/gtest.h>

namespace mk::isa::test {
namespace {

TEST(PlanStats, MoeLayerCountsTheRouterAndKExperts) {
  Plan plan = makeToyMoePlan();
  ASSERT_TRUE(verifyPlan(plan).isOk());
  DecodeWeightBytes b = batch1DecodeWeightBytes(plan, plan.programs[kDecode]);
  // The router's footprint: its [E, H] weight and the [H] norm weight, bf16.
  EXPECT_EQ(b.dense, uint64_t(kMoeExperts * kMoeHidden * 2 + kMoeHidden * 2));
  // One expert: gate and up [I, H], down [H, I]; k of them in the one MoE layer.
  const uint64_t expert = 3 * kMoeInter * kMoeHidden * 2;
  EXPECT_EQ(b.perExpert(), expert);
  EXPECT_EQ(b.expertsPerToken, kMoeTopK);
  EXPECT_EQ(b.moeLayers, 1u);
  EXPECT_EQ(b.experts, kMoeTopK * expert);
  EXPECT_EQ(b.total(), b.dense + kMoeTopK * expert);
}

TEST(PlanStats, DenseDecodeReadsItsFootprintsAndOneEmbeddingRow) {
  Plan plan = makeToyPlan();
  ASSERT_TRUE(verifyPlan(plan).isOk());
  const Program &decode = plan.programs[kDecode];
  DecodeWeightBytes b = batch1DecodeWeightBytes(plan, decode);
  EXPECT_EQ(b.moeLayers, 0u);
  EXPECT_EQ(b.experts, 0u);
  EXPECT_EQ(b.perExpert(), 0u);
  // bf16 rows of 32 (hidden) = 64 bytes: the embedding row; q (4 heads x 8 rows), k and
  // v (2 x 8 rows) each with the input norm; o (32 rows); gate and up (64 rows each)
  // with the post norm; down (32 rows of 128 bytes); two LM-head tiles of 32 rows,
  // each with the final norm.
  const uint64_t row = 64, norm = 64;
  const uint64_t expected = row + (32 * row + norm) + 2 * (16 * row + norm) + 32 * row +
                            (2 * 64 * row + norm) + 32 * 128 + 2 * (32 * row + norm);
  EXPECT_EQ(b.dense, expected);
  EXPECT_EQ(b.total(), expected);
}

} // namespace
} // namespace mk::isa::test
