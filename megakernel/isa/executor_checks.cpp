//===- executor_checks.cpp - Checks and names both executors share ---------===//
#include "mk/isa/executor_checks.h"

namespace mk::isa {

std::string taskLabel(const TaskRecord &task, uint32_t index) {
  std::string s = "task " + std::to_string(index) + " (" +
                  (task.kind < kNumTaskKinds ? kTaskKindInfo[task.kind].name : "?");
  if (task.layer != kNoLayer)
    s += ", layer " + std::to_string(task.layer);
  return s + ")";
}

Status checkBindable(const Plan &plan, uint16_t id, const void *data) {
  if (id >= plan.tensors.size())
    return Status::error("bind: tensor " + std::to_string(id) + " is not in the plan (" +
                         std::to_string(plan.tensors.size()) + " tensors)");
  const TensorDesc &t = plan.tensors[id];
  if (t.placement == Placement::Activation)
    return Status::error("bind: tensor '" + t.name +
                         "' is an activation; the executor owns the arena");
  if (!data)
    return Status::error("bind: null memory for tensor '" + t.name + "'");
  return Status::ok();
}

Status checkLaunchable(const Plan &plan, uint32_t program, Executor executor,
                       const std::function<bool(uint16_t)> &isBound,
                       ImplementsFn implemented) {
  if (program >= plan.programs.size())
    return Status::error("launch: no program " + std::to_string(program));
  const Program &p = plan.programs[program];
  for (uint32_t i = 0; i < p.tasks.size(); ++i)
    if (p.tasks[i].kind >= kNumTaskKinds ||
        !implemented(static_cast<TaskKind>(p.tasks[i].kind), executor))
      return Status::error("launch: " + taskLabel(p.tasks[i], i) + " of program '" +
                           p.name + "' is of a kind the " + executorName(executor) +
                           " executor does not implement");
  for (const TaskRecord &r : p.tasks)
    for (uint32_t o = 0; o < r.numOperands && o < kMaxOperands; ++o)
      if (r.operand[o] != kNoTensor && r.operand[o] < plan.tensors.size() &&
          !isBound(r.operand[o]))
        return Status::error("launch: tensor '" + plan.tensors[r.operand[o]].name +
                             "' is used by program '" + p.name + "' but not bound");
  return Status::ok();
}

} // namespace mk::isa
