//===- cuda_moe_test.cpp - CUDA vs host: the MoE kinds, one by one and as a layer ===//
//
// Each MoE kind alone (the stages before it run on the host while the scenario is
// built, so its inputs are the host's) and whole layers (router -> gate_up -> down ->
// combine in one launch, each stage reading what other CTAs wrote), for decode batches
// of 1 and 4 and prefill chunks: equivalence.h compares routes exactly (same experts,
// same slots, same rows) and the floats by normalized error; xg, the router's copies of
// the normalized rows, and the combine, whose fmas are the host's, agree bit for bit
// when their inputs do. The cases cover an inactive row, slots past the count (their
// tiles must write nothing), a router weight larger than the staging slot, a hidden
// size that is not a multiple of 8 (the scalar paths), slots of more than 16 rows (the
// tensor-core paths) and a tie between router rows (the lower expert id wins on both).
// Then the executor: the toy MoE plan's weight bytes per launch and the expert each
// expert tile's profile record names, against the host executor.
//===----------------------------------------------------------------------===//
#include "equivalence.h"
#include "scenarios.h"

#include "../unit/isa/toy_plan.h"

#include "mk/host/executor.h"
#include "mk/isa/moe_routes.h"
#include "mk/isa/plan_verify.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace mk::cuda::test {
namespace {

std::vector<MoeLayerCase> moeCases() {
  const isa::ProgramKind prefill = isa::ProgramKind::Prefill;
  using enum MoeStage;
  auto only = [](MoeLayerCase c, const char *name, MoeStage stage) {
    c.name = name;
    c.first = c.last = stage;
    return c;
  };
  const MoeLayerCase decode4 = moeDecodeRows4(), prefill40 = moePrefillRows40();
  return {
      // The router alone.
      {.name = "RouterRows1", .positions = {5}, .first = Router, .last = Router},
      only(decode4, "RouterRows4", Router),
      {.name = "RouterHidden100",
       .positions = {1, 2, 3},
       .experts = 6,
       .hidden = 100,
       .first = Router,
       .last = Router},
      // 64 experts x 512: a 64 KiB router weight, more than a staging slot.
      {.name = "RouterE64Hidden512",
       .positions = {4, 7, -1, 2},
       .experts = 64,
       .topK = 4,
       .hidden = 512,
       .first = Router,
       .last = Router},
      only(prefill40, "RouterPrefillRows40", Router),
      {.name = "RouterTie",
       .positions = {4, 11},
       .first = Router,
       .last = Router,
       .tie = true},
      // Each expert kind and the combine alone.
      only(decode4, "GateUpRows4", GateUp),
      only(prefill40, "GateUpPrefillRows40", GateUp),
      only(decode4, "DownRows4", Down),
      only(prefill40, "DownPrefillRows40", Down),
      {.name = "DownInter100",
       .positions = {0, 3, 6},
       .inter = 100,
       .first = Down,
       .last = Down},
      only(decode4, "CombineRows4", Combine),
      only(prefill40, "CombinePrefillRows40", Combine),
      // Whole layers.
      {.name = "LayerRows1", .positions = {5}, .steps = 2},
      {.name = "LayerRows4",
       .positions = {3, -1, 9, 0},
       .experts = 4,
       .hidden = 128,
       .inter = 64},
      decode4,
      {.name = "LayerRows2Hidden100Tie",
       .positions = {7, 2},
       .hidden = 100,
       .inter = 40,
       .tie = true},
      prefill40,
      {.name = "LayerPrefillRows70",
       .positions = chunkPositions(0, 70, 5),
       .program = prefill,
       .experts = 16,
       .topK = 4,
       .normTopkProb = false,
       .hidden = 192,
       .inter = 64,
       .tile = 64},
  };
}

std::vector<ScenarioCase> moeScenarioCases() {
  std::vector<ScenarioCase> out;
  for (const MoeLayerCase &c : moeCases())
    out.push_back({c.name, [c] { return moeLayer(c); }});
  // Tensor parallelism's partials: the combine without residual (inactive rows: 0).
  for (const MoeLayerCase &c : moeCases())
    if (c.first == MoeStage::Combine && c.last == MoeStage::Combine)
      out.push_back({std::string(c.name) + "NoResidual", [c] {
                       return withoutResidual(moeLayer(c), isa::TaskKind::MoeCombine);
                     }});
  return out;
}

class CudaMoe : public ::testing::TestWithParam<ScenarioCase> {};
TEST_P(CudaMoe, MatchesHost) { expectCudaMatchesHost(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Cases, CudaMoe, ::testing::ValuesIn(moeScenarioCases()),
                         caseName);

/// The scenario tensor an operand of role `role` names ("t<id>.<role>", equivalence.h).
uint16_t tensorOfRole(const isa::Plan &plan, const std::string &role) {
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const std::string &name = plan.tensors[i].name;
    if (name.size() > role.size() && name.ends_with("." + role))
      return uint16_t(i);
  }
  ADD_FAILURE() << "no tensor of role " << role;
  return 0;
}

// The scenarios are what they claim: slots past the count exist, and the tie picks
// experts 1 and 3 (on the host; the test above holds the CUDA executor to it).
TEST(CudaMoeScenarios, HaveSlotsPastTheCountAndTheTie) {
  Scenario layer = moeLayer(moeDecodeRows4());
  const isa::Plan plan = layer.plan();
  ASSERT_TRUE(runOnHost(layer, plan));
  const MoeLayerCase c = moeDecodeRows4();
  const uint32_t rows = uint32_t(c.positions.size());
  const uint32_t slots = isa::moeSlots(c.experts, rows, c.topK);
  const isa::ConstMoeRoutes routes{
      layer.bench.data<int32_t>(tensorOfRole(plan, "routes")), rows, c.topK, slots};
  EXPECT_LT(routes.numDistinct(), int32_t(slots));

  Scenario tie = moeLayer({.name = "",
                           .positions = {4, 11},
                           .first = MoeStage::Router,
                           .last = MoeStage::Router,
                           .tie = true});
  const isa::Plan tiePlan = tie.plan();
  ASSERT_TRUE(runOnHost(tie, tiePlan));
  const isa::ConstMoeRoutes tied{tie.bench.data<int32_t>(tensorOfRole(tiePlan, "routes")),
                                 2, 2, 4};
  ASSERT_EQ(tied.numDistinct(), 2);
  EXPECT_EQ(tied.slotExpert(0), 1);
  EXPECT_EQ(tied.slotExpert(1), 3);
}

//===-- The executor: weight bytes and profile ------------------------------===//

/// The caller's memory of the toy MoE plan (tests/unit/isa/toy_plan.h).
struct ToyMoe {
  isa::Plan plan = isa::test::makeToyMoePlan();
  std::vector<std::vector<uint8_t>> memory; // by tensor id (empty for activations)

  ToyMoe() {
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    memory.resize(plan.tensors.size());
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      const isa::TensorDesc &t = plan.tensors[i];
      if (t.placement == isa::Placement::Activation)
        continue;
      memory[i].assign(t.bytes(), 0);
      if (t.dtype != isa::DType::BF16)
        continue;
      auto *w = reinterpret_cast<host::bf16 *>(memory[i].data());
      for (uint64_t e = 0; e < t.numElements(); ++e)
        w[e] = host::floatToBf16(0.3f * normal(rng));
    }
    const int32_t positions[isa::test::kMoeRows] = {2, -1, 7, 1};
    std::memcpy(memory[tensor("decode.positions")].data(), positions, sizeof positions);
  }
  uint16_t tensor(std::string_view name) const {
    for (size_t i = 0; i < plan.tensors.size(); ++i)
      if (plan.tensors[i].name == name)
        return uint16_t(i);
    ADD_FAILURE() << "no tensor " << name;
    return 0;
  }
  Status bindAll(Executor &exec) {
    for (size_t i = 0; i < plan.tensors.size(); ++i)
      if (!memory[i].empty())
        if (Status s = exec.bind(uint16_t(i), memory[i].data()); !s)
          return s;
    return Status::ok();
  }
};

/// The routes and the output of a launch, and its counts.
struct ToyRun {
  std::vector<uint8_t> routes, out;
  std::optional<uint64_t> weightBytes;
  std::vector<ProfileRecord> profile;
};

ToyRun runToy(ToyMoe &m, Executor &exec) {
  ToyRun run;
  EXPECT_TRUE(m.bindAll(exec));
  const Status s = exec.launch(0, 1, &run.profile);
  EXPECT_TRUE(s) << s.message();
  run.weightBytes = exec.lastLaunchWeightBytes();
  for (auto [name, into] : {std::pair{"decode.l0.moe_routes", &run.routes},
                            std::pair{"decode.h_mlp", &run.out}}) {
    const uint16_t id = m.tensor(name);
    const auto *p = static_cast<const uint8_t *>(exec.read(id));
    if (p)
      into->assign(p, p + m.plan.tensors[id].bytes());
  }
  return run;
}

// The CUDA kernel counts the bytes the host executor counts: the router's weights and
// the selected experts' rows (its expert tiles' late spans), no byte of another expert;
// and names the expert each expert tile served.
TEST(CudaMoeExecutor, CountsTheHostsWeightBytesAndNamesEachTilesExpert) {
  ToyMoe m;
  ASSERT_TRUE(isa::verifyPlan(m.plan));
  host::HostExecutor hostExec(m.plan, {.workers = 3, .profile = true});
  const ToyRun host = runToy(m, hostExec);
  ASSERT_TRUE(host.weightBytes.has_value());
  MK_SKIP_WITHOUT_DEVICE();

  std::unique_ptr<Executor> exec;
  const Status s = createExecutor(m.plan, {.profile = true, .checkTarget = false}, exec);
  ASSERT_TRUE(s) << s.message();
  const ToyRun cuda = runToy(m, *exec);
  EXPECT_EQ(cuda.routes, host.routes) << "the routes differ";
  ASSERT_TRUE(cuda.weightBytes.has_value()) << "the CUDA executor does not count";
  EXPECT_EQ(*cuda.weightBytes, *host.weightBytes);

  using namespace isa::test;
  const isa::ConstMoeRoutes routes{reinterpret_cast<const int32_t *>(cuda.routes.data()),
                                   kMoeRows, kMoeTopK, kMoeSlots};
  ASSERT_EQ(cuda.profile.size(), size_t(kMNumTasks));
  uint32_t named = 0;
  for (const ProfileRecord &r : cuda.profile) {
    const isa::TaskRecord &t = m.plan.programs[0].tasks[r.task];
    const auto kind = static_cast<isa::TaskKind>(t.kind);
    if (kind == isa::TaskKind::MoeGateUp || kind == isa::TaskKind::MoeDown) {
      EXPECT_EQ(r.expert, routes.expertOfSlot(t.range[2].begin)) << "task " << r.task;
      named += r.expert >= 0;
    } else {
      EXPECT_EQ(r.expert, -1) << "task " << r.task;
    }
  }
  EXPECT_EQ(named, 4u * uint32_t(routes.numDistinct()));
}

// Dense kinds: each task's static footprint, over every step of a launch.
TEST(CudaMoeExecutor, CountsTheHostsWeightBytesOfDenseTasks) {
  Scenario host = decodeLayer(kDecodeLayerGqaWindow),
           cuda = decodeLayer(kDecodeLayerGqaWindow);
  const isa::Plan plan = host.plan();
  host::HostExecutor hostExec(plan, {.workers = 2});
  ASSERT_TRUE(runScenario(hostExec, host));
  ASSERT_TRUE(hostExec.lastLaunchWeightBytes().has_value());
  EXPECT_GT(*hostExec.lastLaunchWeightBytes(), 0u);
  MK_SKIP_WITHOUT_DEVICE();
  std::unique_ptr<Executor> exec;
  const Status s = createExecutor(plan, {.checkTarget = false}, exec);
  ASSERT_TRUE(s) << s.message();
  ASSERT_TRUE(runScenario(*exec, cuda));
  EXPECT_EQ(exec->lastLaunchWeightBytes(), hostExec.lastLaunchWeightBytes());
}

} // namespace
} // namespace mk::cuda::test
