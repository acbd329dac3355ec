//===- executor_checks.h - Checks and names both executors share ----------===//
//
// The host and CUDA executors accept the same bind() calls, refuse the same launches
// and name tasks the same way in their errors; the wording lives here once.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"
#include "mk/isa/status.h"

#include <cstdint>
#include <functional>
#include <string>

namespace mk::isa {

/// "task 12 (qkv, layer 3)": a task of a program, for error messages.
std::string taskLabel(const TaskRecord &task, uint32_t index);

/// Whether tensor `id` of `plan` may be bound to caller memory `data`: it exists, is
/// not an activation (the executor owns the arenas) and `data` is not null.
Status checkBindable(const Plan &plan, uint16_t id, const void *data);

/// Whether `executor` implements `kind`: isa::implements (the MK_TASK_KINDS column), or
/// another table in tests.
using ImplementsFn = bool (*)(TaskKind kind, Executor executor);

/// Whether program `program` may be launched on `executor`: it exists, `executor`
/// implements the kind of each of its tasks (the error names the first task it does
/// not), and `isBound(id)` holds for every tensor it uses (the error names the first
/// that is not bound).
Status checkLaunchable(const Plan &plan, uint32_t program, Executor executor,
                       const std::function<bool(uint16_t)> &isBound,
                       ImplementsFn implemented = &implements);

} // namespace mk::isa
