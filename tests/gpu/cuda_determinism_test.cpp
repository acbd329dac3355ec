//===- cuda_determinism_test.cpp - Bitwise-identical CUDA results ----------===//
//
// Every output element is one fixed-order reduction inside one task (no float
// atomics), so the CUDA executor must give the same bits on every run, whichever CTA
// claims which tile: run the same plan twice on one executor, on a fresh executor, and
// with 1, 3 and the default number of worker CTAs (1 CTA runs every task in queue
// order; 3 interleave them differently from one per SM), each with the look-ahead
// claim on and off.
//===----------------------------------------------------------------------===//
#include "equivalence.h"
#include "scenarios.h"

#include "mk/isa/plan_verify.h"

#include <gtest/gtest.h>

namespace mk::cuda::test {
namespace {

std::vector<ScenarioCase> determinismCases() {
  return {
      {"DecodeLayer", [] { return decodeLayer(kDecodeLayerGqaWindow); }},
      {"PrefillChunk",
       [] {
         return prefillChunk({.name = "",
                              .first = 5,
                              .rows = 70,
                              .padding = 3,
                              .heads = 8,
                              .kvHeads = 2,
                              .hd = 64,
                              .hidden = 192});
       }},
      {"LmHeadArgmax", [] { return lmHeadArgmax(64, 256, 500, 100, 3); }},
      {"GateUpRows70",
       [] {
         return projection(
             isa::TaskKind::GateUp,
             {"",
              70,
              256,
              160,
              {{{0, 33}, {0, 75}}, {{33, 70}, {0, 75}}, {{0, 70}, {75, 160}}}});
       }},
      {"DownProjRows3K100",
       [] {
         return projection(isa::TaskKind::DownProj,
                           {"", 3, 100, 72, {{{0, 3}, {0, 36}}, {{0, 3}, {36, 72}}}});
       }},
      // A MoE layer: routes, expert tiles and combine in one launch.
      {"MoeLayerDecodeRows4", [] { return moeLayer(moeDecodeRows4()); }},
      {"MoeLayerPrefillRows40", [] { return moeLayer(moePrefillRows40()); }},
  };
}

class CudaDeterminism : public ::testing::TestWithParam<ScenarioCase> {};

TEST_P(CudaDeterminism, RepeatedLaunchesAndWorkerCountsAreBitwiseIdentical) {
  const ScenarioCase &c = GetParam();
  Scenario first = c.build();
  const isa::Plan plan = first.plan();
  Status verified = isa::verifyPlan(plan);
  ASSERT_TRUE(verified) << verified.message();
  MK_SKIP_WITHOUT_DEVICE();

  // Twice on one executor (bind uploads the fresh inputs again), then on new ones.
  std::unique_ptr<Executor> executor;
  Status s = createExecutor(plan, {.checkTarget = false}, executor);
  ASSERT_TRUE(s) << s.message();
  s = runScenario(*executor, first);
  ASSERT_TRUE(s) << s.message();
  Scenario again = c.build();
  s = runScenario(*executor, again);
  ASSERT_TRUE(s) << s.message();
  EXPECT_TRUE(bitwiseEqual(first, again)) << "the same executor, launched twice";

  for (unsigned workers : {0u, 1u, 3u})
    for (bool lookahead : {true, false}) {
      SCOPED_TRACE("workers " + std::to_string(workers) + ", look-ahead " +
                   (lookahead ? "on" : "off"));
      Scenario other = c.build();
      s = runOnCuda(other, plan, {.workers = workers, .lookahead = lookahead});
      ASSERT_TRUE(s) << s.message();
      EXPECT_TRUE(bitwiseEqual(first, other));
    }

  // Not vacuous: the launches wrote the outputs (they are poisoned before).
  Scenario unrun = c.build();
  EXPECT_FALSE(bitwiseEqual(first, unrun)) << "the launches changed nothing";
}

INSTANTIATE_TEST_SUITE_P(Cases, CudaDeterminism, ::testing::ValuesIn(determinismCases()),
                         caseName);

} // namespace
} // namespace mk::cuda::test
