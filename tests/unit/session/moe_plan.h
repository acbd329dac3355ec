//===- moe_plan.h - A compiled dense plan with its MLPs made MoE layers -----===//
//
// moeify() rewrites each layer's gate_up and down_proj tiles, in every program, into
// a MoE layer of the ISA (mk/isa/moe_routes.h): one moe_router that waits where the
// gate_up tiles waited, moe_gate_up tiles over (slot, half of I), moe_down tiles over
// (slot, the down tiles' column ranges) and one moe_combine tile per former down tile,
// with its waits (the gate_up event replaced by the moe_down event) and its signals,
// so the rest of the DAG is unchanged. The layer's activations are appended to the
// program's arena; the weights (router [E, H], then E gate, E up and E down experts of
// each layer) are appended to the tensor table with Hugging Face Qwen3-MoE names.
// The plan is verified by the caller. (The compiler builds these plans from the
// graph; this lets the runtime test MoE generation on its own.)
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"

#include <cstdint>

namespace mk::runtime::test {

struct MoeShape {
  uint32_t experts = 4, topK = 2, inter = 32;
  bool normTopkProb = true;
};

void moeify(isa::Plan &plan, const MoeShape &shape);

/// Weight bytes one step of `program` streams when `selected` experts per MoE layer
/// are selected: every task's static footprint, the rows the embedding gathers (all
/// of the program's rows) and the selected experts' gate, up and down weights.
uint64_t stepWeightBytes(const isa::Plan &plan, uint32_t program, uint32_t selected);

} // namespace mk::runtime::test
