//===- o_proj.cuh - O projection + residual add -----------------------------===//
//
// See tasks/residual_projection_task.cuh for the shapes and the arithmetic (the host's
// tasks/o_proj.cpp).
//===----------------------------------------------------------------------===//
#pragma once

#include "task_context.cuh"
#include "tasks/residual_projection_task.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

__device__ inline ProjectionWork projectionOProj(const TaskContext &ctx,
                                                 const isa::TaskRecord &task) {
  return residualProjectionWork<isa::TaskKind::OProj>(ctx, task);
}

__device__ inline const bf16 *columnRowOProj(const TaskContext &ctx,
                                             const isa::TaskRecord &task, uint32_t unit0,
                                             uint32_t units, uint32_t j) {
  return residualProjectionColumnRow<isa::TaskKind::OProj>(ctx, task, unit0, units, j);
}

__device__ inline void epilogueOProj(const TaskContext &ctx, const isa::TaskRecord &task,
                                     const ProjectionPass &p) {
  residualProjectionEpilogue<isa::TaskKind::OProj>(ctx, task, p);
}

__device__ inline uint32_t spansOProj(const TaskContext &ctx, const isa::TaskRecord &task,
                                      WeightSpan *spans) {
  return residualProjectionSpans<isa::TaskKind::OProj>(ctx, task, spans);
}

} // namespace mk::cuda::tasks
