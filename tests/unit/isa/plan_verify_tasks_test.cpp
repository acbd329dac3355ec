//===- plan_verify_tasks_test.cpp - Rules c (tasks) and d (events) ---------===//
//
// Each case breaks one task or event of the valid toy plan and checks the verifier's
// first message word for word. Tensor 5 is the o_proj weight, 37 'prefill.attn'.
//===----------------------------------------------------------------------===//
#include "mk/isa/plan_verify.h"

#include "toy_plan.h"

#include <gtest/gtest.h>

namespace mk::isa {
namespace {

using namespace test;

struct BreakCase {
  const char *name;
  void (*breakIt)(Plan &);
  const char *expected;
};

std::ostream &operator<<(std::ostream &os, const BreakCase &c) { return os << c.name; }

class BreakTasksOrEvents : public testing::TestWithParam<BreakCase> {};

TEST_P(BreakTasksOrEvents, ReportsTheViolation) {
  Plan plan = makeToyPlan();
  GetParam().breakIt(plan);
  expectFirstViolation(plan, GetParam().expected);
}

std::string caseName(const testing::TestParamInfo<BreakCase> &info) {
  return info.param.name;
}

TaskRecord &decode(Plan &p, uint32_t task) { return p.programs[kDecode].tasks[task]; }

// Rule c: kind, layer and operands.
const BreakCase kOperandCases[] = {
    {"InvalidKind", [](Plan &p) { decode(p, kDOProj).kind = 42; },
     "program 0 'decode' task 6 (kind 42, layer 0): invalid kind 42, the ISA has 16 "
     "kinds"},
    {"LayerOutOfRange", [](Plan &p) { decode(p, kDGateUp).layer = 1; },
     "program 0 'decode' task 7 (gate_up, layer 1): layer 1, but the model has 1 layers"},
    {"WrongOperandCount", [](Plan &p) { decode(p, kDOProj).numOperands = 3; },
     "program 0 'decode' task 6 (o_proj, layer 0): has 3 operands, o_proj expects 4 (x, "
     "w, residual?, =out)"},
    {"RequiredOperandAbsent", [](Plan &p) { decode(p, kDOProj).operand[1] = kNoTensor; },
     "program 0 'decode' task 6 (o_proj, layer 0): operand 1 'w' is required but absent"},
    {"OperandOutOfRange", [](Plan &p) { decode(p, kDOProj).operand[1] = 999; },
     "program 0 'decode' task 6 (o_proj, layer 0): operand 1 'w' names tensor 999, but "
     "the plan has 43 tensors"},
    {"ActivationOfAnotherProgram", [](Plan &p) { decode(p, kDOProj).operand[0] = 37; },
     "program 0 'decode' task 6 (o_proj, layer 0): operand 0 'x' is tensor 37 "
     "'prefill.attn', an activation of program 1, not of this program"},
    {"WritesAWeight", [](Plan &p) { decode(p, kDOProj).operand[3] = 5; },
     "program 0 'decode' task 6 (o_proj, layer 0): operand 3 'out' is written, but "
     "tensor "
     "5 'model.layers.0.self_attn.o_proj.weight' is a weight"},
};
INSTANTIATE_TEST_SUITE_P(RuleCOperands, BreakTasksOrEvents,
                         testing::ValuesIn(kOperandCases), caseName);

// Rule c: ranges, including range[1]'s natural extent for each kind.
const BreakCase kRangeCases[] = {
    {"BeginAfterEnd",
     [](Plan &p) {
       decode(p, kDGateUp).range[1] = {10, 5};
     },
     "program 0 'decode' task 7 (gate_up, layer 0): range[1] is [10, 5), begin > end"},
    {"RowsBeyondTheProgram",
     [](Plan &p) {
       decode(p, kDArgmax).range[0] = {0, 3};
     },
     "program 0 'decode' task 11 (argmax): range[0] (rows) [0, 3) exceeds the program's "
     "2 rows"},
    {"EmbeddingColumns",
     [](Plan &p) {
       decode(p, kDEmbed).range[1] = {0, 33};
     },
     "program 0 'decode' task 0 (embedding): range[1] [0, 33) exceeds 32, the last dim "
     "of "
     "its 'out' tensor 'decode.h0'"},
    {"QkvHeads",
     [](Plan &p) {
       decode(p, kDK).range[1] = {0, 3};
     },
     "program 0 'decode' task 2 (qkv, layer 0): range[1] [0, 3) exceeds 2, the heads of "
     "its 'w' tensor 'model.layers.0.self_attn.k_proj.weight' (16 rows / headDim 8)"},
    {"AttnDecodeKvHeads",
     [](Plan &p) {
       decode(p, kDAttn).range[1] = {1, 3};
     },
     "program 0 'decode' task 4 (attn_decode, layer 0): range[1] [1, 3) exceeds 2, the "
     "model's numKvHeads"},
    {"AttnDecodePositions",
     [](Plan &p) {
       decode(p, kDAttn).range[2] = {0, 129};
     },
     "program 0 'decode' task 4 (attn_decode, layer 0): range[2] (KV positions) [0, 129) "
     "exceeds the model's maxSeqLen 128"},
    {"AttnMergeKvHeads",
     [](Plan &p) {
       decode(p, kDMerge).range[1] = {0, 4};
     },
     "program 0 'decode' task 5 (attn_merge, layer 0): range[1] [0, 4) exceeds 2, the "
     "model's numKvHeads"},
    {"AttnPrefillKvHeads",
     [](Plan &p) {
       p.programs[kPrefill].tasks[4].range[1] = {0, 3};
     },
     "program 1 'prefill' task 4 (attn_prefill, layer 0): range[1] [0, 3) exceeds 2, the "
     "model's numKvHeads"},
    {"OProjColumns",
     [](Plan &p) {
       decode(p, kDOProj).range[1] = {0, 40};
     },
     "program 0 'decode' task 6 (o_proj, layer 0): range[1] [0, 40) exceeds 32, the last "
     "dim of its 'out' tensor 'decode.h1'"},
    {"GateUpColumns",
     [](Plan &p) {
       decode(p, kDGateUp).range[1] = {0, 65};
     },
     "program 0 'decode' task 7 (gate_up, layer 0): range[1] [0, 65) exceeds 64, the "
     "last "
     "dim of its 'out' tensor 'decode.mlp'"},
    {"DownProjColumns",
     [](Plan &p) {
       decode(p, kDDown).range[1] = {32, 33};
     },
     "program 0 'decode' task 8 (down_proj, layer 0): range[1] [32, 33) exceeds 32, the "
     "last dim of its 'out' tensor 'decode.h2'"},
    {"LmHeadVocab",
     [](Plan &p) {
       decode(p, kDLm1).range[1] = {32, 65};
     },
     "program 0 'decode' task 10 (lm_head): range[1] [32, 65) exceeds 64, the model's "
     "vocabSize"},
};
INSTANTIATE_TEST_SUITE_P(RuleCRanges, BreakTasksOrEvents, testing::ValuesIn(kRangeCases),
                         caseName);

// Rule c: waits and signals.
const BreakCase kWaitCases[] = {
    {"TooManyWaits", [](Plan &p) { decode(p, kDOProj).numWaits = 5; },
     "program 0 'decode' task 6 (o_proj, layer 0): has 5 waits, at most 4 are allowed"},
    {"NoSignals", [](Plan &p) { decode(p, kDOProj).numSignals = 0; },
     "program 0 'decode' task 6 (o_proj, layer 0): has 0 signals, expected 1 or 2"},
    {"ThreeSignals", [](Plan &p) { decode(p, kDOProj).numSignals = 3; },
     "program 0 'decode' task 6 (o_proj, layer 0): has 3 signals, expected 1 or 2"},
    {"WaitOnMissingEvent", [](Plan &p) { decode(p, kDOProj).wait[0].event = 40; },
     "program 0 'decode' task 6 (o_proj, layer 0): wait 0 names event 40, but the "
     "program "
     "has 9 events"},
    {"WaitCountZero", [](Plan &p) { decode(p, kDOProj).wait[0].count = 0; },
     "program 0 'decode' task 6 (o_proj, layer 0): wait 0 on event 3 'merge' has count "
     "0, "
     "expected > 0"},
    {"StepBackTwo", [](Plan &p) { decode(p, kDOProj).wait[0].stepBack = 2; },
     "program 0 'decode' task 6 (o_proj, layer 0): wait 0 on event 3 'merge' has "
     "stepBack "
     "2, expected 0 (same step) or 1 (previous step)"},
    {"SignalOfMissingEvent", [](Plan &p) { decode(p, kDOProj).signal[0] = 77; },
     "program 0 'decode' task 6 (o_proj, layer 0): signal 0 names event 77, but the "
     "program has 9 events"},
    {"SignalsTheSameEventTwice",
     [](Plan &p) {
       decode(p, kDOProj).numSignals = 2;
       decode(p, kDOProj).signal[1] = kEvO;
     },
     "program 0 'decode' task 6 (o_proj, layer 0): signals event 4 'o' twice"},
};
INSTANTIATE_TEST_SUITE_P(RuleCWaits, BreakTasksOrEvents, testing::ValuesIn(kWaitCases),
                         caseName);

// Rule d.
const BreakCase kEventCases[] = {
    {"CountAboveItsSignallers",
     [](Plan &p) { p.programs[kDecode].events[kEvQkv].count = 4; },
     "program 0 'decode' event 1 'qkv': count is 4, but 3 tasks signal it per step"},
    {"CountBelowItsSignallers",
     [](Plan &p) { p.programs[kDecode].events[kEvLm].count = 1; },
     "program 0 'decode' event 7 'lm': count is 1, but 2 tasks signal it per step"},
    {"EventWithoutProducer",
     [](Plan &p) {
       p.programs[kDecode].events.push_back({"orphan", 0});
     },
     "program 0 'decode' event 9 'orphan': count is 0 and no task signals it; every "
     "event "
     "needs at least one producer"},
    {"WaitCountDiffersFromTheEvent", [](Plan &p) { decode(p, kDAttn).wait[0].count = 2; },
     "program 0 'decode' task 4 (attn_decode, layer 0): wait 0 on event 1 'qkv' has "
     "count "
     "2, but the event's count is 3"},
};
INSTANTIATE_TEST_SUITE_P(RuleD, BreakTasksOrEvents, testing::ValuesIn(kEventCases),
                         caseName);

TEST(VerifyTasks, OptionalOperandsMayBeAbsentOrPresent) {
  Plan plan = makeToyPlan();
  // bias? and head_norm_w? are absent in the toy plan; naming a tensor is fine too.
  decode(plan, kDQ).operand[3] = 1;
  decode(plan, kDQ).operand[4] = 1;
  Status s = verifyPlan(plan);
  EXPECT_TRUE(s.isOk()) << s.message();
}

TEST(VerifyTasks, BrokenWaitsSkipTheGraphRulesButOtherProgramsAreStillChecked) {
  Plan plan = makeToyPlan();
  decode(plan, kDOProj).wait[0].event = 40;
  plan.programs[kPrefill].order.pop_back();
  std::vector<std::string> all = verifyPlanAll(plan);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1],
            "program 1 'prefill': the queue order has 9 entries, expected one per "
            "task (10)");
}

} // namespace
} // namespace mk::isa
