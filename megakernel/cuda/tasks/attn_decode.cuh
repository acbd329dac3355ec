//===- attn_decode.cuh - Flash-decoding partial over one KV split ---------===//
//
//   q [B, heads * hd] bf16, k_cache / v_cache [blocks, block_size, kv_heads, hd] bf16,
//   block_table [B, max_blocks] i32, seq_lens [B] i32
//   -> partial_o [B, heads, splits, hd] f32, partial_lse [B, heads, splits] f32
//   tile: rows range[0], KV heads range[1], KV positions range[2] = [p0, p1);
//   aux[0] = split index, aux[1] = sliding window (with kFlagSlidingWindow) or 0.
//
// The function of host/tasks/attn_decode.h. Row b is active when seq_lens[b] > 0; at
// step s it attends keys [lo, n), n = seq_lens[b] + s, lo = max(0, n - window) (0
// without a window), intersected with [p0, p1), through block_table[b]. Units
// (device/attention_engine.cuh): per KV head g and row b, the group's query heads in
// chunks of kUnitQueries, all over the same keys. An empty range writes o = 0, lse =
// -inf.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/attention_engine.cuh"
#include "task_context.cuh"

namespace mk::cuda::tasks {

namespace attn_decode {
constexpr isa::TaskKind kKind = isa::TaskKind::AttnDecode;
constexpr uint32_t kQ = role(kKind, "q");
constexpr uint32_t kKCache = role(kKind, "k_cache");
constexpr uint32_t kVCache = role(kKind, "v_cache");
constexpr uint32_t kBlockTable = role(kKind, "block_table");
constexpr uint32_t kSeqLens = role(kKind, "seq_lens");
constexpr uint32_t kPartialO = role(kKind, "partial_o");
constexpr uint32_t kPartialLse = role(kKind, "partial_lse");

/// Unit u = ((g - g0) * rows + (b - b0)) * chunks + c: KV head g, row b, query heads
/// g * group + c * kUnitQueries + i.
struct Units {
  const bf16 *q;             // [B, qCols]
  const int32_t *blockTable; // [B, maxBlocks]
  const int32_t *seqLens;    // [B]
  float *partialO;           // [B, heads, splits, hd]
  float *partialLse;         // [B, heads, splits]
  int64_t qCols, maxBlocks, heads, splits, split;
  int64_t window, p0, p1, step;
  uint32_t hd, group, chunks, rows, row0, kvHead0;

  struct Coord {
    uint32_t g, b, h; // KV head, row, query head of the unit's query 0
  };
  __device__ Coord coord(uint32_t unit) const {
    const uint32_t perHead = rows * chunks, rem = unit % perHead;
    const uint32_t g = kvHead0 + unit / perHead;
    return {g, row0 + rem / chunks, g * group + (rem % chunks) * kUnitQueries};
  }

  __device__ uint32_t count(uint32_t unit) const {
    const Coord c = coord(unit);
    return min(kUnitQueries, (c.g + 1) * group - c.h);
  }
  __device__ const bf16 *query(uint32_t unit, uint32_t i) const {
    const Coord c = coord(unit);
    return q + c.b * qCols + int64_t(c.h + i) * hd;
  }
  __device__ int2 keys(uint32_t unit, uint32_t) const {
    const uint32_t b = coord(unit).b;
    const int64_t n = seqLens[b] > 0 ? int64_t(seqLens[b]) + step : 0;
    const int64_t lo = window > 0 && n > window ? n - window : 0;
    return {int32_t(lo > p0 ? lo : p0), int32_t(n < p1 ? n : p1)};
  }
  __device__ const int32_t *table(uint32_t unit) const {
    return blockTable + coord(unit).b * maxBlocks;
  }
  __device__ uint32_t kvHead(uint32_t unit) const { return coord(unit).g; }
  __device__ void store(uint32_t unit, uint32_t i, uint32_t d, float o) const {
    const Coord c = coord(unit);
    partialO[((c.b * heads + c.h + i) * splits + split) * hd + d] = o;
  }
  __device__ void storeLse(uint32_t unit, uint32_t i, float lse) const {
    const Coord c = coord(unit);
    partialLse[(c.b * heads + c.h + i) * splits + split] = lse;
  }
};
} // namespace attn_decode

template <> struct CudaTask<isa::TaskKind::AttnDecode> {
  static constexpr Engine kEngine = Engine::Attention;
  using Units = attn_decode::Units;
  __device__ static AttentionWork<Units> work(const TaskContext &ctx,
                                              const isa::TaskRecord &task);
};

__device__ inline AttentionWork<attn_decode::Units>
CudaTask<isa::TaskKind::AttnDecode>::work(const TaskContext &ctx,
                                          const isa::TaskRecord &task) {
  using namespace attn_decode;
  const DeviceModel &model = *ctx.model;
  const uint32_t hd = model.headDim, group = model.numHeads / model.numKvHeads;
  const uint32_t chunks = (group + kUnitQueries - 1) / kUnitQueries;
  const DeviceTensor &cache = ctx.tensor(task, kKCache);
  const DeviceTensor &po = ctx.tensor(task, kPartialO);
  const isa::Range rows = task.range[0], kvHeads = task.range[1];

  const Units units{ctx.data<const bf16>(task, kQ),
                    ctx.data<const int32_t>(task, kBlockTable),
                    ctx.data<const int32_t>(task, kSeqLens),
                    ctx.data<float>(task, kPartialO),
                    ctx.data<float>(task, kPartialLse),
                    ctx.tensor(task, kQ).shape[1],
                    ctx.tensor(task, kBlockTable).shape[1],
                    po.shape[1],
                    po.shape[2],
                    task.aux[0],
                    (task.flags & isa::kFlagSlidingWindow) ? int64_t(task.aux[1]) : 0,
                    task.range[2].begin,
                    task.range[2].end,
                    int64_t(ctx.step),
                    hd,
                    group,
                    chunks,
                    rows.end - rows.begin,
                    rows.begin,
                    kvHeads.begin};
  const PagedKv kv{ctx.data<const bf16>(task, kKCache),
                   ctx.data<const bf16>(task, kVCache), uint32_t(cache.shape[1]),
                   uint32_t(cache.shape[2]), hd};
  return {units, kv, (kvHeads.end - kvHeads.begin) * units.rows * chunks};
}

} // namespace mk::cuda::tasks
