//===- attention.cuh - The attention kinds through one attention engine ----===//
//
// attn_decode and attn_prefill are both attendUnits() (device/attention.cuh) over a
// kind-specific unit description. Each kind's file defines, in namespace
// mk::cuda::tasks,
//   AttentionWork<foo::Units> attentionFoo(ctx, task);
// and runAttention wraps either description in AnyAttnUnits, so attendUnits (and its
// key loop) is instantiated and inlined once for both kinds; see tasks/projections.cuh
// for why the persistent kernel wants one copy of each engine.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/attention.cuh"
#include "task_context.cuh"
#include "tasks/attn_decode.cuh"
#include "tasks/attn_prefill.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

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

/// Runs an AttnDecode or AttnPrefill task (all threads of the CTA).
__device__ inline void runAttention(const TaskContext &ctx, const isa::TaskRecord &task) {
  AttentionWork<AnyAttnUnits> work;
  switch (static_cast<isa::TaskKind>(task.kind)) {
  case isa::TaskKind::AttnDecode: {
    const AttentionWork<attn_decode::Units> w = attentionAttnDecode(ctx, task);
    work.units.prefill = false;
    work.units.decode = w.units;
    work.kv = w.kv;
    work.numUnits = w.numUnits;
    break;
  }
  case isa::TaskKind::AttnPrefill: {
    const AttentionWork<attn_prefill::Units> w = attentionAttnPrefill(ctx, task);
    work.units.prefill = true;
    work.units.prefillUnits = w.units;
    work.kv = w.kv;
    work.numUnits = w.numUnits;
    break;
  }
  default:
    return;
  }
  const KeyLayout layout =
      keyLayout(work.kv.hd, aligned16(work.kv.k) && aligned16(work.kv.v));
  attendUnits(work.kv, layout, work.units, work.numUnits, ctx.model->attnScale,
              ctx.scratch);
}

} // namespace mk::cuda::tasks
