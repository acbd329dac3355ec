//===- task_context_test.cpp - Kernel table, roles, context, weight spans -===//
#include "task_bench.h"

#include <gtest/gtest.h>

namespace mk::host::test {
namespace {

TEST(TaskTable, EveryKindTheTableGivesTheHostHasAKernel) {
  for (uint32_t k = 0; k < isa::kNumTaskKinds; ++k) {
    const auto kind = static_cast<isa::TaskKind>(k);
    EXPECT_EQ(taskFunction(kind) != nullptr, isa::implements(kind, isa::Executor::Host))
        << isa::taskKindName(kind);
  }
  EXPECT_EQ(taskFunction(static_cast<isa::TaskKind>(isa::kNumTaskKinds)), nullptr);
}

TEST(TaskTable, RolesAreTheIsaPositions) {
  static_assert(role(isa::TaskKind::Qkv, "x") == 0);
  static_assert(role(isa::TaskKind::Qkv, "bias") == 3);
  static_assert(role(isa::TaskKind::Qkv, "out") == 5);
  static_assert(role(isa::TaskKind::AttnDecode, "partial_lse") == 6);
  static_assert(role(isa::TaskKind::Argmax, "tokens_out") == 1);
}

TEST(TaskContext, MakeTaskContextResolvesTheProgramsBlockTable) {
  isa::Plan plan;
  plan.model.numHeads = 4;
  auto tensor = [&](const char *name) {
    isa::TensorDesc t;
    t.name = name;
    t.dtype = isa::DType::I32;
    t.placement = isa::Placement::StepState;
    t.rank = 1;
    t.shape[0] = 2;
    plan.tensors.push_back(t);
  };
  tensor("decode.tokens");
  tensor("prefill.block_table");
  tensor("decode.block_table");
  plan.programs.resize(2);
  plan.programs[0].name = "decode";
  plan.programs[1].name = "prefill";
  std::vector<TensorRef> refs(plan.tensors.size());
  TaskContext d = makeTaskContext(plan, 0, refs.data(), uint32_t(refs.size()), 5);
  EXPECT_EQ(d.step, 5u);
  EXPECT_EQ(d.model, &plan.model);
  EXPECT_EQ(d.program, &plan.programs[0]);
  EXPECT_EQ(makeTaskContext(plan, 1, refs.data(), 3).program, &plan.programs[1]);
  EXPECT_EQ(findTensor(plan, "decode.block_table"), 2);
  EXPECT_EQ(findTensor(plan, "nope"), isa::kNoTensor);
}

// The weight spans of a task are exactly the rows of its weight tile (plus norm
// weights and bias), inside the weight tensors, and never an activation.
TEST(Prefetch, WeightSpansAreTheWeightTile) {
  TaskBench b(testModel(4, 2, 16, 32));
  const uint16_t x = b.randomBf16({3, 32}), norm = b.randomBf16({32});
  const uint16_t wq = b.randomBf16({64, 32}), bias = b.randomBf16({64});
  const uint16_t qn = b.randomBf16({16}), q = b.add(isa::DType::BF16, {3, 64});
  const uint16_t pos = b.i32({3}, {0, 1, 2}), slots = b.i32({3}, {0, 1, 2});
  const uint16_t table = b.i32({1, 1}, {0});
  const isa::TaskRecord qkv = makeTask(
      isa::TaskKind::Qkv, {x, norm, wq, bias, qn, q, pos, slots, table}, {0, 3}, {1, 3});
  WeightSpan spans[kMaxWeightSpans];
  ASSERT_EQ(taskWeightSpans(b.context(), qkv, spans), 4u);
  EXPECT_EQ(spans[0].data, b.data<bf16>(wq) + 16 * 32);
  EXPECT_EQ(spans[0].bytes, 32u * 32 * 2);
  EXPECT_EQ(spans[1].data, b.data<bf16>(norm));
  EXPECT_EQ(spans[1].bytes, 32u * 2);
  EXPECT_EQ(spans[2].data, b.data<bf16>(bias) + 16);
  EXPECT_EQ(spans[2].bytes, 32u * 2);
  EXPECT_EQ(spans[3].data, b.data<bf16>(qn));

  const uint16_t wo = b.randomBf16({32, 64}), h = b.add(isa::DType::BF16, {3, 32});
  const isa::TaskRecord o =
      makeTask(isa::TaskKind::OProj, {q, wo, x, h}, {0, 3}, {8, 24});
  ASSERT_EQ(taskWeightSpans(b.context(), o, spans), 1u);
  EXPECT_EQ(spans[0].data, b.data<bf16>(wo) + 8 * 64);
  EXPECT_EQ(spans[0].bytes, 16u * 64 * 2);

  // Activations are not ready when a worker prefetches: unbinding them must not matter.
  b.ref(x).data = nullptr;
  b.ref(q).data = nullptr;
  b.ref(h).data = nullptr;
  taskStreamBytes(b.context(), qkv);
  taskStreamBytes(b.context(), o);

  const isa::TaskRecord emb =
      makeTask(isa::TaskKind::Embedding, {pos, wq, q}, {0, 3}, {0, 8});
  EXPECT_EQ(taskWeightSpans(b.context(), emb, spans), 0u) << "tokens depend on an event";
}

} // namespace
} // namespace mk::host::test
