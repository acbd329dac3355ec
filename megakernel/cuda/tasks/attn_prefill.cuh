//===- attn_prefill.cuh - Causal attention of a prefill chunk -------------===//
//
//   q [C, heads * hd] bf16, k_cache / v_cache [blocks, block_size, kv_heads, hd] bf16,
//   block_table [1, max_blocks] i32, positions [C] i32
//   -> out [C, heads * hd] bf16, columns of the query heads of KV heads range[1]
//   tile: rows range[0], KV heads range[1]; aux[1] = sliding window (with
//   kFlagSlidingWindow) or 0.
//
// The function of host/tasks/attn_prefill.h. All rows belong to sequence 0 (block
// table row 0). Row r at position p = positions[r] >= 0 attends keys [lo, p], lo =
// max(0, p - window + 1) with a window, else 0; inactive rows (p < 0) write zeros.
// Units (device/attention_engine.cuh): the (row, query head) pairs of a KV head,
// row-major, in chunks of kUnitQueries; a chunk may span rows (each query keeps its own
// causal range), so every key load serves up to kUnitQueries queries even without GQA.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/attention_engine.cuh"
#include "task_context.cuh"

namespace mk::cuda::tasks {

namespace attn_prefill {
constexpr isa::TaskKind kKind = isa::TaskKind::AttnPrefill;
constexpr uint32_t kQ = role(kKind, "q");
constexpr uint32_t kKCache = role(kKind, "k_cache");
constexpr uint32_t kVCache = role(kKind, "v_cache");
constexpr uint32_t kBlockTable = role(kKind, "block_table");
constexpr uint32_t kPositions = role(kKind, "positions");
constexpr uint32_t kOut = role(kKind, "out");

/// Unit u = (g - g0) * perHead + c holds the queries x = c * kUnitQueries + i <
/// rows * group of KV head g: row r0 + x / group, query head g * group + x % group.
struct Units {
  const bf16 *q;             // [C, cols]
  const int32_t *blockTable; // [1, maxBlocks]
  const int32_t *positions;  // [C]
  bf16 *out;                 // [C, cols]
  int64_t cols, window;
  uint32_t hd, group, rows, row0, kvHead0, perHead;

  struct Query {
    uint32_t g, r, h; // KV head, row, query head
  };
  __device__ Query locate(uint32_t unit, uint32_t i) const {
    const uint32_t g = kvHead0 + unit / perHead;
    const uint32_t x = (unit % perHead) * kUnitQueries + i;
    return {g, row0 + x / group, g * group + x % group};
  }

  __device__ uint32_t count(uint32_t unit) const {
    return min(kUnitQueries, rows * group - (unit % perHead) * kUnitQueries);
  }
  __device__ const bf16 *query(uint32_t unit, uint32_t i) const {
    const Query x = locate(unit, i);
    return q + x.r * cols + int64_t(x.h) * hd;
  }
  __device__ int2 keys(uint32_t unit, uint32_t i) const {
    const int32_t p = positions[locate(unit, i).r];
    const int32_t lo = window > 0 && p >= window ? int32_t(p - window + 1) : 0;
    return {lo, p + 1}; // p < 0: empty
  }
  __device__ const int32_t *table(uint32_t) const { return blockTable; }
  __device__ uint32_t kvHead(uint32_t unit) const { return kvHead0 + unit / perHead; }
  __device__ void store(uint32_t unit, uint32_t i, uint32_t d, float o) const {
    const Query x = locate(unit, i);
    out[x.r * cols + int64_t(x.h) * hd + d] = toBf16(o);
  }
  __device__ void storeLse(uint32_t, uint32_t, float) const {}
};
} // namespace attn_prefill

template <> struct CudaTask<isa::TaskKind::AttnPrefill> {
  static constexpr Engine kEngine = Engine::Attention;
  using Units = attn_prefill::Units;
  __device__ static AttentionWork<Units> work(const TaskContext &ctx,
                                              const isa::TaskRecord &task);
};

__device__ inline AttentionWork<attn_prefill::Units>
CudaTask<isa::TaskKind::AttnPrefill>::work(const TaskContext &ctx,
                                           const isa::TaskRecord &task) {
  using namespace attn_prefill;
  const DeviceModel &model = *ctx.model;
  const uint32_t hd = model.headDim, group = model.numHeads / model.numKvHeads;
  const DeviceTensor &cache = ctx.tensor(task, kKCache);
  const isa::Range rows = task.range[0], kvHeads = task.range[1];
  const uint32_t queries = (rows.end - rows.begin) * group;
  const uint32_t perHead = (queries + kUnitQueries - 1) / kUnitQueries;

  const Units units{ctx.data<const bf16>(task, kQ),
                    ctx.data<const int32_t>(task, kBlockTable),
                    ctx.data<const int32_t>(task, kPositions),
                    ctx.data<bf16>(task, kOut),
                    ctx.tensor(task, kQ).shape[1],
                    (task.flags & isa::kFlagSlidingWindow) ? int64_t(task.aux[1]) : 0,
                    hd,
                    group,
                    rows.end - rows.begin,
                    rows.begin,
                    kvHeads.begin,
                    perHead};
  const PagedKv kv{ctx.data<const bf16>(task, kKCache),
                   ctx.data<const bf16>(task, kVCache), uint32_t(cache.shape[1]),
                   uint32_t(cache.shape[2]), hd};
  return {units, kv, (kvHeads.end - kvHeads.begin) * perHead};
}

} // namespace mk::cuda::tasks
