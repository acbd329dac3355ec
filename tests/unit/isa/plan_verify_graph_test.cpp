//===- plan_verify_graph_test.cpp - Rules e-h, verifyPlanAll, speed --------===//
#include "mk/isa/plan_verify.h"

#include "toy_plan.h"

#include <gtest/gtest.h>

#include <chrono>

namespace mk::isa {
namespace {

using namespace test;

struct BreakCase {
  const char *name;
  void (*breakIt)(Plan &);
  const char *expected;
};

std::ostream &operator<<(std::ostream &os, const BreakCase &c) { return os << c.name; }

class BreakGraph : public testing::TestWithParam<BreakCase> {};

TEST_P(BreakGraph, ReportsTheViolation) {
  Plan plan = makeToyPlan();
  GetParam().breakIt(plan);
  expectFirstViolation(plan, GetParam().expected);
}

std::string caseName(const testing::TestParamInfo<BreakCase> &info) {
  return info.param.name;
}

TaskRecord &decode(Plan &p, uint32_t task) { return p.programs[kDecode].tasks[task]; }

void addWait(TaskRecord &r, uint32_t event, uint16_t count, uint8_t stepBack) {
  r.wait[r.numWaits++] = {event, count, stepBack, 0};
}

// Rule e.
const BreakCase kDagCases[] = {
    {"Cycle", [](Plan &p) { addWait(decode(p, kDEmbed), kEvQkv, 3, 0); },
     "program 0 'decode': same-step dependency cycle: task 0 (embedding) -> event 0 "
     "'emb' "
     "-> task 1 (qkv, layer 0) -> event 1 'qkv' -> task 0 (embedding)"},
    {"SelfLoop", [](Plan &p) { addWait(decode(p, kDOProj), kEvO, 1, 0); },
     "program 0 'decode': same-step dependency cycle: task 6 (o_proj, layer 0) -> event "
     "4 "
     "'o' -> task 6 (o_proj, layer 0)"},
};
INSTANTIATE_TEST_SUITE_P(RuleE, BreakGraph, testing::ValuesIn(kDagCases), caseName);

// Rule f.
const BreakCase kOrderCases[] = {
    {"OrderTooShort", [](Plan &p) { p.programs[kDecode].order.pop_back(); },
     "program 0 'decode': the queue order has 11 entries, expected one per task (12)"},
    {"OrderEntryNotATask", [](Plan &p) { p.programs[kDecode].order[3] = 12; },
     "program 0 'decode': order[3] is 12, not a task index (the program has 12 tasks)"},
    {"OrderRepeatsATask", [](Plan &p) { p.programs[kDecode].order[3] = 0; },
     "program 0 'decode': task 0 appears twice in the queue order (positions 0 and 3)"},
    {"ConsumerBeforeProducer",
     [](Plan &p) { p.programs[kDecode].order = {0, 4, 3, 2, 1, 5, 6, 7, 8, 10, 9, 11}; },
     "program 0 'decode': the queue order puts task 4 (attn_decode, layer 0) at position "
     "1 before its same-step producer task 1 (qkv, layer 0) at position 4 (wait 0 on "
     "event 1 'qkv' has stepBack 0)"},
    {"SameStepWaitOnALaterTask",
     [](Plan &p) {
       // The embedding waits on this step's argmax (stepBack 0 instead of 1); argmax
       // waits on nothing, so there is no cycle, only an edge going backwards.
       decode(p, kDEmbed).wait[0].stepBack = 0;
       decode(p, kDArgmax).numWaits = 0;
     },
     "program 0 'decode': the queue order puts task 0 (embedding) at position 0 before "
     "its same-step producer task 11 (argmax) at position 11 (wait 0 on event 8 'argmax' "
     "has stepBack 0)"},
};
INSTANTIATE_TEST_SUITE_P(RuleF, BreakGraph, testing::ValuesIn(kOrderCases), caseName);

// Rule g.
const BreakCase kStepCases[] = {
    {"TaskNotAfterTheCrossStepWait", [](Plan &p) { decode(p, kDV).numWaits = 0; },
     "program 0 'decode' task 3 (qkv, layer 0): step isolation: it does not descend "
     "(same "
     "step) from any task with a cross-step wait, so it could run for step s + 1 while "
     "step s is still running (events are never reset)"},
    {"CrossStepProducerNotAfterEveryTask",
     [](Plan &p) { decode(p, kDEmbed).wait[0].event = kEvDown; },
     "program 0 'decode' task 9 (lm_head): step isolation: it is not a same-step "
     "ancestor "
     "of any producer of event 6 'down', which task 0 (embedding) waits on across steps, "
     "so step s + 1 could start while it still runs for step s (events are never reset)"},
};
INSTANTIATE_TEST_SUITE_P(RuleG, BreakGraph, testing::ValuesIn(kStepCases), caseName);

// Rule h. Tensor 20 'decode.h0' [0, 128), 21 'decode.q' [128, 256).
const BreakCase kArenaCases[] = {
    {"OverlapNotOrdered", [](Plan &p) { p.tensors[21].offset = 0; },
     "program 0 'decode': arena overlap: tensor 20 'decode.h0' [0, 128) and tensor 21 "
     "'decode.q' [0, 128) share bytes but the same-step DAG does not order them: task 1 "
     "(qkv, layer 0) accesses 'decode.h0' and does not precede task 1 (qkv, layer 0), "
     "which writes 'decode.q'; and task 1 (qkv, layer 0) accesses 'decode.q' and does "
     "not "
     "precede task 0 (embedding), which writes 'decode.h0'"},
    {"PartialOverlapNotOrdered", [](Plan &p) { p.tensors[23].offset = 240; },
     "program 0 'decode': arena overlap: tensor 21 'decode.q' [128, 256) and tensor 23 "
     "'decode.partial_lse' [240, 272) share bytes but the same-step DAG does not order "
     "them: task 4 (attn_decode, layer 0) accesses 'decode.q' and does not precede task "
     "4 "
     "(attn_decode, layer 0), which writes 'decode.partial_lse'; and task 4 "
     "(attn_decode, "
     "layer 0) accesses 'decode.partial_lse' and does not precede task 1 (qkv, layer 0), "
     "which writes 'decode.q'"},
};
INSTANTIATE_TEST_SUITE_P(RuleH, BreakGraph, testing::ValuesIn(kArenaCases), caseName);

TEST(VerifyGraph, SingleStepProgramsAreNotSubjectToStepIsolation) {
  // The prefill program has no cross-step wait; its tasks descend from none.
  Plan plan = makeToyPlan();
  Status s = verifyPlan(plan);
  EXPECT_TRUE(s.isOk()) << s.message();
  // Without the cross-step wait the decode program is single-step too.
  decode(plan, kDEmbed).numWaits = 0;
  decode(plan, kDV).numWaits = 0;
  s = verifyPlan(plan);
  EXPECT_TRUE(s.isOk()) << s.message();
}

TEST(VerifyGraph, ReuseOrderedByTheDagIsFine) {
  Plan plan = makeToyPlan();
  // attn_merge writes 'decode.attn' after attn_decode, the last reader of 'decode.q'.
  plan.tensors[24].offset = 128;
  Status s = verifyPlan(plan);
  EXPECT_TRUE(s.isOk()) << s.message();
}

TEST(VerifyGraph, OverlapOfATensorWithItsOwnWriterIsStrict) {
  // o_proj reads h0 as residual and writes h1: in place would race between its tiles.
  Plan plan = makeToyPlan();
  plan.tensors[25].offset = 0; // h1 over h0 (and h2)
  std::vector<std::string> all = verifyPlanAll(plan);
  ASSERT_FALSE(all.empty());
  EXPECT_NE(all[0].find("tensor 20 'decode.h0' [0, 128) and tensor 25 'decode.h1'"),
            std::string::npos)
      << all[0];
}

TEST(VerifyAll, ListsEveryViolationInOrderUpToTheLimit) {
  Plan plan = makeToyPlan();
  plan.tensorParallel = 0;
  plan.tensors[2].shape[1] = 0;
  plan.programs[kPrefill].order[0] = 1; // 1 appears twice, 0 never
  std::vector<std::string> all = verifyPlanAll(plan);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], "plan: tensorParallel is 0, expected >= 1");
  EXPECT_EQ(all[1], "tensor 2 'model.layers.0.self_attn.q_proj.weight': dim 1 is 0, "
                    "expected > 0");
  EXPECT_EQ(all[2], "program 1 'prefill': task 1 appears twice in the queue order "
                    "(positions 0 and 1)");
  EXPECT_EQ(verifyPlan(plan).message(), all[0]);

  for (TaskRecord &r : plan.programs[kDecode].tasks)
    r.numSignals = 0;
  EXPECT_EQ(verifyPlanAll(plan, 5).size(), 5u);
  EXPECT_GT(verifyPlanAll(plan).size(), 2u + 12u + 9u); // tp, dim, tasks, events, ...
  for (TensorDesc &t : plan.tensors)
    t.dtype = static_cast<DType>(8);
  EXPECT_EQ(verifyPlanAll(plan).size(), 50u);
}

double secondsOf(auto &&f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(VerifySpeed, Llama8bSizedPlanVerifiesQuickly) {
  Plan plan = makeLargePlan(32);
  const Program &prog = plan.programs[0];
  ASSERT_GT(prog.tasks.size(), 17000u);
  Status s;
  double seconds = secondsOf([&] { s = verifyPlan(plan); });
  EXPECT_TRUE(s.isOk()) << s.message();
  std::printf("verifyPlan: %zu tasks, %zu events, %zu tensors in %.1f ms\n",
              prog.tasks.size(), prog.events.size(), plan.tensors.size(), seconds * 1e3);
  // Well under a second in an optimized build; sanitizer builds get slack.
  EXPECT_LT(seconds, 5.0);

  // A violation deep in the plan: the last layer's x overlaps its q.
  Plan broken = plan;
  uint16_t q31 = tensorId(broken, "l31.q");
  broken.tensors[q31].offset = 0;
  seconds = secondsOf([&] { s = verifyPlan(broken); });
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("arena overlap"), std::string::npos) << s.message();
  std::printf("verifyPlan (failing): %.1f ms\n", seconds * 1e3);
  EXPECT_LT(seconds, 5.0);
}

} // namespace
} // namespace mk::isa
