//===- attn_prefill.h - Causal attention of a prefill chunk -------------===//
//
//   q [C, heads * hd] bf16, k_cache / v_cache [blocks, block_size, kv_heads, hd] bf16,
//   block_table [1, max_blocks] i32, positions [C] i32
//   -> out [C, heads * hd] bf16, columns of the query heads of KV heads range[1]
//   tile: rows range[0], KV heads range[1]; aux[1] = sliding window (with
//   kFlagSlidingWindow) or 0.
//
// All rows belong to sequence 0 (block_table row 0). Row r at position p =
// positions[r] >= 0 attends the keys at positions [lo, p], lo = max(0, p - window + 1)
// with a window, else 0, read from the cache: this chunk's keys were appended by its
// qkv tasks, earlier chunks' keys are already there. Softmax in fp32
// (kernels/attention.h), output rounded to bf16. Inactive rows (p < 0) write zeros.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include "kernels/attention.h"

#include "mk/isa/step_state.h"

#include <algorithm>
#include <vector>

namespace mk::host::tasks {

namespace attn_prefill {
constexpr isa::TaskKind kKind = isa::TaskKind::AttnPrefill;
constexpr uint32_t kQ = role(kKind, "q");
constexpr uint32_t kKCache = role(kKind, "k_cache");
constexpr uint32_t kVCache = role(kKind, "v_cache");
constexpr uint32_t kBlockTable = role(kKind, "block_table");
constexpr uint32_t kPositions = role(kKind, "positions");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace attn_prefill

template <> struct HostTask<isa::TaskKind::AttnPrefill> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::AttnPrefill>::run(const TaskContext &ctx,
                                                      const isa::TaskRecord &task) {
  using namespace attn_prefill;
  const isa::ModelMeta &model = *ctx.model;
  const uint32_t hd = model.headDim;
  const uint32_t group = ctx.kvGroup();
  const TensorRef &cacheRef = ctx.tensor(task, kKCache);
  const int64_t blockSize = cacheRef.shape[1], kvHeads = cacheRef.shape[2];
  const int64_t cols = ctx.tensor(task, kQ).shape[1];
  assert(cacheRef.shape[3] == hd && ctx.tensor(task, kOut).shape[1] == cols);

  const bf16 *q = ctx.data<const bf16>(task, kQ);                         // [C, cols]
  const bf16 *kCache = ctx.data<const bf16>(task, kKCache);               // [.., kvh, hd]
  const bf16 *vCache = ctx.data<const bf16>(task, kVCache);               // [.., kvh, hd]
  const int32_t *blockTable = ctx.data<const int32_t>(task, kBlockTable); // [1, mb]
  const int32_t *positions = ctx.data<const int32_t>(task, kPositions);   // [C]
  bf16 *out = ctx.data<bf16>(task, kOut);                                 // [C, cols]

  const int64_t window = (task.flags & isa::kFlagSlidingWindow) ? task.aux[1] : 0;
  const float scale = kernels::attentionScale(hd);

  std::vector<int64_t> slots;
  std::vector<float> o(size_t(group) * hd), scratch;
  for (int64_t g = task.range[1].begin; g < task.range[1].end; ++g) {
    const kernels::KvHeadView cache{kCache, vCache, kvHeads, g, hd};
    for (int64_t r = task.range[0].begin; r < task.range[0].end; ++r) {
      bf16 *dst = out + r * cols + g * group * hd;
      const int64_t p = positions[r];
      if (p < 0) {
        std::fill_n(dst, size_t(group) * hd, bf16{0});
        continue;
      }
      const int64_t lo = window > 0 ? std::max<int64_t>(0, p - window + 1) : 0;
      slots.clear();
      for (int64_t k = lo; k <= p; ++k)
        slots.push_back(isa::kvSlot(blockTable, k, blockSize));
      kernels::attendSlots(q + r * cols + g * group * hd, group, cache, slots.data(),
                           int64_t(slots.size()), scale, o.data(), nullptr, scratch);
      for (size_t i = 0; i < size_t(group) * hd; ++i)
        dst[i] = floatToBf16(o[i]);
    }
  }
}

} // namespace mk::host::tasks
