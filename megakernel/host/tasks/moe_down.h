//===- moe_down.h - MoE expert tile: down projection of one slot's rows ===//
//
//   act [Smax, R, I] bf16, routes i32, w: an expert group of [H, I] bf16
//   -> out (expert_out) [Smax, R, H] bf16
//   tile: slot s = range[2].begin, hidden columns range[1].
// For s < D (mk/isa/moe_routes.h), expert e = slotExpert[s] (tensor w + e), rows
// i < n_s:
//   out[s, i, c] = bf16(act[s, i] . w_e[c])          (dot.h; HF: a bf16 Linear)
// A slot s >= D returns at once and reads no expert's byte; rows i >= n_s are not
// written.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include "kernels/dot.h"
#include "kernels/scratch.h"

#include "mk/isa/moe_routes.h"

#include <algorithm>
#include <vector>

namespace mk::host::tasks {

namespace moe_down {
constexpr isa::TaskKind kKind = isa::TaskKind::MoeDown;
constexpr uint32_t kAct = role(kKind, "act");
constexpr uint32_t kRoutes = role(kKind, "routes");
constexpr uint32_t kW = role(kKind, "w");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace moe_down

template <> struct HostTask<isa::TaskKind::MoeDown> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::MoeDown>::run(const TaskContext &ctx,
                                                  const isa::TaskRecord &task) {
  using namespace moe_down;
  const TensorRef &outRef = ctx.tensor(task, kOut);
  const uint32_t slots = uint32_t(outRef.shape[0]), rows = uint32_t(outRef.shape[1]);
  const int64_t hidden = outRef.shape[2];
  const uint32_t s = task.range[2].begin;
  assert(s < slots);
  const isa::ConstMoeRoutes routes{ctx.data<const int32_t>(task, kRoutes), rows,
                                   ctx.model->numExpertsPerTok, slots};
  const int32_t expert = routes.expertOfSlot(s);
  if (expert < 0)
    return;
  const TensorRef &wRef = ctx.tensor(uint16_t(task.operand[kW] + expert));
  const int64_t inter = wRef.shape[1];
  assert(wRef.shape[0] == hidden && ctx.tensor(task, kAct).shape[2] == inter);
  const bf16 *act =
      ctx.data<const bf16>(task, kAct) + int64_t(s) * rows * inter;    // [R, I]
  const bf16 *w = static_cast<const bf16 *>(wRef.data);                // [H, I]
  bf16 *out = ctx.data<bf16>(task, kOut) + int64_t(s) * rows * hidden; // [R, H]
  const int64_t n = routes.slotRows(s);
  const isa::Range cols = task.range[1];
  using kernels::kColBlock;
  using kernels::kRowBlock;
  float *const y =
      kernels::scratch<struct MoeDownDots, float>(size_t(kRowBlock * kColBlock));
  for (int64_t i0 = 0; i0 < n; i0 += kRowBlock) {
    const int64_t nr = std::min<int64_t>(kRowBlock, n - i0);
    for (int64_t c0 = cols.begin; c0 < cols.end; c0 += kColBlock) {
      const int64_t nc = std::min<int64_t>(kColBlock, cols.end - c0);
      kernels::dotBlockBf16(act + i0 * inter, inter, nr, w + c0 * inter, inter, nc,
                            size_t(inter), y, nc);
      for (int64_t i = 0; i < nr; ++i)
        for (int64_t c = 0; c < nc; ++c)
          out[(i0 + i) * hidden + c0 + c] = floatToBf16(y[size_t(i * nc + c)]);
    }
  }
}

} // namespace mk::host::tasks
