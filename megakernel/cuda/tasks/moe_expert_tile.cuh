//===- moe_expert_tile.cuh - What a MoE expert tile reads of its routes ---===//
//
// moe_gate_up and moe_down tiles (tasks/moe_gate_up.cuh, tasks/moe_down.cuh) serve
// expert slot s = range[2].begin of their layer's routes (mk/isa/moe_routes.h): the
// expert e = slotExpert[s] (-1 when s is past the count D) and its rows [0, n_s) of
// the slot's activations, which the router wrote contiguously ([Smax, R, K] tensors:
// slot s's rows are the [R, K] matrix at s R K), so the projection engine runs on them
// as on a dense tile with rows [0, n_s). A slot past the count has no rows: the engine
// returns at once and no byte of any expert is read. Only after the task's wait: the
// routes are the router's output.
//===----------------------------------------------------------------------===//
#pragma once

#include "task_context.cuh"

#include "mk/isa/moe_routes.h"
#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

/// The slot of a tile of kind Kind, and what the router wrote for it.
template <isa::TaskKind Kind> struct MoeSlot {
  uint32_t slot;
  int32_t expert; // -1: past the count
  uint32_t rows;  // n_s (0 past the count)

  __device__ MoeSlot(const TaskContext &ctx, const isa::TaskRecord &task) {
    const DeviceTensor &out = ctx.tensor(task, role(Kind, "out")); // [Smax, R, N]
    const isa::ConstMoeRoutes routes{ctx.data<const int32_t>(task, role(Kind, "routes")),
                                     uint32_t(out.shape[1]), ctx.model->numExpertsPerTok,
                                     uint32_t(out.shape[0])};
    slot = task.range[2].begin;
    expert = routes.expertOfSlot(slot);
    rows = expert >= 0 ? uint32_t(routes.slotRows(slot)) : 0;
  }

  /// Tensor id of the slot's expert in the expert group named by operand `group`.
  __device__ uint16_t weight(const isa::TaskRecord &task, uint32_t group) const {
    return uint16_t(task.operand[group] + expert);
  }
};

} // namespace mk::cuda::tasks
