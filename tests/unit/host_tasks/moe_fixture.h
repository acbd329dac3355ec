//===- moe_fixture.h - One MoE layer's tensors and tasks on a TaskBench ----===//
//
// The tensors of moe_router -> moe_gate_up -> moe_down -> moe_combine
// (mk/isa/moe_routes.h) with random non-zero inputs and weights; each expert group is
// E consecutive tensors (expert e = the operand + e). The bench's model gets the
// layer's E, k and normTopkProb.
//===----------------------------------------------------------------------===//
#pragma once

#include "task_bench.h"

#include "mk/isa/moe_routes.h"

#include <algorithm>
#include <vector>

namespace mk::host::test {

struct MoeLayer {
  uint32_t rows, experts, topK, slots;
  int64_t hidden, inter;
  uint16_t x, normW, router, positions, xg, routes, routeWeights;
  uint16_t gate, up, act, down, expertOut, residual, out; // gate/up/down: expert 0

  /// positions: one per row, -1 for an inactive row.
  MoeLayer(TaskBench &b, const std::vector<int32_t> &rowPositions, uint32_t numExperts,
           uint32_t k, bool normTopkProb, int64_t hiddenSize, int64_t interSize)
      : rows(uint32_t(rowPositions.size())), experts(numExperts), topK(k),
        slots(isa::moeSlots(numExperts, rows, k)), hidden(hiddenSize), inter(interSize) {
    b.model.numExperts = experts;
    b.model.numExpertsPerTok = topK;
    b.model.normTopkProb = normTopkProb;
    b.model.hiddenSize = uint32_t(hidden);
    b.model.moeIntermediateSize = uint32_t(inter);
    const int64_t R = rows, S = slots;
    x = b.randomBf16({R, hidden}, 2.0f);
    normW = b.randomBf16({hidden});
    router = b.randomBf16({int64_t(experts), hidden}, 0.3f);
    positions = b.i32({R}, rowPositions);
    xg = b.add(isa::DType::BF16, {S, R, hidden});
    routes = b.add(isa::DType::I32, {int64_t(isa::moeRoutesLength(rows, topK, slots))});
    routeWeights = b.add(isa::DType::F32, {R, int64_t(topK)});
    gate = group(b, {inter, hidden}, 0.3f);
    up = group(b, {inter, hidden}, 0.3f);
    act = b.add(isa::DType::BF16, {S, R, inter});
    down = group(b, {hidden, inter}, 0.3f);
    expertOut = b.add(isa::DType::BF16, {S, R, hidden});
    residual = b.randomBf16({R, hidden});
    out = b.add(isa::DType::BF16, {R, hidden});
  }

  isa::TaskRecord routerTask() const {
    return makeTask(isa::TaskKind::MoeRouter,
                    {x, normW, router, positions, xg, routes, routeWeights}, {0, rows},
                    {0, experts});
  }
  isa::TaskRecord gateUpTask(uint32_t slot, isa::Range cols) const {
    return makeTask(isa::TaskKind::MoeGateUp, {xg, routes, gate, up, act}, {0, rows},
                    cols, {slot, slot + 1});
  }
  isa::TaskRecord downTask(uint32_t slot, isa::Range cols) const {
    return makeTask(isa::TaskKind::MoeDown, {act, routes, down, expertOut}, {0, rows},
                    cols, {slot, slot + 1});
  }
  isa::TaskRecord combineTask(isa::Range rowRange, isa::Range cols) const {
    return makeTask(isa::TaskKind::MoeCombine,
                    {expertOut, routes, routeWeights, residual, out}, rowRange, cols);
  }

  /// Runs the layer: the router, every (slot, column tile) of gate_up and down, and
  /// the combine's column tiles; `tile` columns per tile.
  void run(const TaskBench &b, uint32_t tile) const {
    b.run(routerTask());
    for (uint32_t s = 0; s < slots; ++s)
      for (uint32_t c = 0; c < inter; c += tile)
        b.run(gateUpTask(s, {c, std::min<uint32_t>(uint32_t(inter), c + tile)}));
    for (uint32_t s = 0; s < slots; ++s)
      for (uint32_t c = 0; c < hidden; c += tile)
        b.run(downTask(s, {c, std::min<uint32_t>(uint32_t(hidden), c + tile)}));
    for (uint32_t c = 0; c < hidden; c += tile)
      b.run(combineTask({0, rows}, {c, std::min<uint32_t>(uint32_t(hidden), c + tile)}));
  }

  isa::ConstMoeRoutes view(const TaskBench &b) const {
    return {b.data<int32_t>(routes), rows, topK, slots};
  }

private:
  uint16_t group(TaskBench &b, std::initializer_list<int64_t> shape, float scale) {
    const uint16_t first = b.randomBf16(shape, scale);
    for (uint32_t e = 1; e < experts; ++e)
      b.randomBf16(shape, scale);
    return first;
  }
};

} // namespace mk::host::test
