//===- o_proj.cpp - O projection + residual add ===//
//
// See residual_projection_task.h for the shapes and the arithmetic.
//===----------------------------------------------------------------------===//
#include "tasks/residual_projection_task.h"

namespace mk::host::tasks {

void runOProj(const TaskContext &ctx, const isa::TaskRecord &task) {
  runResidualProjection<isa::TaskKind::OProj>(ctx, task);
}

uint32_t spansOProj(const TaskContext &ctx, const isa::TaskRecord &task,
                    WeightSpan *spans) {
  return residualProjectionSpans<isa::TaskKind::OProj>(ctx, task, spans);
}

} // namespace mk::host::tasks
