//===- task_footprint_test.cpp - The weight rows each kind streams ---------===//
#include "mk/isa/task_footprint.h"

#include "toy_plan.h"

#include <gtest/gtest.h>

#include <vector>

namespace mk::isa::test {
namespace {

struct Rows {
  uint32_t role;
  int64_t begin, end;
};

std::vector<TensorView> viewsOf(const Plan &plan) {
  std::vector<TensorView> views(plan.tensors.size());
  for (size_t i = 0; i < views.size(); ++i) {
    views[i].dtype = plan.tensors[i].dtype;
    views[i].rank = plan.tensors[i].rank;
    std::copy(plan.tensors[i].shape, plan.tensors[i].shape + kMaxRank, views[i].shape);
  }
  return views;
}

std::vector<Rows> footprintOf(const Plan &plan, const std::vector<TensorView> &views,
                              const TaskRecord &task) {
  std::vector<Rows> rows;
  auto emit = [&](uint32_t role, int64_t begin, int64_t end) {
    rows.push_back({role, begin, end});
  };
  forEachWeightRows({task, views.data(), plan.model.headDim}, emit);
  return rows;
}

// Over every task of the toy plans (both programs, and the MoE layer): the footprint
// names weights only, within their rows, at most kMaxWeightSpans of them, and lists the
// largest first (the CUDA kernel stages the start of spans[0] before the task waits).
TEST(TaskFootprint, StreamsWeightRowsOnlyLargestFirst) {
  for (const Plan &plan : {makeToyPlan(), makeToyMoePlan()}) {
    const std::vector<TensorView> views = viewsOf(plan);
    uint32_t withWeights = 0;
    for (const Program &program : plan.programs)
      for (const TaskRecord &task : program.tasks) {
        const char *kind = taskKindName(static_cast<TaskKind>(task.kind));
        const std::vector<Rows> rows = footprintOf(plan, views, task);
        ASSERT_LE(rows.size(), kMaxWeightSpans) << kind;
        withWeights += !rows.empty();
        for (const Rows &r : rows) {
          const uint16_t id = task.operand[r.role];
          EXPECT_EQ(plan.tensors[id].placement, Placement::Weight) << kind << " " << id;
          EXPECT_LE(0, r.begin) << kind;
          EXPECT_LT(r.begin, r.end) << kind;
          EXPECT_LE(r.end, plan.tensors[id].shape[0]) << kind;
          const TensorView &first = views[task.operand[rows[0].role]];
          EXPECT_GE((rows[0].end - rows[0].begin) * first.rowBytes(),
                    (r.end - r.begin) * views[id].rowBytes())
              << kind << ": spans[0] is not the main weight tile";
        }
      }
    EXPECT_GT(withWeights, 0u);
  }
}

TEST(TaskFootprint, QkvStreamsItsHeadsRowsOfWeightAndBias) {
  Plan plan = makeToyPlan();
  const uint32_t hd = plan.model.headDim;
  TaskRecord qkv = plan.programs[kDecode].tasks[kDK];
  ASSERT_EQ(qkv.kind, uint16_t(TaskKind::Qkv));
  // A bias operand (any weight with a row per output) joins the footprint.
  const uint16_t bias = tensorId(plan, "model.layers.0.input_layernorm.weight");
  qkv.operand[role(TaskKind::Qkv, "bias")] = bias;
  const std::vector<TensorView> views = viewsOf(plan);
  const std::vector<Rows> rows = footprintOf(plan, views, qkv);
  ASSERT_EQ(rows.size(), 3u);
  const int64_t n0 = qkv.range[1].begin * hd, n1 = qkv.range[1].end * hd;
  EXPECT_EQ(rows[0].role, role(TaskKind::Qkv, "w"));
  EXPECT_EQ(rows[0].begin, n0);
  EXPECT_EQ(rows[0].end, n1);
  EXPECT_EQ(rows[1].role, role(TaskKind::Qkv, "norm_w"));
  EXPECT_EQ(rows[2].role, role(TaskKind::Qkv, "bias"));
  EXPECT_EQ(rows[2].begin, n0);
  EXPECT_EQ(rows[2].end, n1);
}

TEST(TaskFootprint, RowSpanIsRowsTimesRowBytes) {
  alignas(8) static uint8_t bytes[4096];
  TensorView t;
  t.data = bytes;
  t.dtype = DType::F32;
  t.rank = 3;
  t.shape[0] = 8;
  t.shape[1] = 4;
  t.shape[2] = 2;
  const WeightSpan s = rowSpan(t, 3, 5);
  EXPECT_EQ(s.data, bytes + 3 * 4 * 2 * 4);
  EXPECT_EQ(s.bytes, 2u * 4 * 2 * 4);
  EXPECT_EQ(wholeSpan(t).bytes, 8u * 4 * 2 * 4);
  EXPECT_EQ(lateWeightRoles(TaskKind::Embedding),
            1u << role(TaskKind::Embedding, "table"));
  EXPECT_EQ(lateWeightRoles(TaskKind::Qkv), 0u);
  EXPECT_EQ(lateWeightRoles(TaskKind::MoeGateUp),
            (1u << role(TaskKind::MoeGateUp, "w_gate")) |
                (1u << role(TaskKind::MoeGateUp, "w_up")));
  EXPECT_EQ(lateWeightRoles(TaskKind::MoeDown), 1u << role(TaskKind::MoeDown, "w"));
  EXPECT_EQ(lateWeightRoles(TaskKind::MoeRouter), 0u);
  EXPECT_EQ(tileAxis(TaskKind::MoeRouter), TileAxis::Experts);
}

} // namespace
} // namespace mk::isa::test
