//===- moe_gate_up.h - MoE expert tile: SiLU(gate) * up of one slot's rows ===//
//
//   xg [Smax, R, H] bf16, routes i32, w_gate / w_up: expert groups of [I, H] bf16
//   -> out (act) [Smax, R, I] bf16
//   tile: slot s = range[2].begin, intermediate columns range[1].
// For s < D (mk/isa/moe_routes.h), expert e = slotExpert[s] (tensors w_gate + e,
// w_up + e), rows i < n_s:
//   out[s, i, c] = gatedActivation(xg[s, i], w_gate_e[c], w_up_e[c])
// (kernels/gated_mlp.h: the dense gate_up's rounding points). A slot s >= D returns at
// once and reads no expert's byte; rows i >= n_s are not written.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include "kernels/dot.h"
#include "kernels/gated_mlp.h"

#include "mk/isa/moe_routes.h"

#include <algorithm>

namespace mk::host::tasks {

namespace moe_gate_up {
constexpr isa::TaskKind kKind = isa::TaskKind::MoeGateUp;
constexpr uint32_t kXg = role(kKind, "xg");
constexpr uint32_t kRoutes = role(kKind, "routes");
constexpr uint32_t kWGate = role(kKind, "w_gate");
constexpr uint32_t kWUp = role(kKind, "w_up");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace moe_gate_up

template <> struct HostTask<isa::TaskKind::MoeGateUp> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::MoeGateUp>::run(const TaskContext &ctx,
                                                    const isa::TaskRecord &task) {
  using namespace moe_gate_up;
  const TensorRef &outRef = ctx.tensor(task, kOut);
  const uint32_t slots = uint32_t(outRef.shape[0]), rows = uint32_t(outRef.shape[1]);
  const int64_t inter = outRef.shape[2];
  const uint32_t s = task.range[2].begin;
  assert(s < slots);
  const isa::ConstMoeRoutes routes{ctx.data<const int32_t>(task, kRoutes), rows,
                                   ctx.model->numExpertsPerTok, slots};
  const int32_t expert = routes.expertOfSlot(s);
  if (expert < 0)
    return;
  const uint16_t gateId = uint16_t(task.operand[kWGate] + expert);
  const uint16_t upId = uint16_t(task.operand[kWUp] + expert);
  const int64_t hidden = ctx.tensor(gateId).shape[1];
  assert(ctx.tensor(gateId).shape[0] == inter && ctx.tensor(upId).shape[1] == hidden &&
         ctx.tensor(task, kXg).shape[2] == hidden);
  const bf16 *xg = ctx.data<const bf16>(task, kXg) + int64_t(s) * rows * hidden; // [R, H]
  const bf16 *wGate = static_cast<const bf16 *>(ctx.tensor(gateId).data);        // [I, H]
  const bf16 *wUp = static_cast<const bf16 *>(ctx.tensor(upId).data);            // [I, H]
  bf16 *out = ctx.data<bf16>(task, kOut) + int64_t(s) * rows * inter;            // [R, I]
  const int64_t n = routes.slotRows(s);
  const isa::Range cols = task.range[1];
  using kernels::kRowBlock;
  for (int64_t i0 = 0; i0 < n; i0 += kRowBlock)
    kernels::gatedActivationBlock(xg + i0 * hidden, std::min<int64_t>(kRowBlock, n - i0),
                                  wGate + cols.begin * hidden, wUp + cols.begin * hidden,
                                  cols.end - cols.begin, size_t(hidden),
                                  out + i0 * inter + cols.begin, inter);
}

} // namespace mk::host::tasks
