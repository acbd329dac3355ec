//===- down_proj.cuh - Down projection + residual add -----------------------===//
//
// See tasks/residual_projection_task.cuh for the shapes and the arithmetic (the host's
// tasks/down_proj.cpp).
//===----------------------------------------------------------------------===//
#pragma once

#include "task_context.cuh"
#include "tasks/residual_projection_task.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

__device__ inline ProjectionWork projectionDownProj(const TaskContext &ctx,
                                                    const isa::TaskRecord &task) {
  return residualProjectionWork<isa::TaskKind::DownProj>(ctx, task);
}

__device__ inline const bf16 *columnRowDownProj(const TaskContext &ctx,
                                                const isa::TaskRecord &task,
                                                uint32_t unit0, uint32_t units,
                                                uint32_t j) {
  return residualProjectionColumnRow<isa::TaskKind::DownProj>(ctx, task, unit0, units, j);
}

__device__ inline void epilogueDownProj(const TaskContext &ctx,
                                        const isa::TaskRecord &task,
                                        const ProjectionPass &p) {
  residualProjectionEpilogue<isa::TaskKind::DownProj>(ctx, task, p);
}

__device__ inline uint32_t spansDownProj(const TaskContext &ctx,
                                         const isa::TaskRecord &task, WeightSpan *spans) {
  return residualProjectionSpans<isa::TaskKind::DownProj>(ctx, task, spans);
}

} // namespace mk::cuda::tasks
