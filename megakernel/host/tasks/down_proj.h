//===- down_proj.h - Down projection + residual add ===//
//
// See residual_projection_task.h for the shapes and the arithmetic.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/residual_projection_task.h"

namespace mk::host::tasks {

template <> struct HostTask<isa::TaskKind::DownProj> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task) {
    runResidualProjection<isa::TaskKind::DownProj>(ctx, task);
  }
};

} // namespace mk::host::tasks
