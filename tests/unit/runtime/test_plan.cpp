//===- test_plan.cpp - Small hand-built plans for the runtime tests -------===//
#include "test_plan.h"

#include <gtest/gtest.h>

#include <cstring>

namespace mk::runtime::test {

using isa::Placement;

uint16_t addTensor(isa::Plan &plan, std::string name, Placement placement,
                   std::initializer_list<int64_t> shape, isa::DType dtype) {
  isa::TensorDesc t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.placement = placement;
  t.rank = uint32_t(shape.size());
  uint32_t i = 0;
  for (int64_t d : shape)
    t.shape[i++] = d;
  plan.tensors.push_back(std::move(t));
  return uint16_t(plan.tensors.size() - 1);
}

uint16_t tensorId(const isa::Plan &plan, const std::string &name) {
  for (size_t i = 0; i < plan.tensors.size(); ++i)
    if (plan.tensors[i].name == name)
      return uint16_t(i);
  ADD_FAILURE() << "no tensor " << name;
  return isa::kNoTensor;
}

isa::Plan makeWeightsPlan() {
  isa::Plan plan;
  plan.model.family = "llama";
  plan.model.vocabSize = kVocab;
  plan.model.hiddenSize = kHidden;
  plan.model.intermediateSize = kInter;
  plan.model.numLayers = 1;
  plan.model.numHeads = 4;
  plan.model.numKvHeads = kKvHeads;
  plan.model.headDim = kHeadDim;
  plan.model.kvBlockSize = kBlockSize;
  addTensor(plan, "model.embed_tokens.weight", Placement::Weight, {kVocab, kHidden});
  addTensor(plan, "model.layers.0.input_layernorm.weight", Placement::Weight, {kHidden});
  addTensor(plan, "model.layers.0.mlp.up_proj.weight", Placement::Weight,
            {kInter, kHidden});
  addTensor(plan, "model.norm.weight", Placement::Weight, {kHidden});
  addTensor(plan, "lm_head.weight", Placement::Weight, {kVocab, kHidden});
  addTensor(plan, "kv.l0.k", Placement::KvCache,
            {kBlocks, kBlockSize, kKvHeads, kHeadDim});
  addTensor(plan, "kv.l0.v", Placement::KvCache,
            {kBlocks, kBlockSize, kKvHeads, kHeadDim});
  addTensor(plan, "decode.h", Placement::Activation, {2, kHidden});
  addTensor(plan, "decode.tokens", Placement::StepState, {2}, isa::DType::I32);
  return plan;
}

isa::Plan makeTracePlan() {
  isa::Plan plan = makeWeightsPlan();
  isa::Program p;
  p.name = "decode";
  p.kind = isa::ProgramKind::Decode;
  p.rows = 2;
  p.events = {{"emb", 1}, {"qkv.l0", 2}};
  auto task = [&](isa::TaskKind kind, uint16_t layer, isa::Range r0, isa::Range r1,
                  std::initializer_list<isa::Wait> waits) {
    isa::TaskRecord r;
    std::memset(&r, 0, sizeof r);
    r.kind = uint16_t(kind);
    r.layer = layer;
    r.range[0] = r0;
    r.range[1] = r1;
    r.range[2] = {0, 0};
    for (uint16_t &op : r.operand)
      op = isa::kNoTensor;
    for (const isa::Wait &w : waits)
      r.wait[r.numWaits++] = w;
    p.tasks.push_back(r);
  };
  task(isa::TaskKind::Embedding, isa::kNoLayer, {0, 2}, {0, 16}, {});
  task(isa::TaskKind::Qkv, 0, {0, 2}, {0, 4}, {{0, 1, 0, 0}});
  task(isa::TaskKind::Qkv, 0, {0, 2}, {4, 6}, {{0, 1, 0, 0}});
  task(isa::TaskKind::AttnDecode, 0, {0, 2}, {0, 1}, {{1, 2, 0, 0}});
  p.order = {0, 1, 2, 3};
  plan.programs.push_back(std::move(p));
  return plan;
}

} // namespace mk::runtime::test
