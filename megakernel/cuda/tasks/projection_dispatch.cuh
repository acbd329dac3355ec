//===- projection_dispatch.cuh - The projection kinds through one engine ---===//
//
// qkv, gate_up, o_proj, down_proj, lm_head and the MoE expert tiles (moe_gate_up,
// moe_down) are all project() (device/projection_engine.cuh) with a kind-specific
// prologue operand, rows, weight-row map and epilogue. Each kind K whose
// CudaTask<K>::kEngine is Engine::Projection defines
//   static ProjectionWork work(ctx, task);               input, rows, units, unit width
//   static const bf16 *columnRow(ctx, task, unit0, units, j);   weight row of column j
//   static void epilogue(ctx, task, const ProjectionPass &pass); consume one pass
//   static void finish(ctx, task);                  after the last pass (CTA-visible)
// and runProjection calls project() once for all of them, choosing the kind's pieces
// by a switch (generated from MK_TASK_KINDS) where they are used. One instance of the
// engine, not seven (task_context.cuh, Engine). The switches run a few times per pass,
// not per k step.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/projection_engine.cuh"
#include "task_context.cuh"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

namespace projection_dispatch {
// The pieces of kind K, or nothing for a kind of another engine (never reached:
// runTask calls runProjection for projection kinds only).
template <isa::TaskKind K>
__device__ __forceinline__ bool work(const TaskContext &ctx, const isa::TaskRecord &task,
                                     ProjectionWork &w) {
  if constexpr (runsOn<K>(Engine::Projection)) {
    w = CudaTask<K>::work(ctx, task);
    return true;
  } else {
    return false;
  }
}
template <isa::TaskKind K>
__device__ __forceinline__ const bf16 *
columnRow(const TaskContext &ctx, const isa::TaskRecord &task, uint32_t unit0,
          uint32_t units, uint32_t j) {
  if constexpr (runsOn<K>(Engine::Projection))
    return CudaTask<K>::columnRow(ctx, task, unit0, units, j);
  else
    return nullptr;
}
template <isa::TaskKind K>
__device__ __forceinline__ void epilogue(const TaskContext &ctx,
                                         const isa::TaskRecord &task,
                                         const ProjectionPass &pass) {
  if constexpr (runsOn<K>(Engine::Projection))
    CudaTask<K>::epilogue(ctx, task, pass);
}
template <isa::TaskKind K>
__device__ __forceinline__ void finish(const TaskContext &ctx,
                                       const isa::TaskRecord &task) {
  if constexpr (runsOn<K>(Engine::Projection))
    CudaTask<K>::finish(ctx, task);
}

/// The work of the task's kind; false for a kind of another engine.
__device__ __forceinline__ bool
selectWork(const TaskContext &ctx, const isa::TaskRecord &task, ProjectionWork &w) {
  switch (static_cast<isa::TaskKind>(task.kind)) {
#define MK_X(Kind, ...)                                                                  \
  case isa::TaskKind::Kind:                                                              \
    return work<isa::TaskKind::Kind>(ctx, task, w);
    MK_TASK_KINDS(MK_X)
#undef MK_X
  }
  return false; // a kind outside the table: the plan verifier refuses it
}
} // namespace projection_dispatch

/// Runs a task of a projection kind (all threads of the CTA). The kind is read from
/// the task record where it is needed, so nothing of it stays in registers across the
/// engine's loops.
__device__ inline void runProjection(const TaskContext &ctx,
                                     const isa::TaskRecord &task) {
  namespace pd = projection_dispatch;
  ProjectionWork work;
  if (!pd::selectWork(ctx, task, work))
    return;
  project(
      ctx, work.in, work.rows, work.units, work.unitCols,
      [&ctx, &task](uint32_t unit0, uint32_t units, uint32_t j) -> const bf16 * {
        switch (static_cast<isa::TaskKind>(task.kind)) {
#define MK_X(Kind, ...)                                                                  \
  case isa::TaskKind::Kind:                                                              \
    return pd::columnRow<isa::TaskKind::Kind>(ctx, task, unit0, units, j);
          MK_TASK_KINDS(MK_X)
#undef MK_X
        }
        return nullptr; // not reached: the first switch returned
      },
      [&ctx, &task](const ProjectionPass &pass) {
        switch (static_cast<isa::TaskKind>(task.kind)) {
#define MK_X(Kind, ...)                                                                  \
  case isa::TaskKind::Kind:                                                              \
    pd::epilogue<isa::TaskKind::Kind>(ctx, task, pass);                                  \
    break;
          MK_TASK_KINDS(MK_X)
#undef MK_X
        }
      });
  // project() returned after a barrier: the tile's outputs are visible to the CTA.
  switch (static_cast<isa::TaskKind>(task.kind)) {
#define MK_X(Kind, ...)                                                                  \
  case isa::TaskKind::Kind:                                                              \
    pd::finish<isa::TaskKind::Kind>(ctx, task);                                          \
    break;
    MK_TASK_KINDS(MK_X)
#undef MK_X
  }
}

} // namespace mk::cuda::tasks
