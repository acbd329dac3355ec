// A MoE layer through the real protocol: the toy MoE plan (tests/unit/isa/toy_plan.h:
// router -> 8 gate_up tiles -> 8 down tiles -> 2 combine tiles, batch 4) on 1 to 7
// worker threads. Every worker count and every run must give the same bits; the
// launch's weight bytes must be the router's plus exactly the selected experts'; the
// profile must name the expert each expert tile served.
#include "mk/host/executor.h"
#include "mk/isa/moe_routes.h"
#include "mk/isa/plan_verify.h"

#include "../isa/toy_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

using namespace mk;
using namespace mk::host;
using namespace mk::isa::test;

namespace {

/// The caller's memory of the toy MoE plan: weights, x and positions.
struct MoeModel {
  isa::Plan plan = makeToyMoePlan();
  std::vector<std::vector<uint8_t>> memory; // by tensor id (empty for activations)

  explicit MoeModel(std::vector<int32_t> positions, bool zeroRouter = false) {
    std::mt19937 rng(99);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    memory.resize(plan.tensors.size());
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      const isa::TensorDesc &t = plan.tensors[i];
      if (t.placement == isa::Placement::Activation)
        continue;
      memory[i].assign(t.bytes(), 0);
      if (t.dtype != isa::DType::BF16)
        continue;
      const bool norm = t.name.find("norm") != std::string::npos;
      const bool router = t.name.find("mlp.gate.") != std::string::npos;
      auto *w = reinterpret_cast<bf16 *>(memory[i].data());
      for (uint64_t e = 0; e < t.numElements(); ++e)
        w[e] = floatToBf16(router && zeroRouter ? 0.0f
                           : norm               ? 1.0f + 0.1f * normal(rng)
                                                : 0.3f * normal(rng));
    }
    std::copy(
        positions.begin(), positions.end(),
        reinterpret_cast<int32_t *>(memory[tensorId(plan, "decode.positions")].data()));
  }
  void bindAll(HostExecutor &exec) {
    for (size_t i = 0; i < plan.tensors.size(); ++i)
      if (!memory[i].empty()) {
        ASSERT_TRUE(exec.bind(uint16_t(i), memory[i].data()));
      }
  }
};

/// Every activation of the layer after one launch, byte for byte.
struct LayerBits {
  std::vector<std::vector<uint8_t>> tensors;
  uint64_t weightBytes = 0;
  bool operator==(const LayerBits &) const = default;
};

LayerBits runLayer(MoeModel &m, unsigned workers,
                   std::vector<ProfileRecord> *profile = nullptr) {
  HostExecutor exec(m.plan, {.workers = workers, .profile = profile != nullptr});
  m.bindAll(exec);
  const Status s = exec.launch(0, 1, profile);
  EXPECT_TRUE(s) << s.message();
  LayerBits bits;
  for (size_t i = 0; i < m.plan.tensors.size(); ++i)
    if (m.plan.tensors[i].placement == isa::Placement::Activation) {
      const auto *p = static_cast<const uint8_t *>(exec.tensor(uint16_t(i)).data);
      bits.tensors.emplace_back(p, p + m.plan.tensors[i].bytes());
    }
  EXPECT_TRUE(exec.lastLaunchWeightBytes().has_value());
  bits.weightBytes = exec.lastLaunchWeightBytes().value_or(0);
  return bits;
}

/// The layer's routes as the launch left them (activation index 1: moe_routes).
isa::ConstMoeRoutes routesOf(const LayerBits &bits) {
  return {reinterpret_cast<const int32_t *>(bits.tensors[1].data()), kMoeRows, kMoeTopK,
          kMoeSlots};
}

TEST(MoeExecutor, PlanVerifies) {
  const isa::Plan plan = makeToyMoePlan();
  const Status s = isa::verifyPlan(plan);
  EXPECT_TRUE(s) << s.message();
}

// Batch 4 (one row inactive, two the same position): the same bits for every worker
// count and run.
TEST(MoeExecutor, BitwiseIdenticalForAnyWorkerCountAndRun) {
  for (std::vector<int32_t> positions :
       {std::vector<int32_t>{0, 5, -1, 3}, std::vector<int32_t>{2, 2, 7, 1}}) {
    MoeModel m(positions);
    const LayerBits first = runLayer(m, 1);
    const isa::ConstMoeRoutes routes = routesOf(first);
    EXPECT_GE(routes.numDistinct(), int32_t(kMoeTopK));
    for (unsigned workers : {1u, 2u, 3u, 4u, 7u})
      for (int run = 0; run < 2; ++run)
        EXPECT_TRUE(runLayer(m, workers) == first)
            << workers << " workers, run " << run << " differ from 1 worker";
  }
}

// The router's weight and norm weight, and each selected expert's gate, up and down
// rows once (the tiles' column ranges cover each expert's rows exactly once); no byte
// of an unselected expert.
TEST(MoeExecutor, CountsTheRouterAndExactlyTheSelectedExperts) {
  constexpr uint64_t kRouterBytes = (kMoeExperts + 1) * kMoeHidden * 2;
  constexpr uint64_t kExpertBytes = 3 * kMoeInter * kMoeHidden * 2;
  for (bool zeroRouter : {false, true}) {
    SCOPED_TRACE(zeroRouter ? "zero router: experts 0 and 1" : "random router");
    MoeModel m({4, 1, 9, -1}, zeroRouter);
    const LayerBits bits = runLayer(m, 3);
    const int32_t distinct = routesOf(bits).numDistinct();
    if (zeroRouter) {
      EXPECT_EQ(distinct, int32_t(kMoeTopK));
    }
    EXPECT_EQ(bits.weightBytes, kRouterBytes + uint64_t(distinct) * kExpertBytes);
  }
}

TEST(MoeExecutor, ProfileNamesTheExpertAndWeightBytesOfEachTile) {
  MoeModel m({3, 0, 6, 2});
  std::vector<ProfileRecord> profile;
  const LayerBits bits = runLayer(m, 2, &profile);
  const isa::ConstMoeRoutes routes = routesOf(bits);
  ASSERT_EQ(profile.size(), size_t(kMNumTasks));
  uint32_t named = 0;
  uint64_t bytes = 0;
  for (const ProfileRecord &r : profile) {
    const isa::TaskRecord &t = m.plan.programs[0].tasks[r.task];
    const auto kind = static_cast<isa::TaskKind>(t.kind);
    bytes += r.weightBytes;
    if (kind == isa::TaskKind::MoeGateUp || kind == isa::TaskKind::MoeDown) {
      EXPECT_EQ(r.expert, routes.expertOfSlot(t.range[2].begin)) << "task " << r.task;
      named += r.expert >= 0;
      // A used slot's tile streamed its expert's rows (late weights), an unused none.
      EXPECT_EQ(r.weightBytes > 0, r.expert >= 0) << "task " << r.task;
    } else {
      EXPECT_EQ(r.expert, -1) << "task " << r.task;
    }
  }
  // Two column tiles of gate_up and two of down per used slot.
  EXPECT_EQ(named, 4u * uint32_t(routes.numDistinct()));
  // The records' weight bytes are the launch's, task by task.
  EXPECT_EQ(bytes, bits.weightBytes);
}

} // namespace
