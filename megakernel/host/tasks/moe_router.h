//===- moe_router.h - MoE router: each row's top-k experts, compact routes ===//
//
//   x [R, H] bf16, norm_w [H] bf16, w [E, H] bf16, positions [R] i32
//   -> xg [Smax, R, H] bf16, routes (mk/isa/moe_routes.h) i32, route_weights [R, k] f32
//   one task: range[0] = [0, R), range[1] = [0, E).
// For each active row r (positions[r] >= 0; -1 rows select nothing):
//   xn_r = rmsNorm(x[r], norm_w)                     (bf16, the dense prologue's)
//   logit[e] = xn_r . w[e]                           (fp32, dot.h; not rounded)
//   experts, weights = routeRow(logit)               (kernels/moe_routing.h)
// Slots: the distinct selected experts in ascending id; each slot's rows ascending;
// xg[s][i] = xn of slot s's i-th row. The whole of routes and route_weights is
// written; rows i >= n_s of xg are not.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include "kernels/dot.h"
#include "kernels/moe_routing.h"
#include "kernels/rms_norm.h"

#include "mk/isa/moe_routes.h"

#include <algorithm>
#include <vector>

namespace mk::host::tasks {

namespace moe_router {
constexpr isa::TaskKind kKind = isa::TaskKind::MoeRouter;
constexpr uint32_t kX = role(kKind, "x");
constexpr uint32_t kNormW = role(kKind, "norm_w");
constexpr uint32_t kW = role(kKind, "w");
constexpr uint32_t kPositions = role(kKind, "positions");
constexpr uint32_t kXg = role(kKind, "xg");
constexpr uint32_t kRoutes = role(kKind, "routes");
constexpr uint32_t kRouteWeights = role(kKind, "route_weights");
} // namespace moe_router

template <> struct HostTask<isa::TaskKind::MoeRouter> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::MoeRouter>::run(const TaskContext &ctx,
                                                    const isa::TaskRecord &task) {
  using namespace moe_router;
  const TensorRef &wRef = ctx.tensor(task, kW), &xgRef = ctx.tensor(task, kXg);
  const TensorRef &weightsRef = ctx.tensor(task, kRouteWeights);
  const uint32_t experts = uint32_t(wRef.shape[0]), slots = uint32_t(xgRef.shape[0]);
  const uint32_t rows = uint32_t(weightsRef.shape[0]), k = uint32_t(weightsRef.shape[1]);
  const int64_t hidden = wRef.shape[1];
  assert(task.range[0].begin == 0 && task.range[0].end == rows &&
         task.range[1].begin == 0 && task.range[1].end == experts);
  assert(xgRef.shape[1] == rows && xgRef.shape[2] == hidden &&
         ctx.tensor(task, kX).shape[1] == hidden &&
         uint64_t(ctx.tensor(task, kRoutes).shape[0]) ==
             isa::moeRoutesLength(rows, k, slots));
  const bf16 *x = ctx.data<const bf16>(task, kX);                       // [R, H]
  const bf16 *normW = ctx.data<const bf16>(task, kNormW);               // [H]
  const bf16 *w = ctx.data<const bf16>(task, kW);                       // [E, H]
  const int32_t *positions = ctx.data<const int32_t>(task, kPositions); // [R]
  bf16 *xg = ctx.data<bf16>(task, kXg);                                 // [Smax, R, H]
  float *routeWeights = ctx.data<float>(task, kRouteWeights);           // [R, k]
  const isa::MoeRoutes routes{ctx.data<int32_t>(task, kRoutes), rows, k, slots};

  std::vector<bf16> xn(size_t(rows) * hidden);   // [R, H], active rows
  std::vector<int32_t> chosen(size_t(rows) * k); // [R, k] expert ids, ascending
  std::vector<float> logits(experts), probs(experts);
  std::vector<uint8_t> selected(experts, 0);
  for (uint32_t r = 0; r < rows; ++r) {
    if (positions[r] < 0) {
      std::fill_n(routeWeights + size_t(r) * k, k, 0.0f);
      continue;
    }
    bf16 *xr = xn.data() + size_t(r) * hidden;
    kernels::rmsNormRow(x + r * hidden, normW, hidden, ctx.model->rmsNormEps, xr);
    for (uint32_t e = 0; e < experts; ++e)
      logits[e] = kernels::dotBf16(xr, w + e * hidden, size_t(hidden));
    kernels::routeRow(logits.data(), experts, k, ctx.model->normTopkProb, probs.data(),
                      chosen.data() + size_t(r) * k, routeWeights + size_t(r) * k);
    for (uint32_t j = 0; j < k; ++j)
      selected[chosen[size_t(r) * k + j]] = 1;
  }
  // Slots in ascending expert id.
  std::vector<int32_t> slotOf(experts, -1); // expert -> slot
  int32_t distinct = 0;
  for (uint32_t e = 0; e < experts; ++e)
    if (selected[e])
      slotOf[e] = distinct++;
  assert(uint32_t(distinct) <= slots);

  std::fill_n(routes.data, routes.length(), -1);
  routes.numDistinct() = distinct;
  for (uint32_t s = 0; s < slots; ++s)
    routes.slotRows(s) = 0;
  for (uint32_t e = 0; e < experts; ++e)
    if (slotOf[e] >= 0)
      routes.slotExpert(uint32_t(slotOf[e])) = int32_t(e);
  // Rows in ascending order, so each slot's rows are ascending.
  for (uint32_t r = 0; r < rows; ++r) {
    if (positions[r] < 0)
      continue;
    for (uint32_t j = 0; j < k; ++j) {
      const uint32_t s = uint32_t(slotOf[chosen[size_t(r) * k + j]]);
      const uint32_t i = uint32_t(routes.slotRows(s)++);
      routes.slotRow(s, i) = int32_t(r);
      routes.rowSlot(r, j) = int32_t(s);
      routes.rowLocal(r, j) = int32_t(i);
      std::copy_n(xn.data() + size_t(r) * hidden, hidden,
                  xg + (int64_t(s) * rows + i) * hidden);
    }
  }
}

} // namespace mk::host::tasks
