//===- attn_decode.h - Flash-decoding partial over one KV split ---------===//
//
//   q [B, heads * hd] bf16, k_cache / v_cache [blocks, block_size, kv_heads, hd] bf16,
//   block_table [B, max_blocks] i32, seq_lens [B] i32
//   -> partial_o [B, heads, splits, hd] f32, partial_lse [B, heads, splits] f32
//   tile: rows range[0], KV heads range[1], KV positions range[2] = [p0, p1);
//   aux[0] = split index, aux[1] = sliding window (with kFlagSlidingWindow) or 0.
//
// Row b is active when seq_lens[b] > 0. At step s it attends keys [lo, n) with
// n = seq_lens[b] + s and lo = max(0, n - window) (0 without a window), intersected
// with [p0, p1), read through block_table[b]. Each query head of the KV head's group
// writes its normalized partial output and log-sum-exp (kernels/attention.h); an empty
// key range (or an inactive row) writes o = 0, lse = -inf, which attn_merge ignores.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include "kernels/attention.h"

#include "mk/isa/step_state.h"

#include <algorithm>
#include <vector>

namespace mk::host::tasks {

namespace attn_decode {
constexpr isa::TaskKind kKind = isa::TaskKind::AttnDecode;
constexpr uint32_t kQ = role(kKind, "q");
constexpr uint32_t kKCache = role(kKind, "k_cache");
constexpr uint32_t kVCache = role(kKind, "v_cache");
constexpr uint32_t kBlockTable = role(kKind, "block_table");
constexpr uint32_t kSeqLens = role(kKind, "seq_lens");
constexpr uint32_t kPartialO = role(kKind, "partial_o");
constexpr uint32_t kPartialLse = role(kKind, "partial_lse");
} // namespace attn_decode

template <> struct HostTask<isa::TaskKind::AttnDecode> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::AttnDecode>::run(const TaskContext &ctx,
                                                     const isa::TaskRecord &task) {
  using namespace attn_decode;
  const isa::ModelMeta &model = *ctx.model;
  const uint32_t hd = model.headDim;
  const uint32_t group = ctx.kvGroup();
  const TensorRef &cacheRef = ctx.tensor(task, kKCache);
  const TensorRef &tableRef = ctx.tensor(task, kBlockTable);
  const TensorRef &poRef = ctx.tensor(task, kPartialO);
  const int64_t blockSize = cacheRef.shape[1], kvHeads = cacheRef.shape[2];
  const int64_t maxBlocks = tableRef.shape[1];
  const int64_t heads = poRef.shape[1], splits = poRef.shape[2];
  const int64_t qCols = ctx.tensor(task, kQ).shape[1];
  assert(cacheRef.shape[3] == hd && poRef.shape[3] == hd && heads * hd == qCols);

  const bf16 *q = ctx.data<const bf16>(task, kQ);                         // [B, heads*hd]
  const bf16 *kCache = ctx.data<const bf16>(task, kKCache);               // [.., kvh, hd]
  const bf16 *vCache = ctx.data<const bf16>(task, kVCache);               // [.., kvh, hd]
  const int32_t *blockTable = ctx.data<const int32_t>(task, kBlockTable); // [B, mb]
  const int32_t *seqLens = ctx.data<const int32_t>(task, kSeqLens);       // [B]
  float *partialO = ctx.data<float>(task, kPartialO);     // [B, heads, splits, hd]
  float *partialLse = ctx.data<float>(task, kPartialLse); // [B, heads, splits]

  const int64_t split = task.aux[0];
  assert(split < splits);
  const int64_t window = (task.flags & isa::kFlagSlidingWindow) ? task.aux[1] : 0;
  const int64_t p0 = task.range[2].begin, p1 = task.range[2].end;
  const float scale = kernels::attentionScale(hd);

  std::vector<int64_t> slots;
  std::vector<float> o(size_t(group) * hd), lse(group), scratch;
  for (int64_t g = task.range[1].begin; g < task.range[1].end; ++g) {
    const kernels::KvHeadView cache{kCache, vCache, kvHeads, g, hd};
    for (int64_t b = task.range[0].begin; b < task.range[0].end; ++b) {
      const int64_t n = seqLens[b] > 0 ? int64_t(seqLens[b]) + int64_t(ctx.step) : 0;
      const int64_t lo = window > 0 ? std::max<int64_t>(0, n - window) : 0;
      const int64_t k0 = std::max(lo, p0), k1 = std::min(n, p1);
      slots.clear();
      for (int64_t p = k0; p < k1; ++p)
        slots.push_back(isa::kvSlot(blockTable + b * maxBlocks, p, blockSize));
      kernels::attendSlots(q + b * qCols + g * group * hd, group, cache, slots.data(),
                           int64_t(slots.size()), scale, o.data(), lse.data(), scratch);
      for (uint32_t j = 0; j < group; ++j) {
        const int64_t h = g * group + j;
        std::copy_n(o.data() + size_t(j) * hd, hd,
                    partialO + ((b * heads + h) * splits + split) * hd);
        partialLse[(b * heads + h) * splits + split] = lse[j];
      }
    }
  }
}

} // namespace mk::host::tasks
