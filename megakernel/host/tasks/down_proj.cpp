//===- down_proj.cpp - Down projection + residual add --------------------===//
//
//   x [R, K] bf16, w [N, K] bf16, residual [R, N] bf16 -> out [R, N] bf16
//   tile: rows range[0], output columns range[1].
//   out[r, n] = bf16(residual[r, n] + bf16(x[r] . w[n]))  (kernels/residual_projection.h)
// Every row is computed (no positions operand; inactive rows carry finite values).
//===----------------------------------------------------------------------===//
#include "tasks/task_impls.h"

#include "kernels/residual_projection.h"

namespace mk::host::tasks {

namespace {
constexpr isa::TaskKind kKind = isa::TaskKind::DownProj;
constexpr uint32_t kX = role(kKind, "x");
constexpr uint32_t kW = role(kKind, "w");
constexpr uint32_t kResidual = role(kKind, "residual");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace

void runDownProj(const TaskContext &ctx, const isa::TaskRecord &task) {
  const TensorRef &wRef = ctx.tensor(task, kW);
  const int64_t n = wRef.shape[0], k = wRef.shape[1];
  assert(ctx.tensor(task, kX).shape[1] == k && ctx.tensor(task, kOut).shape[1] == n &&
         ctx.tensor(task, kResidual).shape[1] == n);
  kernels::residualProjection(ctx.data<const bf16>(task, kX),        // [R, K]
                              ctx.data<const bf16>(task, kW),        // [N, K]
                              ctx.data<const bf16>(task, kResidual), // [R, N]
                              ctx.data<bf16>(task, kOut),            // [R, N]
                              n, k, task.range[0], task.range[1]);
}

uint32_t spansDownProj(const TaskContext &ctx, const isa::TaskRecord &task,
                       WeightSpan *spans) {
  spans[0] = rowSpan(ctx.tensor(task, kW), task.range[1].begin, task.range[1].end);
  return 1;
}

} // namespace mk::host::tasks
