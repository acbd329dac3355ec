//===- moe_combine.h - MoE: each row's experts weighted, in a fixed order ===//
//
//   expert_out [Smax, R, H] bf16, routes i32, route_weights [R, k] f32,
//   residual [R, H] bf16 -> out [R, H] bf16
//   tile: rows range[0], hidden columns range[1].
// Active row r (rowSlot[r][0] >= 0, mk/isa/moe_routes.h), column c:
//   acc = 0;  acc = fma(w[r][j], expert_out[rowSlot[r][j], rowLocal[r][j], c], acc)
//             for j = 0, 1, ..., k - 1 (ascending expert id)
//   out[r, c] = bf16(residual[r, c] + bf16(acc))
// (HF: the sum of weight * expert output in fp32, the block's bf16 output, the bf16
// residual add.) Inactive row: out[r, c] = residual[r, c].
// Without residual (tensor parallelism: the rank's partial over its expert columns; the
// all_reduce adds the residual): out[r, c] = bf16(acc), and 0 on an inactive row.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include "kernels/simd_ops.h"

#include "mk/isa/moe_routes.h"

#include <algorithm>
#include <vector>

namespace mk::host::tasks {

namespace moe_combine {
constexpr isa::TaskKind kKind = isa::TaskKind::MoeCombine;
constexpr uint32_t kExpertOut = role(kKind, "expert_out");
constexpr uint32_t kRoutes = role(kKind, "routes");
constexpr uint32_t kRouteWeights = role(kKind, "route_weights");
constexpr uint32_t kResidual = role(kKind, "residual");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace moe_combine

template <> struct HostTask<isa::TaskKind::MoeCombine> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::MoeCombine>::run(const TaskContext &ctx,
                                                     const isa::TaskRecord &task) {
  using namespace moe_combine;
  const TensorRef &eoRef = ctx.tensor(task, kExpertOut);
  const TensorRef &weightsRef = ctx.tensor(task, kRouteWeights);
  const uint32_t slots = uint32_t(eoRef.shape[0]), rows = uint32_t(eoRef.shape[1]);
  const int64_t hidden = eoRef.shape[2];
  const uint32_t k = uint32_t(weightsRef.shape[1]);
  assert(ctx.tensor(task, kOut).shape[1] == hidden &&
         (!ctx.has(task, kResidual) || ctx.tensor(task, kResidual).shape[1] == hidden));
  const bf16 *expertOut = ctx.data<const bf16>(task, kExpertOut);         // [Smax, R, H]
  const float *routeWeights = ctx.data<const float>(task, kRouteWeights); // [R, k]
  const bf16 *residual = ctx.dataOrNull<const bf16>(task, kResidual);     // [R, H]
  bf16 *out = ctx.data<bf16>(task, kOut);                                 // [R, H]
  const isa::ConstMoeRoutes routes{ctx.data<const int32_t>(task, kRoutes), rows, k,
                                   slots};
  const isa::Range cols = task.range[1];
  const uint32_t width = cols.end - cols.begin;
  std::vector<float> acc(width);
  std::vector<int64_t> expertRows(k); // row of expert_out viewed as [Smax * R, H]
  for (uint32_t r = task.range[0].begin; r < task.range[0].end; ++r) {
    const bf16 *res = residual ? residual + int64_t(r) * hidden : nullptr;
    bf16 *o = out + int64_t(r) * hidden;
    if (routes.rowSlot(r, 0) < 0) {
      if (res)
        std::copy(res + cols.begin, res + cols.end, o + cols.begin);
      else
        std::fill(o + cols.begin, o + cols.end, floatToBf16(0.0f));
      continue;
    }
    for (uint32_t j = 0; j < k; ++j)
      expertRows[j] = int64_t(routes.rowSlot(r, j)) * rows + routes.rowLocal(r, j);
    std::fill(acc.begin(), acc.end(), 0.0f);
    kernels::simdOps().weightedRowSum(routeWeights + size_t(r) * k,
                                      expertOut + cols.begin, expertRows.data(), hidden,
                                      k, width, acc.data());
    for (uint32_t c = 0; c < width; ++c)
      o[cols.begin + c] =
          res ? floatToBf16(bf16ToFloat(res[cols.begin + c]) + roundToBf16(acc[c]))
              : floatToBf16(acc[c]);
  }
}

} // namespace mk::host::tasks
