//===- attn_merge.h - Fixed-order merge of flash-decoding partials ------===//
//
//   partial_o [B, heads, splits, hd] f32, partial_lse [B, heads, splits] f32
//   -> out [B, heads * hd] bf16, columns of the query heads of KV heads range[1]
//   tile: rows range[0], KV heads range[1]; aux[0] = number of splits.
//
// For each row and query head, in split order 0, 1, ...:
//   M = max_s lse_s,  w_s = exp(lse_s - M),  out = bf16(sum_s w_s o_s / sum_s w_s)
// Splits with lse = -inf (no keys) get weight 0; all -inf writes zeros.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace mk::host::tasks {

namespace attn_merge {
constexpr isa::TaskKind kKind = isa::TaskKind::AttnMerge;
constexpr uint32_t kPartialO = role(kKind, "partial_o");
constexpr uint32_t kPartialLse = role(kKind, "partial_lse");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace attn_merge

template <> struct HostTask<isa::TaskKind::AttnMerge> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::AttnMerge>::run(const TaskContext &ctx,
                                                    const isa::TaskRecord &task) {
  using namespace attn_merge;
  const isa::ModelMeta &model = *ctx.model;
  const uint32_t hd = model.headDim;
  const uint32_t group = ctx.kvGroup();
  const TensorRef &poRef = ctx.tensor(task, kPartialO);
  const int64_t heads = poRef.shape[1], stride = poRef.shape[2];
  const int64_t splits = task.aux[0];
  assert(splits <= stride && poRef.shape[3] == hd);
  const float *partialO = ctx.data<const float>(task, kPartialO);     // [B,h,splits,hd]
  const float *partialLse = ctx.data<const float>(task, kPartialLse); // [B,h,splits]
  bf16 *out = ctx.data<bf16>(task, kOut);                             // [B, heads*hd]

  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  std::vector<float> acc(hd);
  for (int64_t b = task.range[0].begin; b < task.range[0].end; ++b) {
    for (int64_t h = task.range[1].begin * group; h < task.range[1].end * group; ++h) {
      const float *lse = partialLse + (b * heads + h) * stride;
      const float *o = partialO + (b * heads + h) * stride * hd;
      bf16 *dst = out + (b * heads + h) * hd;
      float m = kNegInf;
      for (int64_t s = 0; s < splits; ++s)
        m = std::max(m, lse[s]);
      if (m == kNegInf) {
        std::fill_n(dst, hd, bf16{0});
        continue;
      }
      std::fill(acc.begin(), acc.end(), 0.0f);
      float sum = 0.0f;
      for (int64_t s = 0; s < splits; ++s) {
        if (lse[s] == kNegInf)
          continue;
        const float w = std::exp(lse[s] - m);
        sum += w;
        for (uint32_t d = 0; d < hd; ++d)
          acc[d] += w * o[s * hd + d];
      }
      for (uint32_t d = 0; d < hd; ++d)
        dst[d] = floatToBf16(acc[d] / sum);
    }
  }
}

} // namespace mk::host::tasks
