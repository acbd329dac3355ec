//===- residual_projection_task.h - The body o_proj and down_proj share ------===//
//
//   x [R, K] bf16, w [N, K] bf16, residual [R, N] bf16 -> out [R, N] bf16
//   tile: rows range[0], output columns range[1].
//   out[r, n] = bf16(residual[r, n] + bf16(x[r] . w[n]))  (kernels/residual_projection.h)
// Without residual (tensor parallelism: the rank's partial sum over its K slice; the
// all_reduce adds the residual): out[r, n] = bf16(x[r] . w[n]).
// Every row is computed (no positions operand; inactive rows carry finite values).
// The two kinds stay separate (their own files, profiles and lowering) but have the
// same operand roles and arithmetic.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include "kernels/residual_projection.h"

namespace mk::host::tasks {

template <isa::TaskKind Kind>
void runResidualProjection(const TaskContext &ctx, const isa::TaskRecord &task) {
  constexpr uint32_t kX = role(Kind, "x"), kW = role(Kind, "w");
  constexpr uint32_t kResidual = role(Kind, "residual"), kOut = role(Kind, "out");
  const TensorRef &wRef = ctx.tensor(task, kW);
  const int64_t n = wRef.shape[0], k = wRef.shape[1];
  assert(ctx.tensor(task, kX).shape[1] == k && ctx.tensor(task, kOut).shape[1] == n &&
         (!ctx.has(task, kResidual) || ctx.tensor(task, kResidual).shape[1] == n));
  kernels::residualProjection(ctx.data<const bf16>(task, kX),              // [R, K]
                              ctx.data<const bf16>(task, kW),              // [N, K]
                              ctx.dataOrNull<const bf16>(task, kResidual), // [R, N]
                              ctx.data<bf16>(task, kOut),                  // [R, N]
                              n, k, task.range[0], task.range[1]);
}

} // namespace mk::host::tasks
