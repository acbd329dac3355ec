//===- down_proj.cuh - Down projection + residual add -----------------------===//
//
// See tasks/residual_projection_task.cuh for the shapes and the arithmetic (the host's
// tasks/down_proj.h).
//===----------------------------------------------------------------------===//
#pragma once

#include "task_context.cuh"
#include "tasks/residual_projection_task.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

template <>
struct CudaTask<isa::TaskKind::DownProj>
    : ResidualProjectionTask<isa::TaskKind::DownProj> {};

} // namespace mk::cuda::tasks
