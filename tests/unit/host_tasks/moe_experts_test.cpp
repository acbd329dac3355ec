//===- moe_experts_test.cpp - moe_gate_up and moe_down: one slot's rows -----===//
//
// The layer: 4 rows (row 2 inactive, rows 0 and 1 the same input), 8 experts, 2 per
// token, so only some of the 8 slots are used. The weights of every expert the router
// did not select are NaN after it ran: a tile that read one would put NaN into its
// output. Each tile's late weight regions (task_footprint.h) must be exactly its
// expert's rows of its columns, and nothing for a slot past the count.
//===----------------------------------------------------------------------===//
#include "moe_fixture.h"
#include "reference.h"

#include "mk/isa/task_footprint.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mk::host::test {
namespace {

struct Region {
  uint16_t tensor;
  int64_t r0, r1, e0, e1;
  bool operator==(const Region &) const = default;
};

std::vector<Region> lateRegions(const TaskBench &b, const isa::TaskRecord &task) {
  std::vector<Region> out;
  auto emit = [&](uint16_t t, int64_t r0, int64_t r1, int64_t e0, int64_t e1) {
    out.push_back({t, r0, r1, e0, e1});
  };
  const TaskContext ctx = b.context();
  isa::forEachLateWeight({task, ctx.tensors}, emit);
  return out;
}

std::vector<Region> staticRegions(const TaskBench &b, const isa::TaskRecord &task) {
  std::vector<Region> out;
  auto emit = [&](uint32_t role, int64_t r0, int64_t r1) {
    out.push_back({task.operand[role], r0, r1, 0, 0});
  };
  const TaskContext ctx = b.context();
  isa::forEachWeightRows({task, ctx.tensors, b.model.headDim}, emit);
  return out;
}

double silu(double g) { return g / (1.0 + std::exp(-g)); }

/// The layer after its router ran, with every unselected expert's weights set to NaN.
struct RoutedLayer {
  TaskBench b{testModel(4, 2, 16, 96)};
  MoeLayer l{b, {3, 7, -1, 1}, 8, 2, true, 96, 40};
  int32_t distinct = 0;

  RoutedLayer() {
    std::copy_n(b.data<bf16>(l.x), l.hidden, b.data<bf16>(l.x) + l.hidden);
    b.run(l.routerTask());
    const isa::ConstMoeRoutes routes = l.view(b);
    distinct = routes.numDistinct();
    std::vector<bool> used(l.experts, false);
    for (int32_t s = 0; s < distinct; ++s)
      used[routes.slotExpert(uint32_t(s))] = true;
    for (uint32_t e = 0; e < l.experts; ++e) {
      if (used[e])
        continue;
      for (uint16_t group : {l.gate, l.up, l.down}) {
        const uint16_t id = uint16_t(group + e);
        std::fill_n(b.data<bf16>(id), b.numElements(id), bf16{0x7FC0});
      }
    }
  }
};

TEST(MoeGateUp, MatchesFloat64ForUsedSlotsAndSkipsTheRest) {
  RoutedLayer f;
  TaskBench &b = f.b;
  const MoeLayer &l = f.l;
  ASSERT_GT(f.distinct, 1);
  ASSERT_LT(f.distinct, int32_t(l.slots)) << "the test needs unused slots";
  const isa::ConstMoeRoutes routes = l.view(b);
  const isa::Range cols{8, 40};
  b.poison(l.act);
  for (uint32_t s = 0; s < l.slots; ++s) {
    const isa::TaskRecord task = l.gateUpTask(s, cols);
    EXPECT_TRUE(staticRegions(b, task).empty()) << "nothing before the wait";
    const int32_t e = routes.expertOfSlot(s);
    const std::vector<Region> late = lateRegions(b, task);
    const TaskContext ctx = b.context();
    EXPECT_EQ(isa::taskExpert({task, ctx.tensors}), e) << "slot " << s;
    if (e < 0) {
      EXPECT_TRUE(late.empty()) << "slot " << s << " is past the count";
    } else {
      EXPECT_EQ(late, (std::vector<Region>{{uint16_t(l.gate + e), 8, 40, 0, l.hidden},
                                           {uint16_t(l.up + e), 8, 40, 0, l.hidden}}))
          << "slot " << s;
    }
    b.run(task);
  }
  EXPECT_TRUE(b.coverage(l.act, [&](int64_t i) {
    const int64_t s = i / (l.rows * l.inter), row = i / l.inter % l.rows, c = i % l.inter;
    return s < f.distinct && row < routes.slotRows(uint32_t(s)) && c >= cols.begin &&
           c < cols.end;
  }));
  std::vector<double> got, ref;
  for (int32_t s = 0; s < f.distinct; ++s) {
    const int32_t e = routes.slotExpert(uint32_t(s));
    for (int32_t i = 0; i < routes.slotRows(uint32_t(s)); ++i) {
      const int64_t row = int64_t(s) * l.rows + i;
      const std::vector<double> x =
          toDouble(b.data<bf16>(l.xg) + row * l.hidden, l.hidden);
      const std::vector<double> g =
          refMatVec(x, b.data<bf16>(uint16_t(l.gate + e)), cols.begin, cols.end);
      const std::vector<double> u =
          refMatVec(x, b.data<bf16>(uint16_t(l.up + e)), cols.begin, cols.end);
      for (uint32_t c = cols.begin; c < cols.end; ++c) {
        ref.push_back(silu(g[c - cols.begin]) * u[c - cols.begin]);
        got.push_back(b.at(l.act, row * l.inter + c));
      }
    }
  }
  EXPECT_LE(normalizedError(got, ref), 1e-2);
}

TEST(MoeDown, MatchesFloat64ForUsedSlotsAndSkipsTheRest) {
  RoutedLayer f;
  TaskBench &b = f.b;
  const MoeLayer &l = f.l;
  const isa::ConstMoeRoutes routes = l.view(b);
  for (uint32_t s = 0; s < l.slots; ++s)
    b.run(l.gateUpTask(s, {0, uint32_t(l.inter)}));
  const isa::Range cols{16, 96};
  b.poison(l.expertOut);
  for (uint32_t s = 0; s < l.slots; ++s) {
    const isa::TaskRecord task = l.downTask(s, cols);
    EXPECT_TRUE(staticRegions(b, task).empty()) << "nothing before the wait";
    const int32_t e = routes.expertOfSlot(s);
    const std::vector<Region> late = lateRegions(b, task);
    if (e < 0) {
      EXPECT_TRUE(late.empty()) << "slot " << s << " is past the count";
    } else {
      EXPECT_EQ(late, (std::vector<Region>{{uint16_t(l.down + e), 16, 96, 0, l.inter}}))
          << "slot " << s;
    }
    b.run(task);
  }
  EXPECT_TRUE(b.coverage(l.expertOut, [&](int64_t i) {
    const int64_t s = i / (l.rows * l.hidden), row = i / l.hidden % l.rows,
                  c = i % l.hidden;
    return s < f.distinct && row < routes.slotRows(uint32_t(s)) && c >= cols.begin &&
           c < cols.end;
  }));
  std::vector<double> got, ref;
  for (int32_t s = 0; s < f.distinct; ++s) {
    const int32_t e = routes.slotExpert(uint32_t(s));
    for (int32_t i = 0; i < routes.slotRows(uint32_t(s)); ++i) {
      const int64_t row = int64_t(s) * l.rows + i;
      const std::vector<double> a =
          toDouble(b.data<bf16>(l.act) + row * l.inter, l.inter);
      const std::vector<double> y =
          refMatVec(a, b.data<bf16>(uint16_t(l.down + e)), cols.begin, cols.end);
      for (uint32_t c = cols.begin; c < cols.end; ++c) {
        ref.push_back(y[c - cols.begin]);
        got.push_back(b.at(l.expertOut, row * l.hidden + c));
      }
    }
  }
  EXPECT_LE(normalizedError(got, ref), 1e-2);
}

// The router streams its whole weight and the norm weight before its wait, and
// nothing late; the combine streams nothing.
TEST(MoeFootprint, RouterStreamsItsWeightsCombineNothing) {
  RoutedLayer f;
  const MoeLayer &l = f.l;
  EXPECT_EQ(staticRegions(f.b, l.routerTask()),
            (std::vector<Region>{{l.router, 0, 8, 0, 0}, {l.normW, 0, l.hidden, 0, 0}}));
  EXPECT_TRUE(lateRegions(f.b, l.routerTask()).empty());
  EXPECT_TRUE(staticRegions(f.b, l.combineTask({0, 4}, {0, 96})).empty());
  EXPECT_TRUE(lateRegions(f.b, l.combineTask({0, 4}, {0, 96})).empty());
}

} // namespace
} // namespace mk::host::test
