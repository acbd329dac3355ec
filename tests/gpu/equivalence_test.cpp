//===- equivalence_test.cpp - The equivalence harness catches what it must ===//
//
// No device needed: two host runs of a scenario stand in for host and CUDA, and the
// second is damaged the way a wrong CUDA kernel would damage it. sameResults must
// accept the undamaged (and slightly perturbed) results and name each damage.
//===----------------------------------------------------------------------===//
#include "equivalence.h"
#include "scenarios.h"

#include "mk/isa/plan_verify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mk::cuda::test {
namespace {

uint16_t operandOf(const Scenario &s, isa::TaskKind kind, const char *role) {
  for (const isa::TaskRecord &t : s.tasks)
    if (t.kind == uint16_t(kind))
      return t.operand[isa::roleIndex(kind, role)];
  ADD_FAILURE() << "no " << isa::taskKindName(kind) << " task";
  return 0;
}

Scenario oProj70() {
  return projection(isa::TaskKind::OProj,
                    {"",
                     70,
                     256,
                     160,
                     {{{0, 33}, {8, 75}}, {{33, 70}, {8, 75}}, {{0, 70}, {75, 160}}}});
}

/// Runs `build` on the host twice, applies `damage` to the second run's results and
/// compares them as if the second had run on the CUDA executor.
::testing::AssertionResult compareDamaged(const std::function<Scenario()> &build,
                                          const std::function<void(Scenario &)> &damage) {
  Scenario reference = build(), other = build();
  const isa::Plan plan = reference.plan();
  for (Scenario *s : {&reference, &other})
    if (Status st = runOnHost(*s, plan); !st)
      return ::testing::AssertionFailure() << st.message();
  if (damage)
    damage(other);
  return sameResults(reference, other);
}

bool says(const ::testing::AssertionResult &r, const char *what) {
  return std::string(r.message()).find(what) != std::string::npos;
}

TEST(EquivalenceHarness, PlansUseWeightAndStepStatePlacementAndChainTheSteps) {
  const Scenario s = decodeLayer({.name = "", .history = {5, -1, 17, 40}, .steps = 3});
  const isa::Plan plan = s.plan();
  Status verified = isa::verifyPlan(plan);
  ASSERT_TRUE(verified) << verified.message();
  EXPECT_EQ(plan.tensors[operandOf(s, isa::TaskKind::Qkv, "w")].placement,
            isa::Placement::Weight);
  EXPECT_EQ(plan.tensors[operandOf(s, isa::TaskKind::AttnDecode, "k_cache")].placement,
            isa::Placement::StepState);
  EXPECT_EQ(plan.tensors[operandOf(s, isa::TaskKind::OProj, "out")].placement,
            isa::Placement::StepState);
  const isa::Program &p = plan.programs[0];
  ASSERT_EQ(p.events.size(), 4u); // one per phase
  // Phase 0 waits on the previous step's last phase; later phases on their
  // predecessor in the same step.
  EXPECT_EQ(p.tasks.front().wait[0].event, 3u);
  EXPECT_EQ(p.tasks.front().wait[0].stepBack, 1);
  EXPECT_EQ(p.tasks.back().wait[0].event, 2u);
  EXPECT_EQ(p.tasks.back().wait[0].stepBack, 0);
}

// A MoE layer's expert groups: every expert's tensor (operand + e), not only expert 0's
// operand, is a weight of the plan (the verifier requires it) and is never compared.
TEST(EquivalenceHarness, MoeExpertGroupsAreWeights) {
  const Scenario s = moeLayer(moeDecodeRows4());
  const isa::Plan plan = s.plan();
  Status verified = isa::verifyPlan(plan);
  ASSERT_TRUE(verified) << verified.message();
  const uint32_t experts = s.bench.model.numExperts;
  ASSERT_EQ(experts, 16u);
  ASSERT_LT(operandOf(s, isa::TaskKind::MoeDown, "w") + experts - 1, plan.tensors.size());
  for (auto [kind, role] : {std::pair{isa::TaskKind::MoeGateUp, "w_gate"},
                            std::pair{isa::TaskKind::MoeGateUp, "w_up"},
                            std::pair{isa::TaskKind::MoeDown, "w"}})
    for (uint32_t e = 0; e < experts; ++e) {
      const uint16_t id = uint16_t(operandOf(s, kind, role) + e);
      EXPECT_EQ(plan.tensors[id].placement, isa::Placement::Weight) << role << " " << e;
      EXPECT_TRUE(s.weights().count(id)) << role << " " << e;
    }
}

TEST(EquivalenceHarness, AcceptsEqualAndSlightlyPerturbedResults) {
  EXPECT_TRUE(compareDamaged(oProj70, nullptr));
  EXPECT_TRUE(compareDamaged([] { return lmHeadArgmax(8, 100, 500, 128, 2); }, nullptr));
  EXPECT_TRUE(compareDamaged(
      [] {
        return decodeLayer({.name = "", .history = {5, -1, 17, 40}, .steps = 3});
      },
      nullptr));
  EXPECT_TRUE(compareDamaged([] { return moeLayer(moeDecodeRows4()); }, nullptr));
  // One bf16 ulp on every written element: rounding differences are not errors.
  EXPECT_TRUE(compareDamaged(oProj70, [](Scenario &s) {
    const uint16_t out = operandOf(s, isa::TaskKind::OProj, "out");
    for (int64_t i = 0; i < s.bench.numElements(out); ++i)
      if (!s.bench.isSentinel(out, i))
        ++s.bench.data<uint16_t>(out)[i];
  }));
}

TEST(EquivalenceHarness, NamesEachDamage) {
  // One wrong row among 70 hides in the tensor's error but not in the row's.
  auto r = compareDamaged(oProj70, [](Scenario &s) {
    const uint16_t out = operandOf(s, isa::TaskKind::OProj, "out");
    for (int64_t c = 8; c < 160; ++c) {
      host::bf16 &v = s.bench.data<host::bf16>(out)[40 * 160 + c];
      v = host::floatToBf16(host::bf16ToFloat(v) * 1.1f);
    }
  });
  EXPECT_FALSE(r);
  EXPECT_TRUE(says(r, "worst leading index 40")) << r.message();

  // One wrong element among 11,000 (row 50's largest, negated).
  r = compareDamaged(oProj70, [](Scenario &s) {
    host::bf16 *row =
        s.bench.data<host::bf16>(operandOf(s, isa::TaskKind::OProj, "out")) + 50 * 160;
    host::bf16 *largest = std::max_element(row + 8, row + 160, [](auto a, auto b) {
      return std::abs(host::bf16ToFloat(a)) < std::abs(host::bf16ToFloat(b));
    });
    *largest = host::floatToBf16(-host::bf16ToFloat(*largest));
  });
  EXPECT_TRUE(!r && says(r, "1 elements differ by more than") && says(r, "(first [50, "))
      << r.message();

  // A write outside the tile (columns 0-7 stay poisoned on the host).
  r = compareDamaged(oProj70, [](Scenario &s) {
    s.bench.data<host::bf16>(operandOf(s, isa::TaskKind::OProj, "out"))[3] =
        host::floatToBf16(1.0f);
  });
  EXPECT_TRUE(!r && says(r, "written by one backend only")) << r.message();

  // An element of the tile left unwritten.
  r = compareDamaged(oProj70, [](Scenario &s) {
    s.bench.data<uint16_t>(operandOf(s, isa::TaskKind::OProj, "out"))[100] =
        host::test::kBf16Sentinel;
  });
  EXPECT_TRUE(!r && says(r, "written by one backend only")) << r.message();

  r = compareDamaged(oProj70, [](Scenario &s) {
    s.bench.data<host::bf16>(operandOf(s, isa::TaskKind::OProj, "out"))[100] =
        host::floatToBf16(std::numeric_limits<float>::quiet_NaN());
  });
  EXPECT_TRUE(!r && says(r, "NaN")) << r.message();

  // An input that came back changed (step state is downloaded after the launch).
  r = compareDamaged(oProj70, [](Scenario &s) {
    ++s.bench.data<uint16_t>(operandOf(s, isa::TaskKind::OProj, "residual"))[7];
  });
  EXPECT_TRUE(!r && says(r, "(an input)")) << r.message();

  // Tokens are exact.
  auto lmHead = [] { return lmHeadArgmax(8, 100, 500, 128, 1); };
  r = compareDamaged(lmHead, [](Scenario &s) {
    ++s.bench.data<int32_t>(operandOf(s, isa::TaskKind::Argmax, "tokens_out"))[3];
  });
  EXPECT_TRUE(!r && says(r, "tokens_out")) << r.message();

  // A partial argmax index that is not the first maximum of the tile.
  r = compareDamaged(lmHead, [](Scenario &s) {
    float *pm = s.bench.data<float>(operandOf(s, isa::TaskKind::LmHead, "partial_max"));
    pm[(2 * 4 + 1) * 2 + 1] += 1.0f; // row 2, tile 1: the index
  });
  EXPECT_TRUE(!r && says(r, "partial argmax")) << r.message();

  // -inf (an empty KV split's lse) must be reproduced.
  r = compareDamaged(
      [] {
        return decodeLayer({.name = "", .history = {5, -1, 17, 40}, .steps = 1});
      },
      [](Scenario &s) {
        float *lse =
            s.bench.data<float>(operandOf(s, isa::TaskKind::AttnDecode, "partial_lse"));
        for (int64_t i = 0; i < 4 * 4 * 4; ++i)
          if (std::isinf(lse[i])) {
            lse[i] = 0.0f;
            break;
          }
      });
  EXPECT_TRUE(!r && says(r, "infinities differ")) << r.message();

  // MoE: a routes entry (another slot for a row) and one ulp of xg, which must be the
  // host's bits.
  auto moe = [] { return moeLayer(moeDecodeRows4()); };
  r = compareDamaged(moe, [](Scenario &s) {
    int32_t *routes =
        s.bench.data<int32_t>(operandOf(s, isa::TaskKind::MoeRouter, "routes"));
    std::swap(routes[1], routes[2]); // the experts of slots 0 and 1
  });
  EXPECT_TRUE(!r && says(r, "routes")) << r.message();
  r = compareDamaged(moe, [](Scenario &s) {
    ++s.bench.data<uint16_t>(operandOf(s, isa::TaskKind::MoeRouter, "xg"))[0];
  });
  EXPECT_TRUE(!r && says(r, "xg")) << r.message();
}

} // namespace
} // namespace mk::cuda::test
