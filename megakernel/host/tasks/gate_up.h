//===- gate_up.h - RMSNorm prologue, gate/up projections, SiLU(gate) * up ===//
//
//   x [R, hidden] bf16, norm_w [hidden] bf16, w_gate / w_up [I, hidden] bf16
//   -> out [R, I] bf16;  tile: rows range[0], intermediate columns range[1].
//   xn = rmsNorm(x[r], norm_w)                   (bf16, kernels/rms_norm.h)
//   out[r, n] = gatedActivation(xn, w_gate[n], w_up[n])   (kernels/gated_mlp.h:
//               bf16(bf16(silu(g)) * u) of g, u = the bf16 gate and up projections)
// Every row is computed (no positions operand).
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include "kernels/dot.h"
#include "kernels/gated_mlp.h"
#include "kernels/rms_norm.h"

#include <algorithm>
#include <vector>

namespace mk::host::tasks {

namespace gate_up {
constexpr isa::TaskKind kKind = isa::TaskKind::GateUp;
constexpr uint32_t kX = role(kKind, "x");
constexpr uint32_t kNormW = role(kKind, "norm_w");
constexpr uint32_t kWGate = role(kKind, "w_gate");
constexpr uint32_t kWUp = role(kKind, "w_up");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace gate_up

template <> struct HostTask<isa::TaskKind::GateUp> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::GateUp>::run(const TaskContext &ctx,
                                                 const isa::TaskRecord &task) {
  using namespace gate_up;
  const TensorRef &wRef = ctx.tensor(task, kWGate);
  const int64_t inter = wRef.shape[0], hidden = wRef.shape[1];
  assert(ctx.tensor(task, kX).shape[1] == hidden &&
         ctx.tensor(task, kOut).shape[1] == inter);
  const bf16 *x = ctx.data<const bf16>(task, kX);         // [R, hidden]
  const bf16 *normW = ctx.data<const bf16>(task, kNormW); // [hidden]
  const bf16 *wGate = ctx.data<const bf16>(task, kWGate); // [I, hidden]
  const bf16 *wUp = ctx.data<const bf16>(task, kWUp);     // [I, hidden]
  bf16 *out = ctx.data<bf16>(task, kOut);                 // [R, I]
  const float eps = ctx.model->rmsNormEps;

  using kernels::kRowBlock;
  const isa::Range rows = task.range[0], cols = task.range[1];
  for (int64_t r0 = rows.begin; r0 < rows.end; r0 += kRowBlock) {
    const int64_t nRows = std::min<int64_t>(kRowBlock, rows.end - r0);
    const bf16 *const xn = kernels::normalizedRows(ctx.launch, ctx.step, x, r0, nRows,
                                                   hidden, normW, eps, nullptr);
    kernels::gatedActivationBlock(xn, nRows, wGate + cols.begin * hidden,
                                  wUp + cols.begin * hidden, cols.end - cols.begin,
                                  size_t(hidden), out + r0 * inter + cols.begin, inter);
  }
}

} // namespace mk::host::tasks
