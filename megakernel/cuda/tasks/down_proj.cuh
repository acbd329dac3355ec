//===- down_proj.cuh - Down projection + residual add -----------------------===//
//
// See device/residual_projection.cuh for the shapes and the arithmetic (the host's
// tasks/down_proj.cpp).
//===----------------------------------------------------------------------===//
#pragma once

#include "device/residual_projection.cuh"
#include "task_context.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

__device__ inline void runDownProj(const TaskContext &ctx, const isa::TaskRecord &task) {
  runResidualProjection<isa::TaskKind::DownProj>(ctx, task);
}

__device__ inline uint32_t spansDownProj(const TaskContext &ctx,
                                         const isa::TaskRecord &task, WeightSpan *spans) {
  return residualProjectionSpans<isa::TaskKind::DownProj>(ctx, task, spans);
}

} // namespace mk::cuda::tasks
