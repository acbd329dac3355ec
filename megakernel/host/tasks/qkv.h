//===- qkv.h - RMSNorm prologue, one of Q/K/V, QK-norm, RoPE, KV append --===//
//
//   x [R, hidden] bf16, norm_w [hidden] bf16, w [section_heads * hd, hidden] bf16,
//   bias? [section_heads * hd] bf16, head_norm_w? [hd] bf16,
//   positions [R] i32, kv_slots [R] i32
//   out: Q section  -> q activation [R, heads * hd] bf16, columns of heads range[1]
//        K/V section -> KV cache [blocks, block_size, kv_heads, hd] bf16, heads range[1]
//   tile: rows range[0], heads range[1] of section aux[0] (QkvSection).
//
// Per active row r (positions[r] >= 0) and head h, with HF's rounding points:
//   xn = rmsNorm(x[r], norm_w)                                (bf16, rms_norm.h)
//   y  = bf16(xn . w[h*hd + d] + bias[h*hd + d])              (fp32 accumulation)
//   y  = rmsNorm(y, head_norm_w)           if head_norm_w    (Qwen3 QK-norm)
//   y  = rope(y, pos)                      Q and K sections  (rope.h)
// with pos = positions[r] + s at decode step s (prefill: positions[r]). The bias is
// added to the fp32 accumulator before the single rounding (a fused bias epilogue).
// Q writes out[r, h*hd ...]; an inactive row's Q columns are written as zeros so the
// tile is always fully defined. K/V write the cache at slot kv_slots[r] at step 0, or
// isa::kvSlot(block_table[r], positions[r] + s, block_size) at decode step s > 0;
// inactive rows write no slot.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include "kernels/dot.h"
#include "kernels/rms_norm.h"
#include "kernels/rope.h"
#include "kernels/scratch.h"

#include "mk/isa/step_state.h"

#include <algorithm>
#include <vector>

namespace mk::host::tasks {

namespace qkv {
struct HeadDots; // scratch tag
constexpr isa::TaskKind kKind = isa::TaskKind::Qkv;
constexpr uint32_t kX = role(kKind, "x");
constexpr uint32_t kNormW = role(kKind, "norm_w");
constexpr uint32_t kW = role(kKind, "w");
constexpr uint32_t kBias = role(kKind, "bias");
constexpr uint32_t kHeadNormW = role(kKind, "head_norm_w");
constexpr uint32_t kOut = role(kKind, "out");
constexpr uint32_t kPositions = role(kKind, "positions");
constexpr uint32_t kKvSlots = role(kKind, "kv_slots");
constexpr uint32_t kBlockTable = role(kKind, "block_table");

inline const int32_t *blockTableOf(const TaskContext &ctx, const isa::TaskRecord &task,
                                   int64_t &maxBlocks) {
  const TensorRef &t = ctx.tensor(task, kBlockTable); // [S, max_blocks] i32
  assert(t.dtype == isa::DType::I32 && t.rank == 2);
  maxBlocks = t.shape[1];
  return static_cast<const int32_t *>(t.data);
}
} // namespace qkv

template <> struct HostTask<isa::TaskKind::Qkv> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::Qkv>::run(const TaskContext &ctx,
                                              const isa::TaskRecord &task) {
  using namespace qkv;
  const isa::ModelMeta &model = *ctx.model;
  const auto section = static_cast<isa::QkvSection>(task.aux[0]);
  const bool isQ = section == isa::QkvSection::Q;
  const bool rope = section != isa::QkvSection::V;
  const bool interleaved = task.flags & isa::kFlagRopeInterleaved;
  const uint32_t hd = model.headDim;
  const float eps = model.rmsNormEps;

  const TensorRef &xRef = ctx.tensor(task, kX);
  const int64_t hidden = xRef.shape[1];
  const bf16 *x = ctx.data<const bf16>(task, kX);             // [R, hidden]
  const bf16 *normW = ctx.data<const bf16>(task, kNormW);     // [hidden]
  const bf16 *w = ctx.data<const bf16>(task, kW);             // [heads * hd, hidden]
  const bf16 *bias = ctx.dataOrNull<const bf16>(task, kBias); // [heads * hd]
  const bf16 *headNormW = ctx.dataOrNull<const bf16>(task, kHeadNormW); // [hd]
  const int32_t *positions = ctx.data<const int32_t>(task, kPositions); // [R]
  const int32_t *kvSlots = ctx.data<const int32_t>(task, kKvSlots);     // [R]
  const TensorRef &outRef = ctx.tensor(task, kOut);
  bf16 *out = ctx.data<bf16>(task, kOut);
  assert(ctx.tensor(task, kW).shape[1] == hidden);
  assert(isQ ? outRef.rank == 2 : outRef.rank == 4 && outRef.shape[3] == hd);

  // Q: [R, heads * hd]. K/V: [blocks, block_size, kv_heads, hd].
  const int64_t qCols = isQ ? outRef.shape[1] : 0;
  const int64_t blockSize = isQ ? 0 : outRef.shape[1];
  const int64_t kvHeads = isQ ? 0 : outRef.shape[2];
  const int64_t cacheSlots = isQ ? 0 : outRef.shape[0] * outRef.shape[1];
  (void)cacheSlots;

  const uint64_t step = ctx.isDecode() ? ctx.step : 0;
  const int32_t *blockTable = nullptr;
  int64_t maxBlocks = 0;
  if (!isQ && step > 0)
    blockTable = blockTableOf(ctx, task, maxBlocks);

  kernels::RopeTable *ropeTable =
      rope ? &kernels::RopeTable::forThread(model, task.flags & isa::kFlagRopeLlama3, hd)
           : nullptr;

  using kernels::kRowBlock;
  const int64_t blockRows =
      std::min<int64_t>(kRowBlock, task.range[0].end - task.range[0].begin);
  float *const y = kernels::scratch<HeadDots, float>(size_t(blockRows) * hd);
  const isa::Range rows = task.range[0], heads = task.range[1];
  for (int64_t r0 = rows.begin; r0 < rows.end; r0 += kRowBlock) {
    const int64_t nRows = std::min<int64_t>(kRowBlock, rows.end - r0);
    // Inactive rows are zeros: dotted with the rest, then discarded.
    const bf16 *const xn = kernels::normalizedRows(ctx.launch, ctx.step, x, r0, nRows,
                                                   hidden, normW, eps, positions);
    for (int64_t h = heads.begin; h < heads.end; ++h) {
      // The head's hd dots of every row of the block (inactive rows' are discarded).
      kernels::dotBlockBf16(xn, hidden, nRows, w + h * hd * hidden, hidden, hd,
                            size_t(hidden), y, hd);
      for (int64_t i = 0; i < nRows; ++i)
        for (uint32_t d = 0; d < hd; ++d) {
          const float b = bias ? bf16ToFloat(bias[h * hd + d]) : 0.0f;
          y[i * hd + d] = roundToBf16(y[i * hd + d] + b);
        }
      for (int64_t i = 0; i < nRows; ++i) {
        const int64_t r = r0 + i;
        const int32_t pos = positions[r];
        if (pos < 0) {
          if (isQ)
            std::fill_n(out + r * qCols + h * hd, hd, bf16{0});
          continue;
        }
        float *yr = y + i * hd;
        if (headNormW)
          kernels::rmsNormInPlace(yr, headNormW, hd, eps);
        if (rope)
          kernels::applyRope(yr, ropeTable->angles(int64_t(pos) + int64_t(step)), hd,
                             interleaved);
        bf16 *dst;
        if (isQ) {
          dst = out + r * qCols + h * hd;
        } else {
          const int64_t slot = step == 0
                                   ? int64_t(kvSlots[r])
                                   : isa::kvSlot(blockTable + r * maxBlocks,
                                                 int64_t(pos) + int64_t(step), blockSize);
          if (slot < 0)
            continue;
          assert(slot < cacheSlots && "KV slot outside the cache");
          dst = out + (slot * kvHeads + h) * hd;
        }
        for (uint32_t d = 0; d < hd; ++d)
          dst[d] = floatToBf16(yr[d]);
      }
    }
  }
}

} // namespace mk::host::tasks
