//===- projection_dispatch.cuh - The projection kinds through one engine ---===//
//
// qkv, gate_up, o_proj, down_proj and lm_head are all project()
// (device/projection_engine.cuh) with a kind-specific prologue operand, weight-row map
// and epilogue. Each kind's file defines, in namespace mk::cuda::tasks,
//   ProjectionWork projectionFoo(ctx, task);                    input, units, unit width
//   const bf16 *columnRowFoo(ctx, task, unit0, units, j);       weight row of column j
//   void epilogueFoo(ctx, task, const ProjectionPass &pass);    consume one pass
// and runProjection calls project() once for all of them, choosing the kind's pieces
// by a switch where they are used. One instance of the engine, not five: the persistent
// kernel inlines every task kind into its worker loop, and ptxas keeps part of each
// inlined copy's registers live across the loop, so five copies of the engine's k loop
// do not fit the register file together (issue 4; each fits alone). The switches run a
// few times per pass, not per k step.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/projection_engine.cuh"
#include "task_context.cuh"
#include "tasks/down_proj.cuh"
#include "tasks/gate_up.cuh"
#include "tasks/lm_head.cuh"
#include "tasks/o_proj.cuh"
#include "tasks/qkv.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

/// The task kinds runProjection serves.
#define MK_PROJECTION_KINDS(X) X(Qkv) X(GateUp) X(OProj) X(DownProj) X(LmHead)

namespace mk::cuda::tasks {

/// Runs a task of one of MK_PROJECTION_KINDS (all threads of the CTA). The kind is
/// read from the task record where it is needed, so nothing of it stays in registers
/// across the engine's loops.
__device__ inline void runProjection(const TaskContext &ctx,
                                     const isa::TaskRecord &task) {
  ProjectionWork work;
  switch (static_cast<isa::TaskKind>(task.kind)) {
#define MK_X(Kind)                                                                       \
  case isa::TaskKind::Kind:                                                              \
    work = projection##Kind(ctx, task);                                                  \
    break;
    MK_PROJECTION_KINDS(MK_X)
#undef MK_X
  default:
    return;
  }
  project(
      ctx, work.in, task.range[0], work.units, work.unitCols,
      [&ctx, &task](uint32_t unit0, uint32_t units, uint32_t j) -> const bf16 * {
        switch (static_cast<isa::TaskKind>(task.kind)) {
#define MK_X(Kind)                                                                       \
  case isa::TaskKind::Kind:                                                              \
    return columnRow##Kind(ctx, task, unit0, units, j);
          MK_PROJECTION_KINDS(MK_X)
#undef MK_X
        default:
          return nullptr; // not reached: the first switch returned
        }
      },
      [&ctx, &task](const ProjectionPass &pass) {
        switch (static_cast<isa::TaskKind>(task.kind)) {
#define MK_X(Kind)                                                                       \
  case isa::TaskKind::Kind:                                                              \
    epilogue##Kind(ctx, task, pass);                                                     \
    break;
          MK_PROJECTION_KINDS(MK_X)
#undef MK_X
        default:
          break;
        }
      });
  // project() returned after a barrier: the tile's logits are visible to the CTA.
  if (static_cast<isa::TaskKind>(task.kind) == isa::TaskKind::LmHead)
    finishLmHead(ctx, task);
}

} // namespace mk::cuda::tasks
