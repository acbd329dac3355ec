//===- residual_projection_task.cuh - out = residual + x W^T (o_proj, down_proj) ===//
//
//   x [R, K] bf16, w [N, K] bf16, residual [R, N] bf16 -> out [R, N] bf16
//   tile: rows range[0], output columns range[1].
//   out[r, n] = bf16(residual[r, n] + bf16(x[r] . w[n]))   (fp32 dot,
//   projection_pass.cuh)
// Without residual (tensor parallelism: the rank's partial sum over its K slice; the
// all_reduce adds the residual): out[r, n] = bf16(x[r] . w[n]).
// The body o_proj and down_proj share (the host's tasks/residual_projection_task.h):
// same operand roles, same arithmetic. Every row of the tile is computed.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/bf16.cuh"
#include "device/projection_pass.cuh"
#include "task_context.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

/// The operands of a residual projection task of kind Kind. Built where they are used:
/// values computed before project() would stay live in registers across its k loop.
template <isa::TaskKind Kind> struct ResidualProjectionOperands {
  const bf16 *x;        // [R, K]
  const bf16 *w;        // [N, K]
  const bf16 *residual; // [R, N], or null
  bf16 *out;            // [R, N]
  uint32_t n, k;

  __device__ ResidualProjectionOperands(const TaskContext &ctx,
                                        const isa::TaskRecord &task) {
    const DeviceTensor &wRef = ctx.tensor(task, role(Kind, "w"));
    x = ctx.data<const bf16>(task, role(Kind, "x"));
    w = static_cast<const bf16 *>(wRef.data);
    residual = ctx.dataOrNull<const bf16>(task, role(Kind, "residual"));
    out = ctx.data<bf16>(task, role(Kind, "out"));
    n = uint32_t(wRef.shape[0]);
    k = uint32_t(wRef.shape[1]);
  }
};

/// CudaTask of o_proj and down_proj. A unit is one output column; no RMSNorm
/// prologue.
template <isa::TaskKind Kind> struct ResidualProjectionTask {
  static constexpr Engine kEngine = Engine::Projection;

  __device__ static ProjectionWork work(const TaskContext &ctx,
                                        const isa::TaskRecord &task) {
    const ResidualProjectionOperands<Kind> o(ctx, task);
    return {{o.x, nullptr, 0.0f, o.k},
            task.range[0],
            task.range[1].end - task.range[1].begin,
            1};
  }

  __device__ static const bf16 *columnRow(const TaskContext &ctx,
                                          const isa::TaskRecord &task, uint32_t unit0,
                                          uint32_t, uint32_t j) {
    const ResidualProjectionOperands<Kind> o(ctx, task);
    return o.w + size_t(task.range[1].begin + unit0 + j) * o.k;
  }

  __device__ static void epilogue(const TaskContext &ctx, const isa::TaskRecord &task,
                                  const ProjectionPass &p) {
    const ResidualProjectionOperands<Kind> o(ctx, task);
    for (uint32_t i = threadIdx.x; i < p.rows * p.units; i += kThreads) {
      const uint32_t r = i / p.units, j = i % p.units;
      const size_t e = size_t(p.row0 + r) * o.n + task.range[1].begin + p.unit0 + j;
      o.out[e] = o.residual ? toBf16(toFloat(o.residual[e]) + roundBf16(p.at(r, j)))
                            : toBf16(p.at(r, j));
    }
  }

  __device__ static void finish(const TaskContext &, const isa::TaskRecord &) {}
};

} // namespace mk::cuda::tasks
