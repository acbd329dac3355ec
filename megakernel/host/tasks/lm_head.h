//===- lm_head.h - Final RMSNorm, LM-head logits, tile argmax -----------===//
//
//   x [R, hidden] bf16, norm_w [hidden] bf16, w [vocab, hidden] bf16
//   -> logits [R, vocab] f32, partial_max [R, tiles, 2] f32
//   tile: rows range[0], vocabulary range[1]; aux[0] = this tile's index in
//   partial_max.
//   xn = rmsNorm(x[r], norm_w)  (bf16);  logits[r, v] = xn . w[v]  (fp32, not rounded)
//   partial_max[r, aux[0]] = (max logit, its index as f32) over the tile: the first
//   (lowest) index wins ties, NaN never wins; a tile of NaNs only gives (-inf, first).
// Indices are exact as f32 below 2^24 (vocabularies are far smaller). Under tensor
// parallelism w is rank r's slice of the vocabulary, and the indices written are global:
// the local index + shardIndex(r) * the slice's rows (TaskContext::vocabBase).
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include "kernels/dot.h"
#include "kernels/rms_norm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace mk::host::tasks {

namespace lm_head {
constexpr isa::TaskKind kKind = isa::TaskKind::LmHead;
constexpr uint32_t kX = role(kKind, "x");
constexpr uint32_t kNormW = role(kKind, "norm_w");
constexpr uint32_t kW = role(kKind, "w");
constexpr uint32_t kLogits = role(kKind, "logits");
constexpr uint32_t kPartialMax = role(kKind, "partial_max");
} // namespace lm_head

template <> struct HostTask<isa::TaskKind::LmHead> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::LmHead>::run(const TaskContext &ctx,
                                                 const isa::TaskRecord &task) {
  using namespace lm_head;
  const TensorRef &wRef = ctx.tensor(task, kW);
  const TensorRef &pmRef = ctx.tensor(task, kPartialMax);
  const int64_t vocab = wRef.shape[0], hidden = wRef.shape[1], tiles = pmRef.shape[1];
  assert(ctx.tensor(task, kX).shape[1] == hidden &&
         ctx.tensor(task, kLogits).shape[1] == vocab && task.aux[0] < tiles &&
         ctx.vocabBase(task, kW) + vocab < (int64_t(1) << 24));
  const bf16 *x = ctx.data<const bf16>(task, kX);         // [R, hidden]
  const bf16 *normW = ctx.data<const bf16>(task, kNormW); // [hidden]
  const bf16 *w = ctx.data<const bf16>(task, kW);         // [vocab, hidden]
  float *logits = ctx.data<float>(task, kLogits);         // [R, vocab]
  float *partialMax = ctx.data<float>(task, kPartialMax); // [R, tiles, 2]
  const float eps = ctx.model->rmsNormEps;

  using kernels::kRowBlock;
  const isa::Range rows = task.range[0], cols = task.range[1];
  for (int64_t r0 = rows.begin; r0 < rows.end; r0 += kRowBlock) {
    const int64_t nRows = std::min<int64_t>(kRowBlock, rows.end - r0);
    const bf16 *const xn = kernels::normalizedRows(ctx.launch, ctx.step, x, r0, nRows,
                                                   hidden, normW, eps, nullptr);
    kernels::dotBlockBf16(xn, hidden, nRows, w + cols.begin * hidden, hidden,
                          cols.end - cols.begin, size_t(hidden),
                          logits + r0 * vocab + cols.begin, vocab);
  }
  for (int64_t r = rows.begin; r < rows.end; ++r) {
    const float *row = logits + r * vocab;
    float best = -std::numeric_limits<float>::infinity();
    int64_t bestIndex = -1;
    for (int64_t v = cols.begin; v < cols.end; ++v) {
      if (std::isnan(row[v]))
        continue;
      if (bestIndex < 0 || row[v] > best) {
        best = row[v];
        bestIndex = v;
      }
    }
    float *dst = partialMax + (r * tiles + task.aux[0]) * 2;
    dst[0] = best;
    dst[1] = static_cast<float>((bestIndex < 0 ? int64_t(cols.begin) : bestIndex) +
                                ctx.vocabBase(task, kW));
  }
}

} // namespace mk::host::tasks
