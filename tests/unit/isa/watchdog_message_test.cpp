//===- watchdog_message_test.cpp - The hang report both executors give -----===//
#include "mk/isa/executor_checks.h"

#include "toy_plan.h"

#include <gtest/gtest.h>

namespace mk::isa {
namespace {

using test::kDAttn;
using test::kDecode;
using test::makeToyPlan;

TEST(WatchdogMessage, NamesTheWorkerTaskEventAndCounts) {
  Plan plan = makeToyPlan();
  const Program &decode = plan.programs[kDecode];
  StuckWorker w{
      .worker = 3, .task = kDAttn, .step = 2, .wait = 0, .counter = 8, .target = 9};
  EXPECT_EQ(watchdogMessage(decode, "a wait lasted over 2000 ms", {&w, 1}),
            "decode: watchdog: a wait lasted over 2000 ms; worker 3 holds task 4 "
            "(attn_decode, layer 0) of step 2, waiting on event 1 'qkv': counter 8, "
            "needs 9");
}

TEST(WatchdogMessage, ListsEveryStuckWorkerOnOneLine) {
  Plan plan = makeToyPlan();
  Program &decode = plan.programs[kDecode];
  decode.events[1].name = "q\nkv"; // names come from plan files
  std::vector<StuckWorker> stuck = {{.worker = 0, .task = kDAttn, .target = 3},
                                    {.worker = 1, .task = 999}};
  EXPECT_EQ(
      watchdogMessage(decode, "no task finished for 200 ms (1 of 12 tasks done)", stuck),
      "decode: watchdog: no task finished for 200 ms (1 of 12 tasks done); "
      "worker 0 holds task 4 (attn_decode, layer 0) of step 0, waiting on event 1 "
      "'q\\x0akv': counter 0, needs 3; worker 1 holds task 999, which is not in "
      "the program");
  EXPECT_EQ(watchdogMessage(decode, "stalled", {}), "decode: watchdog: stalled");
}

} // namespace
} // namespace mk::isa
