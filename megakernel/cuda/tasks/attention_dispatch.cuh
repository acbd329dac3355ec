//===- attention_dispatch.cuh - The attention kinds through one engine ----===//
//
// attn_decode and attn_prefill are both attendUnits() (device/attention_engine.cuh) over
// a kind-specific unit description. Each kind K whose CudaTask<K>::kEngine is
// Engine::Attention defines
//   static AttentionWork<Units> work(ctx, task);
// and runAttention wraps the description in AnyAttnUnits (a union of the attention
// kinds' Units), so attendUnits (and its key loop) is instantiated and inlined once for
// all of them (task_context.cuh, Engine).
//===----------------------------------------------------------------------===//
#pragma once

#include "device/attention_engine.cuh"
#include "task_context.cuh"
#include "tasks/attn_decode.cuh"
#include "tasks/attn_prefill.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>
#include <type_traits>

namespace mk::cuda::tasks {

/// The Units of attn_decode or attn_prefill, chosen at run time. attendUnits keeps it
/// in shared memory and calls it outside its key loop only.
struct AnyAttnUnits {
  bool prefill;
  union {
    attn_decode::Units decode;
    attn_prefill::Units prefillUnits;
  };

  __device__ uint32_t count(uint32_t u) const {
    return prefill ? prefillUnits.count(u) : decode.count(u);
  }
  __device__ const bf16 *query(uint32_t u, uint32_t i) const {
    return prefill ? prefillUnits.query(u, i) : decode.query(u, i);
  }
  __device__ int2 keys(uint32_t u, uint32_t i) const {
    return prefill ? prefillUnits.keys(u, i) : decode.keys(u, i);
  }
  __device__ const int32_t *table(uint32_t u) const {
    return prefill ? prefillUnits.table(u) : decode.table(u);
  }
  __device__ uint32_t kvHead(uint32_t u) const {
    return prefill ? prefillUnits.kvHead(u) : decode.kvHead(u);
  }
  __device__ void store(uint32_t u, uint32_t i, uint32_t d, float o) const {
    if (prefill)
      prefillUnits.store(u, i, d, o);
    else
      decode.store(u, i, d, o);
  }
  __device__ void storeLse(uint32_t u, uint32_t i, float lse) const {
    if (prefill)
      prefillUnits.storeLse(u, i, lse);
    else
      decode.storeLse(u, i, lse);
  }
};

/// A kind's work with its units wrapped in AnyAttnUnits.
template <class Units>
__device__ AttentionWork<AnyAttnUnits> anyWork(const AttentionWork<Units> &w) {
  static_assert(std::is_same_v<Units, attn_prefill::Units> ||
                    std::is_same_v<Units, attn_decode::Units>,
                "AnyAttnUnits holds the Units of every attention kind");
  AttentionWork<AnyAttnUnits> any;
  any.kv = w.kv;
  any.numUnits = w.numUnits;
  any.units.prefill = std::is_same_v<Units, attn_prefill::Units>;
  if constexpr (std::is_same_v<Units, attn_prefill::Units>)
    any.units.prefillUnits = w.units;
  else
    any.units.decode = w.units;
  return any;
}

namespace attention_dispatch {
// The work of kind K, or false for a kind of another engine (never reached: runTask
// calls runAttention for attention kinds only).
template <isa::TaskKind K>
__device__ __forceinline__ bool work(const TaskContext &ctx, const isa::TaskRecord &task,
                                     AttentionWork<AnyAttnUnits> &w) {
  if constexpr (runsOn<K>(Engine::Attention)) {
    w = anyWork(CudaTask<K>::work(ctx, task));
    return true;
  } else {
    return false;
  }
}

__device__ __forceinline__ bool selectWork(const TaskContext &ctx,
                                           const isa::TaskRecord &task,
                                           AttentionWork<AnyAttnUnits> &w) {
  switch (static_cast<isa::TaskKind>(task.kind)) {
#define MK_X(Kind, ...)                                                                  \
  case isa::TaskKind::Kind:                                                              \
    return work<isa::TaskKind::Kind>(ctx, task, w);
    MK_TASK_KINDS(MK_X)
#undef MK_X
  }
  return false; // a kind outside the table: the plan verifier refuses it
}
} // namespace attention_dispatch

/// Runs a task of an attention kind (all threads of the CTA).
__device__ inline void runAttention(const TaskContext &ctx, const isa::TaskRecord &task) {
  AttentionWork<AnyAttnUnits> work;
  if (!attention_dispatch::selectWork(ctx, task, work))
    return;
  const KeyLayout layout =
      keyLayout(work.kv.hd, aligned16(work.kv.k) && aligned16(work.kv.v));
  attendUnits(work.kv, layout, work.units, work.numUnits, ctx.model->attnScale,
              ctx.scratch);
}

} // namespace mk::cuda::tasks
