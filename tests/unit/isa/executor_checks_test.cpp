//===- executor_checks_test.cpp - What both executors refuse at launch -----===//
#include "mk/isa/executor_checks.h"

#include "toy_plan.h"

#include "mk/isa/message_text.h"

#include <gtest/gtest.h>

#include <string>

namespace mk::isa::test {
namespace {

const auto kAllBound = [](uint16_t) { return true; };

TEST(CheckLaunchable, EveryKindOfTheToyPlanRunsOnBothExecutors) {
  const Plan plan = makeToyPlan();
  for (uint32_t p = 0; p < plan.programs.size(); ++p) {
    EXPECT_TRUE(checkLaunchable(plan, p, Executor::Host, kAllBound)) << p;
    EXPECT_TRUE(checkLaunchable(plan, p, Executor::Cuda, kAllBound)) << p;
  }
}

// A table in which the CUDA executor lacks argmax: the plan is refused on CUDA, naming
// the first such task, and still runs on the host.
bool noCudaArgmax(TaskKind kind, Executor executor) {
  return !(kind == TaskKind::Argmax && executor == Executor::Cuda);
}

TEST(CheckLaunchable, RefusesAKindTheExecutorDoesNotImplement) {
  const Plan plan = makeToyPlan();
  const Status s =
      checkLaunchable(plan, kDecode, Executor::Cuda, kAllBound, &noCudaArgmax);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "launch: task " + std::to_string(kDArgmax) +
                             " (argmax) of program 'decode' is of a kind the cuda "
                             "executor does not implement");
  EXPECT_TRUE(checkLaunchable(plan, kDecode, Executor::Host, kAllBound, &noCudaArgmax));
}

TEST(CheckLaunchable, NamesTheFirstUnboundTensorAndAMissingProgram) {
  const Plan plan = makeToyPlan();
  const uint16_t lm = tensorId(plan, "lm_head.weight");
  const Status s = checkLaunchable(plan, kDecode, Executor::Host,
                                   [&](uint16_t id) { return id != lm; });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(),
            "launch: tensor 'lm_head.weight' is used by program 'decode' but not bound");
  EXPECT_EQ(checkLaunchable(plan, 7, Executor::Host, kAllBound).message(),
            "launch: no program 7");
}

// A tile names expert 0 of its group but may read any expert: every expert of the
// group must be bound, not only the one its operand names.
TEST(CheckLaunchable, EveryExpertOfAGroupMustBeBound) {
  const Plan plan = makeToyMoePlan();
  const TaskRecord &gateUp = plan.programs[0].tasks[kMGateUp0];
  const uint16_t lastGate =
      uint16_t(gateUp.operand[role(TaskKind::MoeGateUp, "w_gate")] + kMoeExperts - 1);
  const Status s = checkLaunchable(plan, 0, Executor::Host,
                                   [&](uint16_t id) { return id != lastGate; });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "launch: tensor " + quote(plan.tensors[lastGate].name) +
                             " is used by program 'decode' but not bound");
  EXPECT_TRUE(checkLaunchable(plan, 0, Executor::Host, kAllBound));
}

} // namespace
} // namespace mk::isa::test
