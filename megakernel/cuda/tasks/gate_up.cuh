//===- gate_up.cuh - RMSNorm prologue, gate/up projections, SiLU(gate) * up ===//
//
//   x [R, hidden] bf16, norm_w [hidden] bf16, w_gate / w_up [I, hidden] bf16
//   -> out [R, I] bf16;  tile: rows range[0], intermediate columns range[1].
//   xn = rmsNorm(x[r], norm_w)                   (bf16, device/rms_norm.cuh)
//   g = bf16(xn . w_gate[n]),  u = bf16(xn . w_up[n])
//   out[r, n] = bf16(bf16(silu(g)) * u),  silu(g) = g / (1 + exp(-g)) in fp32
// The host's tasks/gate_up.h. One projection (tasks/projection_dispatch.cuh) computes
// both: a unit is the column pair (gate n, up n); pass column j < units is w_gate row c0
// + j, pass column units + j is w_up row c0 + j (c0: the pass's first column).
//===----------------------------------------------------------------------===//
#pragma once

#include "device/bf16.cuh"
#include "device/projection_pass.cuh"
#include "task_context.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

/// The operands of a GateUp task. Built where they are used: values computed before
/// project() would stay live in registers across its k loop.
struct GateUpOperands {
  const bf16 *x;     // [R, hidden]
  const bf16 *normW; // [hidden]
  const bf16 *wGate; // [I, hidden]
  const bf16 *wUp;   // [I, hidden]
  bf16 *out;         // [R, I]
  uint32_t inter, hidden;

  __device__ GateUpOperands(const TaskContext &ctx, const isa::TaskRecord &task) {
    constexpr isa::TaskKind kKind = isa::TaskKind::GateUp;
    const DeviceTensor &wRef = ctx.tensor(task, role(kKind, "w_gate"));
    x = ctx.data<const bf16>(task, role(kKind, "x"));
    normW = ctx.data<const bf16>(task, role(kKind, "norm_w"));
    wGate = static_cast<const bf16 *>(wRef.data);
    wUp = ctx.data<const bf16>(task, role(kKind, "w_up"));
    out = ctx.data<bf16>(task, role(kKind, "out"));
    inter = uint32_t(wRef.shape[0]);
    hidden = uint32_t(wRef.shape[1]);
  }
};

template <> struct CudaTask<isa::TaskKind::GateUp> {
  static constexpr Engine kEngine = Engine::Projection;
  __device__ static ProjectionWork work(const TaskContext &ctx,
                                        const isa::TaskRecord &task);
  __device__ static const bf16 *columnRow(const TaskContext &ctx,
                                          const isa::TaskRecord &task, uint32_t unit0,
                                          uint32_t units, uint32_t j);
  __device__ static void epilogue(const TaskContext &ctx, const isa::TaskRecord &task,
                                  const ProjectionPass &p);
  __device__ static void finish(const TaskContext &, const isa::TaskRecord &) {}
};

__device__ inline ProjectionWork
CudaTask<isa::TaskKind::GateUp>::work(const TaskContext &ctx,
                                      const isa::TaskRecord &task) {
  const GateUpOperands o(ctx, task);
  return {{o.x, o.normW, ctx.model->rmsNormEps, o.hidden},
          task.range[0],
          task.range[1].end - task.range[1].begin,
          2};
}

__device__ inline const bf16 *
CudaTask<isa::TaskKind::GateUp>::columnRow(const TaskContext &ctx,
                                           const isa::TaskRecord &task, uint32_t unit0,
                                           uint32_t units, uint32_t j) {
  const GateUpOperands o(ctx, task);
  const bool gate = j < units;
  const size_t c = task.range[1].begin + unit0 + (gate ? j : j - units);
  return (gate ? o.wGate : o.wUp) + c * o.hidden;
}

__device__ inline void CudaTask<isa::TaskKind::GateUp>::epilogue(
    const TaskContext &ctx, const isa::TaskRecord &task, const ProjectionPass &p) {
  const GateUpOperands o(ctx, task);
  for (uint32_t i = threadIdx.x; i < p.rows * p.units; i += kThreads) {
    const uint32_t r = i / p.units, j = i % p.units;
    const float g = roundBf16(p.at(r, j));
    const float u = roundBf16(p.at(r, p.units + j));
    const float silu = roundBf16(g / (1.0f + expf(-g)));
    o.out[size_t(p.row0 + r) * o.inter + task.range[1].begin + p.unit0 + j] =
        toBf16(silu * u);
  }
}

} // namespace mk::cuda::tasks
