//===- moe_down.cuh - MoE expert tile: down projection of one slot's rows --===//
//
//   act [Smax, R, I] bf16, routes i32, w: an expert group of [H, I] bf16
//   -> out (expert_out) [Smax, R, H] bf16
//   tile: slot s = range[2].begin, hidden columns range[1].
// For s < D, expert e = slotExpert[s] (tensor w + e), rows i < n_s
// (tasks/moe_expert_tile.cuh):
//   out[s, i, c] = bf16(act[s, i] . w_e[c])          (fp32 dot, projection_pass.cuh)
// The host's tasks/moe_down.h. A unit is one output column. A slot past the count
// computes nothing and reads no expert byte; rows i >= n_s are not written.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/bf16.cuh"
#include "device/projection_pass.cuh"
#include "task_context.cuh"
#include "tasks/moe_expert_tile.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

/// The slot's operands of a MoeDown task. Built where they are used: values computed
/// before project() would stay live in registers across its k loop.
struct MoeDownOperands {
  static constexpr isa::TaskKind kKind = isa::TaskKind::MoeDown;
  const bf16 *act; // [R, I]: slot s's rows
  bf16 *out;       // [R, H]: slot s's rows
  uint32_t hidden, inter;

  __device__ MoeDownOperands(const TaskContext &ctx, const isa::TaskRecord &task) {
    const DeviceTensor &outRef = ctx.tensor(task, role(kKind, "out")); // [Smax, R, H]
    const size_t rows = size_t(outRef.shape[1]), s = task.range[2].begin;
    hidden = uint32_t(outRef.shape[2]);
    inter = uint32_t(ctx.tensor(task, role(kKind, "act")).shape[2]);
    act = ctx.data<const bf16>(task, role(kKind, "act")) + s * rows * inter;
    out = static_cast<bf16 *>(outRef.data) + s * rows * hidden;
  }
};

template <> struct CudaTask<isa::TaskKind::MoeDown> {
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
CudaTask<isa::TaskKind::MoeDown>::work(const TaskContext &ctx,
                                       const isa::TaskRecord &task) {
  const MoeSlot<isa::TaskKind::MoeDown> slot(ctx, task);
  const MoeDownOperands o(ctx, task);
  const uint32_t units = slot.rows > 0 ? task.range[1].end - task.range[1].begin : 0;
  return {{o.act, nullptr, 0.0f, o.inter}, {0, slot.rows}, units, 1};
}

__device__ inline const bf16 *
CudaTask<isa::TaskKind::MoeDown>::columnRow(const TaskContext &ctx,
                                            const isa::TaskRecord &task, uint32_t unit0,
                                            uint32_t, uint32_t j) {
  constexpr isa::TaskKind kKind = isa::TaskKind::MoeDown;
  const MoeSlot<kKind> slot(ctx, task);
  const DeviceTensor &w = ctx.tensors[slot.weight(task, role(kKind, "w"))]; // [H, I]
  return static_cast<const bf16 *>(w.data) +
         size_t(task.range[1].begin + unit0 + j) * size_t(w.shape[1]);
}

__device__ inline void CudaTask<isa::TaskKind::MoeDown>::epilogue(
    const TaskContext &ctx, const isa::TaskRecord &task, const ProjectionPass &p) {
  const MoeDownOperands o(ctx, task);
  for (uint32_t i = threadIdx.x; i < p.rows * p.units; i += kThreads) {
    const uint32_t r = i / p.units, j = i % p.units;
    o.out[size_t(p.row0 + r) * o.hidden + task.range[1].begin + p.unit0 + j] =
        toBf16(p.at(r, j));
  }
}

} // namespace mk::cuda::tasks
