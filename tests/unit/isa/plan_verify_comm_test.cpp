// The verifier's tensor-parallel rules: shard fields, comm buffers, comm tasks' shapes,
// sites and tiles, the site order the two-buffer protocol relies on, and the model
// dims a TP degree must divide. A small valid TP=2 decode program, then one break each.
#include "toy_plan.h"

#include "mk/isa/plan_file.h"
#include "mk/isa/plan_verify.h"

#include <gtest/gtest.h>

#include <functional>

namespace mk::isa::test {
namespace {

using enum ToyTpTask;
using enum ToyTpEvent;

TaskRecord &task(Plan &p, uint32_t t) { return p.programs[0].tasks[t]; }

TEST(PlanVerifyComm, ValidTensorParallelPlanPassesAndRoundTrips) {
  const Plan plan = makeToyTpPlan();
  const std::vector<std::string> all = verifyPlanAll(plan, 20);
  EXPECT_TRUE(all.empty()) << all.front();
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(writePlan(plan, bytes).isOk());
  Plan back;
  ASSERT_TRUE(readPlan(bytes, back).isOk());
  expectPlansEqual(plan, back);
}

struct Break {
  const char *name;
  std::function<void(Plan &)> apply;
  std::string expected;
};

class BreakTensorParallel : public ::testing::TestWithParam<Break> {};

TEST_P(BreakTensorParallel, ReportsTheViolation) {
  Plan plan = makeToyTpPlan();
  GetParam().apply(plan);
  const std::vector<std::string> all = verifyPlanAll(plan, 50);
  bool found = false;
  for (const std::string &m : all)
    found = found || m == GetParam().expected;
  EXPECT_TRUE(found) << "expected: " << GetParam().expected
                     << "\nfirst: " << (all.empty() ? "(none)" : all.front());
}

const Break kBreaks[] = {
    {"CommTaskWithOneRank",
     [](Plan &p) {
       p.tensorParallel = 1;
       for (TensorDesc &t : p.tensors)
         t.shardParts = 1, t.shardDim = 0;
     },
     "program 0 'decode' task 3 (all_reduce, layer 0): a comm task in a plan with "
     "tensorParallel 1 (comm tasks exchange data between ranks; a plan of one rank has "
     "none)"},
    {"PartsTimesReplicas",
     [](Plan &p) { p.tensors[tensorId(p, "lm_head.weight")].shardReplicas = 2; },
     "tensor 3 'lm_head.weight': 2 parts x 2 replicas, expected tensorParallel 2 ranks"},
    {"ShardedActivation",
     [](Plan &p) { p.tensors[tensorId(p, "decode.x")].shardParts = 2; },
     "tensor 6 'decode.x': sharded (2 parts), but its placement is activation; only "
     "weights are sharded"},
    {"ShardDimBeyondRank",
     [](Plan &p) { p.tensors[tensorId(p, "lm_head.weight")].shardDim = 2; },
     "tensor 3 'lm_head.weight': shard dim 2, but the tensor has rank 2"},
    {"HeadsNotDivisible", [](Plan &p) { p.model.numHeads = 3, p.model.numKvHeads = 1; },
     "model: numHeads 3 is not divisible by tensorParallel 2"},
    {"KvHeadsNeitherWay",
     [](Plan &p) {
       p.tensorParallel = 4;
       p.model.numHeads = 12, p.model.numKvHeads = 6;
     },
     "model: numKvHeads 6 and tensorParallel 4: one must divide the other (KV heads are "
     "split, or replicated when fewer than the ranks)"},
    {"SiteGap", [](Plan &p) { task(p, kTAg).aux[0] = 2; },
     "program 0 'decode': comm site 2 is used but site 1 is not (sites must be numbered "
     "0..S-1 in program order)"},
    {"TileTwice", [](Plan &p) { task(p, kTAr1).aux[1] = 0; },
     "program 0 'decode' comm site 0 (all_reduce): task 4 (all_reduce, layer 0) and task "
     "3 are both tile 0"},
    {"ColumnsNotCovered",
     [](Plan &p) {
       task(p, kTAr1).range[1] = {20, 32};
     },
     "program 0 'decode' comm site 0 (all_reduce): columns [16, 20) are not reduced (the "
     "tiles must cover [0, 32) once)"},
    {"TileBeyondFlags", [](Plan &p) { task(p, kTAr1).aux[1] = 2; },
     "program 0 'decode' task 4 (all_reduce, layer 0): aux[1] (tile of the site) is 2, "
     "but the flags [2, 2, 2] i32 have 2 tile slots"},
    {"CommShape",
     [](Plan &p) { p.tensors[tensorId(p, "decode.comm.reduce")].shape[1] = 4; },
     "program 0 'decode' task 3 (all_reduce, layer 0): operand 'comm' is tensor 12 "
     "'decode.comm.reduce' [2, 4, 2, 32] bf16, expected [2 2, N 2, R 2, H 32] bf16"},
    {"GatherOutShape",
     [](Plan &p) { p.tensors[tensorId(p, "decode.gathered")].shape[1] = 2; },
     "program 0 'decode' task 7 (all_gather): operand 'out' is tensor 11 "
     "'decode.gathered' [2, 2, 2] f32, expected [R 2, N T 4, 2 2] f32"},
    {"PartialIsComm",
     [](Plan &p) { task(p, kTAr0).operand[0] = tensorId(p, "decode.comm.reduce"); },
     "program 0 'decode' task 3 (all_reduce, layer 0): operand 'partial' is tensor 12 "
     "'decode.comm.reduce' [2, 2, 2, 32] bf16, expected [R 2, H 32] bf16"},
    {"SiteOneBeforeSiteZeroEnds",
     [](Plan &p) {
       // lm_head waits on the o_proj event instead of the all_reduce's: site 1 no
       // longer descends from site 0.
       task(p, kTLm0).wait[0].event = eO;
       task(p, kTLm1).wait[0].event = eO;
     },
     "program 0 'decode' task 7 (all_gather): comm site 1 is not ordered after every "
     "tile of site 0 (two comm buffers are reused in turn: each site must wait, through "
     "its inputs, for all of the previous one)"},
    {"SiteZeroIgnoresThePreviousStep", [](Plan &p) { task(p, kTEmb).numWaits = 0; },
     "program 0 'decode' task 3 (all_reduce, layer 0): comm site 0 does not wait, "
     "through its inputs, for all of the previous step's last comm site 1"},
};

INSTANTIATE_TEST_SUITE_P(Rules, BreakTensorParallel, ::testing::ValuesIn(kBreaks),
                         [](const auto &info) { return std::string(info.param.name); });

} // namespace
} // namespace mk::isa::test
