//===- projection_engine.cuh - project(): mma.sync or warpgroup MMA --------===//
//
// project() is what the projection task kinds call (tasks/projection_dispatch.cuh). It
// picks one of two engines with the same contract and the same numerics (fp32 sums of the
// same bf16 products; only the order of the additions differs, fixed for each):
//   projectWgmma   (device/projection_wgmma.cuh): sm_90a, tasks of more than
//                  kWgmmaMinRows - 1 rows (prefill chunks, large decode batches) whose
//                  rows are 16-byte aligned (k % 8 == 0);
//   projectMmaSync (device/projection_mma_sync.cuh): everything else, on every
//   architecture.
// The choice depends on the task's shape and the architecture only, so a task computes
// the same bits on every run.
//===----------------------------------------------------------------------===//
#pragma once

#include "device/projection_mma_sync.cuh"
#include "device/projection_wgmma.cuh"
#include "task_context.cuh"

#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda {

/// Fewest rows a task needs for warpgroup MMA: more than one m16 tile of mma.sync, so a
/// 64-row instruction is at least a quarter used.
inline constexpr uint32_t kWgmmaMinRows = 17;

/// Computes d(r, j) = A[r] . W_j for rows `rows` of in.x and `units` units of unitCols
/// (<= kMaxHeadDim) columns each, and calls epilogue(const ProjectionPass &) from all
/// threads once per (row block, column pass), in order. columnRow(unit0, units, j)
/// returns W_j of pass column j of the pass covering units [unit0, unit0 + units): a
/// [in.k] bf16 row, 16-byte aligned when in.k % 8 == 0. Contains __syncthreads: call
/// from all threads of the CTA. Returns after a __syncthreads (or at once when there is
/// nothing to do), so global writes of the epilogues are visible to the whole CTA.
template <class ColumnRow, class Epilogue>
__device__ void project(const TaskContext &ctx, const ProjectionInput &in,
                        isa::Range rows, uint32_t units, uint32_t unitCols,
                        const ColumnRow &columnRow, const Epilogue &epilogue) {
#if MK_CUDA_WGMMA
  if (rows.end - rows.begin >= kWgmmaMinRows && in.k % 8 == 0) {
    projectWgmma(ctx, in, rows, units, unitCols, columnRow, epilogue);
    return;
  }
#endif
  projectMmaSync(ctx, in, rows, units, unitCols, columnRow, epilogue);
}

} // namespace mk::cuda
