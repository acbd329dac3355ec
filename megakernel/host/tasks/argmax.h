//===- argmax.h - Fixed-order reduction of the LM head's partial argmaxes =//
//
//   partial_max [R, tiles, 2] f32 (value, index as f32) -> tokens_out [R] i32
//   tile: rows range[0]; aux[0] = number of partials (LM-head tiles).
// Partials are visited in order 0, 1, ...; a larger value wins, an equal value with a
// lower index wins (ties -> lowest vocabulary index, whatever the tiling), NaN never
// wins. A row with no comparable value (all NaN) gets token 0.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include <cmath>

namespace mk::host::tasks {

namespace argmax {
constexpr isa::TaskKind kKind = isa::TaskKind::Argmax;
constexpr uint32_t kPartialMax = role(kKind, "partial_max");
constexpr uint32_t kTokensOut = role(kKind, "tokens_out");
} // namespace argmax

template <> struct HostTask<isa::TaskKind::Argmax> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::Argmax>::run(const TaskContext &ctx,
                                                 const isa::TaskRecord &task) {
  using namespace argmax;
  const int64_t stride = ctx.tensor(task, kPartialMax).shape[1];
  const int64_t tiles = task.aux[0];
  assert(tiles <= stride);
  const float *partialMax = ctx.data<const float>(task, kPartialMax); // [R, tiles, 2]
  int32_t *tokensOut = ctx.data<int32_t>(task, kTokensOut);           // [R]
  for (int64_t r = task.range[0].begin; r < task.range[0].end; ++r) {
    const float *p = partialMax + r * stride * 2;
    bool found = false;
    float best = 0.0f, bestIndex = 0.0f;
    for (int64_t t = 0; t < tiles; ++t) {
      const float value = p[2 * t], index = p[2 * t + 1];
      if (std::isnan(value))
        continue;
      if (!found || value > best || (value == best && index < bestIndex)) {
        found = true;
        best = value;
        bestIndex = index;
      }
    }
    tokensOut[r] = static_cast<int32_t>(bestIndex);
  }
}

} // namespace mk::host::tasks
