//===- moe_combine.cuh - MoE: each row's experts weighted, in a fixed order ===//
//
//   expert_out [Smax, R, H] bf16, routes i32, route_weights [R, k] f32,
//   residual [R, H] bf16 -> out [R, H] bf16
//   tile: rows range[0], hidden columns range[1].
// Active row r (rowSlot[r][0] >= 0, mk/isa/moe_routes.h), column c:
//   acc = 0;  acc = fma(w[r][j], expert_out[rowSlot[r][j], rowLocal[r][j], c], acc)
//             for j = 0, 1, ..., k - 1 (ascending expert id)
//   out[r, c] = bf16(residual[r, c] + bf16(acc))
// Inactive row: out[r, c] = residual[r, c]. Without residual (tensor parallelism: the
// all_reduce adds it): out[r, c] = bf16(acc), and 0 on an inactive row. The host's
// tasks/moe_combine.h, bit for
// bit: the same fmas in the same order. A thread per element; consecutive threads take
// consecutive columns of a row.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/bf16.cuh"
#include "task_context.cuh"

#include "mk/isa/moe_routes.h"
#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

namespace moe_combine {
constexpr isa::TaskKind kKind = isa::TaskKind::MoeCombine;
constexpr uint32_t kExpertOut = role(kKind, "expert_out");
constexpr uint32_t kRoutes = role(kKind, "routes");
constexpr uint32_t kRouteWeights = role(kKind, "route_weights");
constexpr uint32_t kResidual = role(kKind, "residual");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace moe_combine

template <> struct CudaTask<isa::TaskKind::MoeCombine> {
  static constexpr Engine kEngine = Engine::Own;
  __device__ static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

__device__ inline void
CudaTask<isa::TaskKind::MoeCombine>::run(const TaskContext &ctx,
                                         const isa::TaskRecord &task) {
  using namespace moe_combine;
  const DeviceTensor &eoRef = ctx.tensor(task, kExpertOut);
  const DeviceTensor &weightsRef = ctx.tensor(task, kRouteWeights);
  const uint32_t slots = uint32_t(eoRef.shape[0]), rows = uint32_t(eoRef.shape[1]);
  const size_t hidden = size_t(eoRef.shape[2]);
  const uint32_t k = uint32_t(weightsRef.shape[1]);
  const bf16 *expertOut = static_cast<const bf16 *>(eoRef.data);           // [Smax, R, H]
  const float *routeWeights = static_cast<const float *>(weightsRef.data); // [R, k]
  const bf16 *residual = ctx.dataOrNull<const bf16>(task, kResidual);      // [R, H]
  bf16 *out = ctx.data<bf16>(task, kOut);                                  // [R, H]
  const isa::ConstMoeRoutes routes{ctx.data<const int32_t>(task, kRoutes), rows, k,
                                   slots};
  const uint32_t r0 = task.range[0].begin, c0 = task.range[1].begin;
  const uint32_t width = task.range[1].end - c0;
  const uint32_t n = (task.range[0].end - r0) * width;
  for (uint32_t i = threadIdx.x; i < n; i += kThreads) {
    const uint32_t r = r0 + i / width;
    const size_t at = size_t(r) * hidden + c0 + i % width;
    if (routes.rowSlot(r, 0) < 0) {
      out[at] = residual ? residual[at] : toBf16(0.0f);
      continue;
    }
    float acc = 0.0f;
    for (uint32_t j = 0; j < k; ++j) {
      const size_t row = size_t(routes.rowSlot(r, j)) * rows + routes.rowLocal(r, j);
      acc = fmaf(routeWeights[size_t(r) * k + j],
                 toFloat(expertOut[row * hidden + c0 + i % width]), acc);
    }
    out[at] = residual ? toBf16(toFloat(residual[at]) + roundBf16(acc)) : toBf16(acc);
  }
}

} // namespace mk::cuda::tasks
