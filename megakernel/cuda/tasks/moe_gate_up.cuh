//===- moe_gate_up.cuh - MoE expert tile: SiLU(gate) * up of one slot's rows ===//
//
//   xg [Smax, R, H] bf16, routes i32, w_gate / w_up: expert groups of [I, H] bf16
//   -> out (act) [Smax, R, I] bf16
//   tile: slot s = range[2].begin, intermediate columns range[1].
// For s < D, expert e = slotExpert[s] (tensors w_gate + e, w_up + e), rows i < n_s
// (tasks/moe_expert_tile.cuh):
//   g = bf16(xg[s, i] . w_gate_e[c]),  u = bf16(xg[s, i] . w_up_e[c])
//   out[s, i, c] = bf16(bf16(silu(g)) * u),  silu(g) = g / (1 + exp(-g)) in fp32
// The host's tasks/moe_gate_up.h; the dense gate_up's rounding points
// (tasks/gate_up.cuh), without its RMSNorm prologue (xg holds normalized rows). One
// projection computes both: a unit is the column pair (gate c, up c); pass column
// j < units is w_gate_e row c0 + j, pass column units + j is w_up_e row c0 + j. A slot
// past the count computes nothing and reads no expert byte; rows i >= n_s are not
// written.
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

/// The slot's operands of a MoeGateUp task. Built where they are used: values computed
/// before project() would stay live in registers across its k loop.
struct MoeGateUpOperands {
  static constexpr isa::TaskKind kKind = isa::TaskKind::MoeGateUp;
  const bf16 *xg; // [R, H]: slot s's rows
  bf16 *act;      // [R, I]: slot s's rows
  uint32_t inter, hidden;

  __device__ MoeGateUpOperands(const TaskContext &ctx, const isa::TaskRecord &task) {
    const DeviceTensor &outRef = ctx.tensor(task, role(kKind, "out")); // [Smax, R, I]
    const size_t rows = size_t(outRef.shape[1]), s = task.range[2].begin;
    inter = uint32_t(outRef.shape[2]);
    hidden = uint32_t(ctx.tensor(task, role(kKind, "xg")).shape[2]);
    xg = ctx.data<const bf16>(task, role(kKind, "xg")) + s * rows * hidden;
    act = static_cast<bf16 *>(outRef.data) + s * rows * inter;
  }
};

template <> struct CudaTask<isa::TaskKind::MoeGateUp> {
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
CudaTask<isa::TaskKind::MoeGateUp>::work(const TaskContext &ctx,
                                         const isa::TaskRecord &task) {
  const MoeSlot<isa::TaskKind::MoeGateUp> slot(ctx, task);
  const MoeGateUpOperands o(ctx, task);
  const uint32_t units = slot.rows > 0 ? task.range[1].end - task.range[1].begin : 0;
  return {{o.xg, nullptr, 0.0f, o.hidden}, {0, slot.rows}, units, 2};
}

__device__ inline const bf16 *
CudaTask<isa::TaskKind::MoeGateUp>::columnRow(const TaskContext &ctx,
                                              const isa::TaskRecord &task, uint32_t unit0,
                                              uint32_t units, uint32_t j) {
  constexpr isa::TaskKind kKind = isa::TaskKind::MoeGateUp;
  const MoeSlot<kKind> slot(ctx, task);
  const bool gate = j < units;
  constexpr uint32_t kWGate = role(kKind, "w_gate"), kWUp = role(kKind, "w_up");
  const DeviceTensor &w = ctx.tensors[slot.weight(task, gate ? kWGate : kWUp)]; // [I, H]
  const size_t c = task.range[1].begin + unit0 + (gate ? j : j - units);
  return static_cast<const bf16 *>(w.data) + c * size_t(w.shape[1]);
}

__device__ inline void CudaTask<isa::TaskKind::MoeGateUp>::epilogue(
    const TaskContext &ctx, const isa::TaskRecord &task, const ProjectionPass &p) {
  const MoeGateUpOperands o(ctx, task);
  for (uint32_t i = threadIdx.x; i < p.rows * p.units; i += kThreads) {
    const uint32_t r = i / p.units, j = i % p.units;
    const float g = roundBf16(p.at(r, j));
    const float u = roundBf16(p.at(r, p.units + j));
    const float silu = roundBf16(g / (1.0f + expf(-g)));
    o.act[size_t(p.row0 + r) * o.inter + task.range[1].begin + p.unit0 + j] =
        toBf16(silu * u);
  }
}

} // namespace mk::cuda::tasks
