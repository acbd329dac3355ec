//===- down_proj.cpp - Down projection + residual add ===//
//
// See residual_projection_task.h for the shapes and the arithmetic.
//===----------------------------------------------------------------------===//
#include "tasks/residual_projection_task.h"

namespace mk::host::tasks {

void runDownProj(const TaskContext &ctx, const isa::TaskRecord &task) {
  runResidualProjection<isa::TaskKind::DownProj>(ctx, task);
}

uint32_t spansDownProj(const TaskContext &ctx, const isa::TaskRecord &task,
                       WeightSpan *spans) {
  return residualProjectionSpans<isa::TaskKind::DownProj>(ctx, task, spans);
}

} // namespace mk::host::tasks
