//===- plan_verify_moe_test.cpp - Rules a and c for MoE models and tasks ----===//
//
// Each case breaks one thing of the valid toy MoE plan (toy_plan.h) and checks the
// verifier's first message word for word. Tensors: 0 the norm weight, 1 the router,
// 2-5 / 6-9 / 10-13 the gate / up / down experts, 16 xg, 17 routes, 19 act.
//===----------------------------------------------------------------------===//
#include "mk/isa/moe_routes.h"
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

TaskRecord &task(Plan &p, uint32_t t) { return p.programs[0].tasks[t]; }

TEST(VerifyMoe, TheToyMoePlanIsValid) {
  const Plan plan = makeToyMoePlan();
  const std::vector<std::string> problems = verifyPlanAll(plan);
  EXPECT_TRUE(problems.empty()) << problems.front();
}

class BreakMoe : public testing::TestWithParam<BreakCase> {};

TEST_P(BreakMoe, ReportsTheViolation) {
  Plan plan = makeToyMoePlan();
  GetParam().breakIt(plan);
  expectFirstViolation(plan, GetParam().expected);
}

const BreakCase kCases[] = {
    // Rule a: the model's MoE fields.
    {"TopKAboveExperts", [](Plan &p) { p.model.numExpertsPerTok = 5; },
     "model: numExpertsPerTok 5, expected 1..numExperts 4"},
    {"NoTopK", [](Plan &p) { p.model.numExpertsPerTok = 0; },
     "model: numExpertsPerTok 0, expected 1..numExperts 4"},
    {"NoExpertIntermediate", [](Plan &p) { p.model.moeIntermediateSize = 0; },
     "model: moeIntermediateSize is 0 with numExperts 4, expected > 0"},
    // Rule c: MoE tasks need a MoE model.
    {"DenseModel", [](Plan &p) { p.model.numExperts = 0; },
     "program 0 'decode' task 0 (moe_router, layer 0): a moe_router task, but the model "
     "has numExperts 0 and numExpertsPerTok 2 (a MoE model has 1 <= k <= E)"},
    // Operand shapes from R, k, Smax, E, H, I.
    {"XgShape", [](Plan &p) { p.tensors[16].shape[0] = 3; },
     "program 0 'decode' task 0 (moe_router, layer 0): operand 'xg' is tensor 16 "
     "'decode.l0.moe_xg' [3, 4, 32] bf16, expected [Smax 4, R 4, H 32] bf16"},
    {"RoutesLength", [](Plan &p) { p.tensors[17].shape[0] = 40; },
     "program 0 'decode' task 0 (moe_router, layer 0): operand 'routes' is tensor 17 "
     "'decode.l0.moe_routes' [40] i32, expected [1 + 2 Smax + Smax R + 2 R k 41] i32"},
    {"RouteWeightsDtype", [](Plan &p) { p.tensors[18].dtype = DType::BF16; },
     "program 0 'decode' task 0 (moe_router, layer 0): operand 'route_weights' is "
     "tensor 18 'decode.l0.moe_route_weights' [4, 2] bf16, expected [R 4, k 2] f32"},
    {"RouterWeightRows", [](Plan &p) { p.tensors[1].shape[0] = 3; },
     "program 0 'decode' task 0 (moe_router, layer 0): operand 'w' is tensor 1 "
     "'model.layers.0.mlp.gate.weight' [3, 32] bf16, expected [E 4, H 32] bf16"},
    {"ActShape", [](Plan &p) { p.tensors[19].shape[2] = 8; },
     "program 0 'decode' task 1 (moe_gate_up, layer 0): operand 'out' is tensor 19 "
     "'decode.l0.moe_act' [4, 4, 8] bf16, expected [Smax 4, R 4, I 16] bf16"},
    // Expert groups.
    {"ExpertShape", [](Plan &p) { p.tensors[4].shape[0] = 8; },
     "program 0 'decode' task 1 (moe_gate_up, layer 0): expert 2 of operand 'w_gate' is "
     "tensor 4 'model.layers.0.mlp.experts.2.gate_proj.weight' [8, 32] bf16, expected "
     "[I 16, H 32] bf16"},
    {"ExpertNotAWeight",
     [](Plan &p) { task(p, kMDown0).operand[role(TaskKind::MoeDown, "w")] = 11; },
     "program 0 'decode' task 9 (moe_down, layer 0): expert 3 of operand 'w' is tensor "
     "14 "
     "'decode.x', whose placement is step_state, expected weight (expert e is tensor 11 "
     "+ e)"},
    {"GroupPastTheTable",
     [](Plan &p) { task(p, kMGateUp0).operand[role(TaskKind::MoeGateUp, "w_up")] = 20; },
     "program 0 'decode' task 1 (moe_gate_up, layer 0): operand 'w_up' names the expert "
     "group of 4 tensors from tensor 20 'decode.l0.moe_expert_out', but the plan has 22 "
     "tensors"},
    // Tile ranges.
    {"RouterSomeExperts",
     [](Plan &p) {
       task(p, kMRouter).range[1] = {0, 3};
     },
     "program 0 'decode' task 0 (moe_router, layer 0): range[1] is [0, 3), expected "
     "[0, 4) (the router takes every expert)"},
    {"RouterPastTheExperts",
     [](Plan &p) {
       task(p, kMRouter).range[1] = {0, 5};
     },
     "program 0 'decode' task 0 (moe_router, layer 0): range[1] is [0, 5), expected "
     "[0, 4) (the router takes every expert)"},
    {"RouterSomeRows",
     [](Plan &p) {
       task(p, kMRouter).range[0] = {1, 4};
     },
     "program 0 'decode' task 0 (moe_router, layer 0): range[0] is [1, 4), expected "
     "[0, 4) (the router takes every row)"},
    {"SlotPastSmax",
     [](Plan &p) {
       task(p, kMGateUp0).range[2] = {4, 5};
     },
     "program 0 'decode' task 1 (moe_gate_up, layer 0): range[2] (expert slot) is "
     "[4, 5), expected one slot [s, s + 1) with s < Smax 4"},
    {"TwoSlots",
     [](Plan &p) {
       task(p, kMDown0).range[2] = {0, 2};
     },
     "program 0 'decode' task 9 (moe_down, layer 0): range[2] (expert slot) is [0, 2), "
     "expected one slot [s, s + 1) with s < Smax 4"},
    {"ExpertTileSomeRows",
     [](Plan &p) {
       task(p, kMDown0).range[0] = {0, 2};
     },
     "program 0 'decode' task 9 (moe_down, layer 0): range[0] is [0, 2), expected "
     "[0, 4) (a slot's tile takes every row it may hold)"},
    {"GateUpColumnsPastI",
     [](Plan &p) {
       task(p, kMGateUp0).range[1] = {8, 20};
     },
     "program 0 'decode' task 1 (moe_gate_up, layer 0): range[1] [8, 20) exceeds 16, the "
     "last dim of its 'out' tensor 'decode.l0.moe_act'"},
    {"CombineColumnsPastH",
     [](Plan &p) {
       task(p, kMCombine0).range[1] = {16, 33};
     },
     "program 0 'decode' task 17 (moe_combine, layer 0): range[1] [16, 33) exceeds 32, "
     "the last dim of its 'out' tensor 'decode.h_mlp'"},
};

INSTANTIATE_TEST_SUITE_P(Moe, BreakMoe, testing::ValuesIn(kCases),
                         [](const auto &info) { return std::string(info.param.name); });

// Smax = min(E, R k): with 8 rows the slots are capped by the 4 experts.
TEST(VerifyMoe, SlotsAreCappedByTheExperts) {
  EXPECT_EQ(moeSlots(4, 1, 2), 2u);
  EXPECT_EQ(moeSlots(4, 4, 2), 4u);
  EXPECT_EQ(moeSlots(128, 64, 8), 128u);
  EXPECT_EQ(moeRoutesLength(4, 2, 4), 41u);
}

} // namespace
} // namespace mk::isa
