//===- test_plan.h - Small hand-built plans for the runtime tests ---------===//
//
// makeWeightsPlan(): the tensor table of a one-layer model (vocab 40, hidden 16,
// intermediate 24, 2 KV heads of dim 4, 6 KV blocks of 4 tokens) with the weight names
// of a Hugging Face Llama checkpoint, its KV caches and one activation; no programs
// (the host executor can still bind it). makeTracePlan(): one decode program with a
// few tasks and events, for the trace tests.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"

#include <cstdint>
#include <initializer_list>
#include <string>

namespace mk::runtime::test {

inline constexpr int64_t kVocab = 40, kHidden = 16, kInter = 24, kKvHeads = 2,
                         kHeadDim = 4, kBlocks = 6, kBlockSize = 4;

uint16_t addTensor(isa::Plan &plan, std::string name, isa::Placement placement,
                   std::initializer_list<int64_t> shape,
                   isa::DType dtype = isa::DType::BF16);
uint16_t tensorId(const isa::Plan &plan, const std::string &name);

isa::Plan makeWeightsPlan();
isa::Plan makeTracePlan();

} // namespace mk::runtime::test
