//===- moe_plan.cpp - A compiled dense plan with its MLPs made MoE layers ---===//
#include "moe_plan.h"

#include "mk/isa/moe_routes.h"
#include "mk/isa/task_footprint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace mk::runtime::test {

namespace {

using isa::TaskKind;

uint16_t addTensor(isa::Plan &plan, std::string name, isa::DType dtype,
                   isa::Placement placement, std::initializer_list<int64_t> shape,
                   uint16_t layer) {
  isa::TensorDesc t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.placement = placement;
  t.rank = uint32_t(shape.size());
  std::copy(shape.begin(), shape.end(), t.shape);
  t.layer = layer;
  plan.tensors.push_back(std::move(t));
  return uint16_t(plan.tensors.size() - 1);
}

/// A task record of `kind` with `operands` in role order.
isa::TaskRecord record(TaskKind kind, uint16_t layer,
                       std::initializer_list<uint16_t> operands, isa::Range r0,
                       isa::Range r1, isa::Range r2) {
  isa::TaskRecord r;
  std::memset(&r, 0, sizeof r);
  r.kind = uint16_t(kind);
  r.layer = layer;
  r.range[0] = r0;
  r.range[1] = r1;
  r.range[2] = r2;
  std::fill(std::begin(r.operand), std::end(r.operand), isa::kNoTensor);
  for (uint16_t op : operands)
    r.operand[r.numOperands++] = op;
  return r;
}

void setWaits(isa::TaskRecord &r, std::initializer_list<uint32_t> events) {
  r.numWaits = 0;
  for (uint32_t e : events)
    r.wait[r.numWaits++] = {e, 0, 0, 0};
}

struct LayerWeights {
  uint16_t router, gate, up, down;
};

template <TaskKind K> uint16_t operandOf(const isa::TaskRecord &r, const char *name) {
  return r.operand[isa::roleIndex(K, name)];
}

void moeifyProgram(isa::Plan &plan, uint32_t pi, const MoeShape &shape,
                   const std::map<uint16_t, LayerWeights> &weights) {
  isa::Program &prog = plan.programs[pi];
  const uint32_t R = prog.rows, E = shape.experts, K = shape.topK;
  const uint32_t S = isa::moeSlots(E, R, K);
  const int64_t H = plan.model.hiddenSize, I = shape.inter;
  uint16_t positions = isa::kNoTensor;
  for (size_t i = 0; i < plan.tensors.size(); ++i)
    if (plan.tensors[i].name == prog.name + ".positions")
      positions = uint16_t(i);
  ASSERT_NE(positions, isa::kNoTensor);

  std::vector<isa::TaskRecord> tasks;
  std::vector<uint32_t> newIndex(prog.tasks.size(), UINT32_MAX);
  for (uint32_t t = 0; t < prog.tasks.size(); ++t) {
    const auto kind = TaskKind(prog.tasks[t].kind);
    if (kind != TaskKind::GateUp && kind != TaskKind::DownProj) {
      newIndex[t] = uint32_t(tasks.size());
      tasks.push_back(prog.tasks[t]);
    }
  }
  // Per layer: the tasks replacing the first gate_up tile, the first down tile, and
  // each down tile (its combine).
  std::map<uint32_t, std::vector<uint32_t>> insertAt; // old task -> new tasks
  for (const auto &[layer, w] : weights) {
    std::vector<uint32_t> gateUps, downs;
    for (uint32_t t = 0; t < prog.tasks.size(); ++t) {
      if (prog.tasks[t].layer != layer)
        continue;
      if (prog.tasks[t].kind == uint16_t(TaskKind::GateUp))
        gateUps.push_back(t);
      if (prog.tasks[t].kind == uint16_t(TaskKind::DownProj))
        downs.push_back(t);
    }
    ASSERT_FALSE(gateUps.empty());
    ASSERT_FALSE(downs.empty());
    auto position = [&](uint32_t t) {
      return std::find(prog.order.begin(), prog.order.end(), t) - prog.order.begin();
    };
    std::sort(gateUps.begin(), gateUps.end(),
              [&](uint32_t a, uint32_t b) { return position(a) < position(b); });
    std::sort(downs.begin(), downs.end(),
              [&](uint32_t a, uint32_t b) { return position(a) < position(b); });
    const isa::TaskRecord &gu = prog.tasks[gateUps[0]];
    ASSERT_EQ(gu.numSignals, 1);
    const uint32_t evGateUp = gu.signal[0];

    // Activations, appended to the arena.
    const std::string prefix = prog.name + ".l" + std::to_string(layer) + ".";
    auto activation = [&](const char *name, isa::DType dtype,
                          std::initializer_list<int64_t> dims) {
      const uint16_t id =
          addTensor(plan, prefix + name, dtype, isa::Placement::Activation, dims, layer);
      isa::TensorDesc &t = plan.tensors[id];
      t.program = uint16_t(pi);
      t.offset = (prog.arenaBytes + 15) / 16 * 16;
      prog.arenaBytes = t.offset + t.bytes();
      return id;
    };
    const uint16_t xg = activation("moe_xg", isa::DType::BF16, {S, R, H});
    const uint16_t routes = activation("moe_routes", isa::DType::I32,
                                       {int64_t(isa::moeRoutesLength(R, K, S))});
    const uint16_t rw = activation("moe_route_weights", isa::DType::F32, {R, K});
    const uint16_t act = activation("moe_act", isa::DType::BF16, {S, R, I});
    const uint16_t eo = activation("moe_expert_out", isa::DType::BF16, {S, R, H});

    const uint32_t evGate = uint32_t(prog.events.size());
    prog.events.push_back({prefix + "moe_gate_up", 0});
    const uint32_t evDown = uint32_t(prog.events.size());
    prog.events.push_back({prefix + "moe_down", 0});

    // The router reads what gate_up read and signals its event in its stead.
    const uint16_t x = operandOf<TaskKind::GateUp>(gu, "x");
    const uint16_t norm = operandOf<TaskKind::GateUp>(gu, "norm_w");
    isa::TaskRecord router =
        record(TaskKind::MoeRouter, layer, {x, norm, w.router, positions, xg, routes, rw},
               {0, R}, {0, E}, {0, 0});
    router.numWaits = gu.numWaits;
    std::copy(gu.wait, gu.wait + gu.numWaits, router.wait);
    router.signal[router.numSignals++] = evGateUp;
    router.costBytes = uint64_t(E + 1) * H * 2;
    std::vector<uint32_t> &first = insertAt[gateUps[0]];
    first.push_back(uint32_t(tasks.size()));
    tasks.push_back(router);
    for (uint32_t s = 0; s < S; ++s)
      for (int64_t c = 0; c < I; c += I / 2) {
        isa::TaskRecord r =
            record(TaskKind::MoeGateUp, layer, {xg, routes, w.gate, w.up, act}, {0, R},
                   {uint32_t(c), uint32_t(c + I / 2)}, {s, s + 1});
        setWaits(r, {evGateUp});
        r.signal[r.numSignals++] = evGate;
        r.costBytes = uint64_t(I) * H * 2;
        first.push_back(uint32_t(tasks.size()));
        tasks.push_back(r);
      }
    std::vector<uint32_t> &downAt = insertAt[downs[0]];
    for (uint32_t s = 0; s < S; ++s)
      for (uint32_t d : downs) {
        isa::TaskRecord r = record(TaskKind::MoeDown, layer, {act, routes, w.down, eo},
                                   {0, R}, prog.tasks[d].range[1], {s, s + 1});
        setWaits(r, {evGate});
        r.signal[r.numSignals++] = evDown;
        r.costBytes =
            uint64_t(prog.tasks[d].range[1].end - prog.tasks[d].range[1].begin) * I * 2;
        downAt.push_back(uint32_t(tasks.size()));
        tasks.push_back(r);
      }
    for (uint32_t d : downs) {
      const isa::TaskRecord &old = prog.tasks[d];
      isa::TaskRecord r =
          record(TaskKind::MoeCombine, layer,
                 {eo, routes, rw, operandOf<TaskKind::DownProj>(old, "residual"),
                  operandOf<TaskKind::DownProj>(old, "out")},
                 {0, R}, old.range[1], {0, 0});
      r.numWaits = old.numWaits;
      for (uint32_t i = 0; i < old.numWaits; ++i) {
        r.wait[i] = old.wait[i];
        if (r.wait[i].event == evGateUp && r.wait[i].stepBack == 0)
          r.wait[i].event = evDown;
      }
      r.numSignals = old.numSignals;
      std::copy(old.signal, old.signal + old.numSignals, r.signal);
      insertAt[d].push_back(uint32_t(tasks.size()));
      tasks.push_back(r);
    }
  }
  std::vector<uint32_t> order;
  for (uint32_t t : prog.order) {
    if (auto it = insertAt.find(t); it != insertAt.end())
      order.insert(order.end(), it->second.begin(), it->second.end());
    if (newIndex[t] != UINT32_MAX)
      order.push_back(newIndex[t]);
  }
  prog.tasks = std::move(tasks);
  prog.order = std::move(order);
  // Counts: producers per step, and every wait's.
  for (isa::EventDesc &e : prog.events)
    e.count = 0;
  for (const isa::TaskRecord &r : prog.tasks)
    for (uint32_t s = 0; s < r.numSignals; ++s)
      ++prog.events[r.signal[s]].count;
  for (isa::TaskRecord &r : prog.tasks)
    for (uint32_t w = 0; w < r.numWaits; ++w)
      r.wait[w].count = uint16_t(prog.events[r.wait[w].event].count);
}

} // namespace

void moeify(isa::Plan &plan, const MoeShape &shape) {
  isa::ModelMeta &m = plan.model;
  m.numExperts = shape.experts;
  m.numExpertsPerTok = shape.topK;
  m.normTopkProb = shape.normTopkProb;
  m.moeIntermediateSize = shape.inter;
  const int64_t H = m.hiddenSize, I = shape.inter, E = shape.experts;
  std::map<uint16_t, LayerWeights> weights;
  for (uint16_t layer = 0; layer < m.numLayers; ++layer) {
    const std::string base = "model.layers." + std::to_string(layer) + ".mlp.";
    const auto W = isa::Placement::Weight;
    const auto bf = isa::DType::BF16;
    LayerWeights w;
    w.router = addTensor(plan, base + "gate.weight", bf, W, {E, H}, layer);
    auto group = [&](const char *proj, std::initializer_list<int64_t> dims) {
      const uint16_t first = uint16_t(plan.tensors.size());
      for (int64_t e = 0; e < E; ++e)
        addTensor(plan, base + "experts." + std::to_string(e) + "." + proj + ".weight",
                  bf, W, dims, layer);
      return first;
    };
    w.gate = group("gate_proj", {I, H});
    w.up = group("up_proj", {I, H});
    w.down = group("down_proj", {H, I});
    weights[layer] = w;
  }
  for (uint32_t p = 0; p < plan.programs.size(); ++p)
    moeifyProgram(plan, p, shape, weights);
}

uint64_t stepWeightBytes(const isa::Plan &plan, uint32_t program, uint32_t selected) {
  std::vector<isa::TensorView> views(plan.tensors.size());
  for (size_t i = 0; i < views.size(); ++i) {
    views[i].dtype = plan.tensors[i].dtype;
    views[i].rank = plan.tensors[i].rank;
    std::copy(plan.tensors[i].shape, plan.tensors[i].shape + isa::kMaxRank,
              views[i].shape);
  }
  const isa::ModelMeta &m = plan.model;
  const uint64_t expertBytes = 3 * uint64_t(m.moeIntermediateSize) * m.hiddenSize * 2;
  uint64_t bytes = 0;
  for (const isa::TaskRecord &r : plan.programs[program].tasks) {
    auto emit = [&](uint32_t role, int64_t begin, int64_t end) {
      bytes += uint64_t(end - begin) * views[r.operand[role]].rowBytes();
    };
    isa::forEachWeightRows({r, views.data(), m.headDim}, emit);
    if (r.kind == uint16_t(TaskKind::Embedding))
      bytes += uint64_t(r.range[0].end - r.range[0].begin) *
               (r.range[1].end - r.range[1].begin) * 2;
    if (r.kind == uint16_t(TaskKind::MoeRouter))
      bytes += selected * expertBytes;
  }
  return bytes;
}

} // namespace mk::runtime::test
