//===- projection_pass.cuh - What a projection engine computes and hands on -===//
//
// The contract both projection engines (projection_mma_sync.cuh,
// projection_wgmma.cuh) keep, so the projection kinds' epilogues cannot tell them
// apart: the work of a tile (ProjectionInput, ProjectionWork), the result of one column
// pass in shared memory (ProjectionPass), and the two parts of the task scratch they
// lay out alike:
//   [0, kScaleBytes)   the row scales of the block (fp32, kMaxRows)
//   partial sums       [rows][partStride(cols)] fp32, the layout the epilogue reads
//===----------------------------------------------------------------------===//
#pragma once

#include "config.cuh"
#include "device/bf16.cuh"
#include "launch.h"

#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda {

/// The activation operand of a projection.
struct ProjectionInput {
  const bf16 *x;     // [R, k] bf16, row r at x + r * k
  const bf16 *normW; // [k] bf16: RMSNorm prologue; nullptr: A = x
  float eps;
  uint32_t k;
};

/// What a projection kind's tile computes: `units` units of `unitCols` columns over
/// rows `rows` of in.x (tasks/projection_dispatch.cuh runs it). Dense kinds: the task's
/// range[0]; a MoE expert tile: its slot's routed rows [0, n_s) (none past the count).
struct ProjectionWork {
  ProjectionInput in;
  isa::Range rows;
  uint32_t units;
  uint32_t unitCols;
};

/// The result of one column pass, in shared memory. Pass column j of unit u is
/// j = u * unitCols + (column within the unit), as the kind's columnRow maps it.
struct ProjectionPass {
  float *d;        // [rows, stride] fp32: d(r, j) = A[row0 + r] . W_j
  uint32_t stride; // floats per row
  uint32_t row0;   // first row of the block (an x row index)
  uint32_t rows;
  uint32_t unit0; // first unit of the pass (0-based within the task's units)
  uint32_t units;
  __device__ float &at(uint32_t r, uint32_t j) const { return d[r * stride + j]; }
};

namespace projection {

inline constexpr uint32_t kMaxRows = 64;              // rows of a prefill row block
inline constexpr uint32_t kScaleBytes = kMaxRows * 4; // row scales, start of scratch
// n8 tiles per warp of the mma.sync engine: enough that the warps of the CTA cover a
// whole head of kMaxHeadDim columns (qkv's unit), at least 2 (two mma per A fragment
// load). Partial-sum rows are padded to whole warp column tiles of kWarpCols.
inline constexpr uint32_t kNTiles = kMaxHeadDim / (8 * kWarps) > 2
                                        ? kMaxHeadDim / (8 * kWarps)
                                        : 2;
inline constexpr uint32_t kWarpCols = 8 * kNTiles;

__device__ __forceinline__ uint32_t ceilDiv(uint32_t a, uint32_t b) {
  return (a + b - 1) / b;
}
__device__ __forceinline__ uint32_t roundUp(uint32_t a, uint32_t b) {
  return ceilDiv(a, b) * b;
}

/// Floats per partial-sum row of a pass of `cols` columns: = 8 mod 16, so the float2
/// stores of a half warp (rows group..group+3, columns 2 quad) hit distinct banks.
__device__ __forceinline__ uint32_t partStride(uint32_t cols) {
  return roundUp(cols, kWarpCols) + 8;
}

__device__ __forceinline__ uint32_t sharedAddress(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

} // namespace projection
} // namespace mk::cuda
