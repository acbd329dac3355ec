//===- task_context.cpp - Kernel table, prefetch and context binding ------===//
#include "mk/host/task_context.h"

#include "tasks/task_impls.h"

#include <string>

namespace mk::host {

namespace {

constexpr TaskFn kRun[] = {
#define MK_X(Enum, ...) &tasks::run##Enum,
    MK_TASK_KINDS(MK_X)
#undef MK_X
};
static_assert(std::size(kRun) == isa::kNumTaskKinds);

using SpansFn = uint32_t (*)(const TaskContext &, const isa::TaskRecord &, WeightSpan *);
constexpr SpansFn kSpans[] = {
#define MK_X(Enum, ...) &tasks::spans##Enum,
    MK_TASK_KINDS(MK_X)
#undef MK_X
};
static_assert(std::size(kSpans) == isa::kNumTaskKinds);

constexpr size_t kCacheLine = 64;

} // namespace

TaskFn taskFunction(isa::TaskKind kind) {
  const auto k = static_cast<uint32_t>(kind);
  return k < isa::kNumTaskKinds ? kRun[k] : nullptr;
}

uint32_t taskWeightSpans(const TaskContext &ctx, const isa::TaskRecord &task,
                         WeightSpan (&spans)[kMaxWeightSpans]) {
  if (task.kind >= isa::kNumTaskKinds)
    return 0;
  return kSpans[task.kind](ctx, task, spans);
}

void prefetchTask(const TaskContext &ctx, const isa::TaskRecord &task) {
  WeightSpan spans[kMaxWeightSpans];
  const uint32_t n = taskWeightSpans(ctx, task, spans);
  for (uint32_t i = 0; i < n; ++i) {
    const char *p = static_cast<const char *>(spans[i].data);
    for (size_t off = 0; off < spans[i].bytes; off += kCacheLine)
      __builtin_prefetch(p + off, /*rw=*/0, /*locality=*/2);
  }
}

uint16_t findTensor(const isa::Plan &plan, std::string_view name) {
  for (size_t i = 0; i < plan.tensors.size() && i < isa::kNoTensor; ++i)
    if (plan.tensors[i].name == name)
      return static_cast<uint16_t>(i);
  return isa::kNoTensor;
}

TaskContext makeTaskContext(const isa::Plan &plan, uint32_t programIndex,
                            const TensorRef *tensors, uint32_t numTensors,
                            uint64_t step) {
  TaskContext ctx;
  ctx.model = &plan.model;
  assert(programIndex < plan.programs.size() && "program index out of range");
  ctx.program = &plan.programs[programIndex];
  ctx.tensors = tensors;
  ctx.numTensors = numTensors;
  ctx.step = step;
  return ctx;
}

} // namespace mk::host
