//===- task_context.cpp - Kernel table, prefetch and context binding ------===//
//
// The one translation unit that sees every host task kind: the kernel table is
// generated from MK_TASK_KINDS, so each kind the table gives the host must have its
// HostTask specialization included here.
//===----------------------------------------------------------------------===//
#include "mk/host/task_context.h"

#include "tasks/all_gather.h"
#include "tasks/all_reduce.h"
#include "tasks/argmax.h"
#include "tasks/attn_decode.h"
#include "tasks/attn_merge.h"
#include "tasks/attn_prefill.h"
#include "tasks/down_proj.h"
#include "tasks/embedding.h"
#include "tasks/gate_up.h"
#include "tasks/lm_head.h"
#include "tasks/moe_combine.h"
#include "tasks/moe_down.h"
#include "tasks/moe_gate_up.h"
#include "tasks/moe_router.h"
#include "tasks/o_proj.h"
#include "tasks/qkv.h"
#include "tasks/task_impls.h"

#include <string>

namespace mk::host {

namespace {

/// The kernel of K. Naming HostTask<K> needs its specialization: a kind the table
/// gives the host without one is a compile error here (incomplete type).
template <isa::TaskKind K> constexpr TaskFn hostKernel() {
  if constexpr (isa::implements(K, isa::Executor::Host))
    return &tasks::HostTask<K>::run;
  else
    return nullptr; // isa::checkLaunchable refuses plans with the kind
}

constexpr TaskFn kRun[] = {
#define MK_X(Enum, ...) hostKernel<isa::TaskKind::Enum>(),
    MK_TASK_KINDS(MK_X)
#undef MK_X
};
static_assert(std::size(kRun) == isa::kNumTaskKinds);

} // namespace

TaskFn taskFunction(isa::TaskKind kind) {
  const auto k = static_cast<uint32_t>(kind);
  return k < isa::kNumTaskKinds ? kRun[k] : nullptr;
}

uint32_t taskWeightSpans(const TaskContext &ctx, const isa::TaskRecord &task,
                         WeightSpan (&spans)[kMaxWeightSpans]) {
  return isa::taskWeightSpans({task, ctx.tensors, ctx.model->headDim}, spans);
}

// The host issues no software prefetch for weights: every tile reads its weight rows
// front to back, which the hardware prefetchers stream at the read bandwidth, while
// prefetching a tile's whole span ahead of its wait (hundreds of KB, more than L2)
// made decode of the ~150M bench model about 1.8x slower with one worker (24.7 vs 12.9
// ms/token; bench/NOTES.md). The protocol's two prefetch steps therefore only count
// the bytes the task will stream. (The CUDA kernel's staging into shared memory is a
// different matter.)
uint64_t taskStreamBytes(const TaskContext &ctx, const isa::TaskRecord &task) {
  WeightSpan spans[kMaxWeightSpans];
  const uint32_t n = taskWeightSpans(ctx, task, spans);
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < n; ++i)
    bytes += spans[i].bytes;
  return bytes;
}

LateFetch lateTaskStream(const TaskContext &ctx, const isa::TaskRecord &task) {
  const isa::LateFootprintInput in{task, ctx.tensors};
  LateFetch fetch;
  auto region = [&](uint16_t id, int64_t r0, int64_t r1, int64_t e0, int64_t e1) {
    fetch.bytes += isa::lateRegionBytes(ctx.tensor(id), r0, r1, e0, e1);
  };
  isa::forEachLateWeight(in, region);
  fetch.expert = isa::taskExpert(in);
  return fetch;
}

uint16_t findTensor(const isa::Plan &plan, std::string_view name) {
  for (size_t i = 0; i < plan.tensors.size() && i < isa::kNoTensor; ++i)
    if (plan.tensors[i].name == name)
      return static_cast<uint16_t>(i);
  return isa::kNoTensor;
}

TaskContext makeTaskContext(const isa::Plan &plan, uint32_t programIndex,
                            const TensorRef *tensors, uint32_t numTensors, uint64_t step,
                            const RankContext &comm) {
  TaskContext ctx;
  ctx.model = &plan.model;
  ctx.descs = plan.tensors.data();
  ctx.comm = comm;
  assert(programIndex < plan.programs.size() && "program index out of range");
  ctx.program = &plan.programs[programIndex];
  ctx.tensors = tensors;
  ctx.numTensors = numTensors;
  ctx.step = step;
  return ctx;
}

} // namespace mk::host
