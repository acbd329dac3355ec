//===- executor_checks.cpp - Checks and names both executors share ---------===//
#include "mk/isa/executor_checks.h"

#include "mk/isa/message_text.h"
#include "mk/isa/task_footprint.h"

#include <algorithm>
#include <vector>

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
    return Status::error("bind: tensor " + quote(t.name) +
                         " is an activation; the executor owns the arena");
  if (!data)
    return Status::error("bind: null memory for tensor " + quote(t.name));
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
      return Status::error("launch: " + taskLabel(p.tasks[i], i) + " of program " +
                           quote(p.name) + " is of a kind the " + executorName(executor) +
                           " executor does not implement");
  // Every tensor a task may touch, each checked once: an expert group operand names
  // expert 0, and a tile may read any expert of the group.
  std::vector<bool> used(plan.tensors.size(), false);
  for (const TaskRecord &r : p.tasks) {
    const uint32_t groups = expertGroupRoles(static_cast<TaskKind>(r.kind));
    for (uint32_t o = 0; o < r.numOperands && o < kMaxOperands; ++o) {
      if (r.operand[o] == kNoTensor)
        continue;
      const uint32_t count = (groups >> o) & 1 ? plan.model.numExperts : 1;
      for (uint32_t id = r.operand[o]; id < r.operand[o] + count && id < used.size();
           ++id)
        used[id] = true;
    }
  }
  for (uint32_t id = 0; id < used.size(); ++id)
    if (used[id] && !isBound(uint16_t(id)))
      return Status::error("launch: tensor " + quote(plan.tensors[id].name) +
                           " is used by program " + quote(p.name) + " but not bound");
  return Status::ok();
}

std::string watchdogMessage(const Program &program, std::string_view what,
                            std::span<const StuckWorker> stuck) {
  std::string out = printable(program.name) + ": watchdog: ";
  out += what;
  for (const StuckWorker &s : stuck) {
    out += "; worker " + std::to_string(s.worker) + " holds ";
    if (s.task >= program.tasks.size()) {
      out += "task " + std::to_string(s.task) + ", which is not in the program";
      continue;
    }
    const TaskRecord &r = program.tasks[s.task];
    const Wait &w = r.wait[std::min<uint32_t>(s.wait, kMaxWaits - 1)];
    out += taskLabel(r, s.task) + " of step " + std::to_string(s.step) +
           ", waiting on event " + std::to_string(w.event);
    if (w.event < program.events.size())
      out += " " + quote(program.events[w.event].name);
    out +=
        ": counter " + std::to_string(s.counter) + ", needs " + std::to_string(s.target);
  }
  return out;
}

} // namespace mk::isa
