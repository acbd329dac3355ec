//===- task_kinds_test.cpp - The task-kind table and record layout ---------===//
#include "mk/isa/plan.h"
#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <set>
#include <string>

namespace mk::isa {
namespace {

static_assert(roleName("=out") == "out");
static_assert(roleName("bias?") == "bias");
static_assert(roleName("x") == "x");
static_assert(roleIndex(TaskKind::Qkv, "w") == 2);
static_assert(roleIndex(TaskKind::Qkv, "out") == 5);
static_assert(roleIndex(TaskKind::Argmax, "w") == -1);

TEST(TaskKinds, EveryKindHasUniqueNameRolesAndWritesSomething) {
  std::set<std::string> names;
  for (uint32_t k = 0; k < kNumTaskKinds; ++k) {
    const TaskKindInfo &info = taskKindInfo(static_cast<TaskKind>(k));
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    ASSERT_GE(info.numOperands, 1u) << info.name;
    ASSERT_LE(info.numOperands, kMaxOperands) << info.name;
    std::set<std::string> roles;
    bool writes = false;
    for (uint32_t i = 0; i < info.numOperands; ++i) {
      const char *role = info.operandRoles[i];
      EXPECT_TRUE(roles.insert(std::string(roleName(role))).second)
          << info.name << " repeats role " << role;
      EXPECT_FALSE(roleIsWritten(role) && roleIsOptional(role))
          << info.name << " " << role;
      writes |= roleIsWritten(role);
      EXPECT_EQ(roleIndex(static_cast<TaskKind>(k), roleName(role)), static_cast<int>(i));
    }
    EXPECT_TRUE(writes) << info.name << " writes no operand";
    EXPECT_TRUE(implements(static_cast<TaskKind>(k), Executor::Host) ||
                implements(static_cast<TaskKind>(k), Executor::Cuda))
        << info.name << " is implemented by no executor";
  }
}

TEST(TaskRecord, LayoutIsFixed) {
  // The plan file stores records raw and the CUDA executor reads them as laid out here.
  EXPECT_EQ(sizeof(TaskRecord), 128u);
  EXPECT_EQ(offsetof(TaskRecord, range), 8u);
  EXPECT_EQ(offsetof(TaskRecord, aux), 32u);
  EXPECT_EQ(offsetof(TaskRecord, operand), 40u);
  EXPECT_EQ(offsetof(TaskRecord, wait), 64u);
  EXPECT_EQ(offsetof(TaskRecord, signal), 96u);
  EXPECT_EQ(offsetof(TaskRecord, numWaits), 104u);
  EXPECT_EQ(offsetof(TaskRecord, costBytes), 112u);
  EXPECT_EQ(offsetof(TaskRecord, costFlops), 120u);
}

TEST(PlanNames, EnumsHaveNamesAndInvalidValuesSaySo) {
  EXPECT_STREQ(dtypeName(DType::BF16), "bf16");
  EXPECT_STREQ(dtypeName(DType::I32), "i32");
  EXPECT_STREQ(dtypeName(static_cast<DType>(9)), "invalid");
  EXPECT_STREQ(placementName(Placement::Activation), "activation");
  EXPECT_STREQ(placementName(Placement::Comm), "comm");
  EXPECT_STREQ(placementName(static_cast<Placement>(5)), "invalid");
  EXPECT_STREQ(programKindName(ProgramKind::Prefill), "prefill");
  EXPECT_STREQ(programKindName(static_cast<ProgramKind>(2)), "invalid");
  EXPECT_STREQ(ropeStyleName(RopeStyle::Interleaved), "interleaved");
  EXPECT_STREQ(ropeStyleName(static_cast<RopeStyle>(2)), "invalid");
}

} // namespace
} // namespace mk::isa
