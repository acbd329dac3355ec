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
#include <span>
#include <string>
#include <string_view>

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

/// A worker a watchdog found waiting: task `task` of step `step` on its wait `wait`,
/// whose event counter read `counter` and needs `target`.
struct StuckWorker {
  uint32_t worker = 0;
  uint32_t task = 0;
  uint64_t step = 0;
  uint32_t wait = 0;
  uint64_t counter = 0;
  uint64_t target = 0;
};

/// The hang report of either executor, one line: "decode: watchdog: <what>; worker 1
/// holds task 7 (qkv, layer 0) of step 0, waiting on event 3 'layer0.qkv': counter 0,
/// needs 2; worker ...".
std::string watchdogMessage(const Program &program, std::string_view what,
                            std::span<const StuckWorker> stuck);

} // namespace mk::isa
