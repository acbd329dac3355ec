//===- projection_mma_sync.cuh - The projection engine on mma.sync ---------===//
//
// projectMmaSync, one of the two engines of the weight-streaming task kinds (qkv,
// gate_up, o_proj, down_proj, lm_head, moe_gate_up, moe_down; contract in
// projection_pass.cuh). For the rows of a task and a list of weight rows (one per
// output column):
//   A = rmsNorm(x) or x     [rows, k] bf16 (rms_norm.cuh rounding points)
//   d(r, j) = A[r] . W_j    fp32 (W_j: [k] bf16, any row of any weight)
// handed to the kind's epilogue in shared memory, pass by pass.
//
// Decomposition (all kThreads threads of the CTA):
//   Row blocks of up to 64 rows; a warp covers 32 rows (two m16 tiles, the second
//   skipped when the block has <= 16 rows: decode), and two warp rows share each
//   weight load in time. Every weight byte is read from memory once per row block.
//   Column passes of whole units (a unit is 1 column; the (gate, up) column pair of
//   gate_up; a head of qkv, so its epilogue sees whole heads), as wide as the warps
//   and the shared-memory budget allow.
//   In a pass the warps form a grid: wm warp rows x wn column groups (kWarpCols) x wk
//   slices of the k steps (32 wide; slice i takes steps i, i + wk, ...). Each warp
//   streams its columns' weight rows with 16-byte loads straight into mma fragments
//   (mma.cuh mmaK32: no shared-memory copy of weights, no shuffles), the staged prefix
//   from shared memory (ctx.weight), the rest from global memory with an evict-first
//   hint, two steps in flight.
//   A lives in shared memory: whole (normalized once per row block) when it fits in
//   half of the region, else in k chunks normalized again for each pass.
//   The wk partial sums meet in shared memory and are added in slice order 0, 1, ...
//   All of these choices depend on the task's shape only (wk is the same for all passes
//   of a row block), so every output is computed by the same operations in the same
//   order on every run and any worker count.
//
// Shared memory (ctx.scratch, kConfig.scratchBytes):
//   [0, 256)   row scales of the block (fp32, kMaxRows)
//   region     A [rows, aStride] bf16, then partial sums [wk][rows][stride] fp32 (over A
//              when A is chunked: A is dead once the pass's k loop is done)
//
// This is the engine of every task on sm_80 and of decode-sized tasks (at most 16
// rows) on sm_90a; prefill-sized tasks on sm_90a run on warpgroup MMA instead
// (device/projection_wgmma.cuh, chosen in device/projection_engine.cuh).
//===----------------------------------------------------------------------===//
#pragma once

#include "config.cuh"
#include "device/bf16.cuh"
#include "device/mma.cuh"
#include "device/projection_pass.cuh"
#include "device/rms_norm.cuh"
#include "task_context.cuh"

#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda {

/// 16 bytes of weights at p (16-byte aligned): from the staged prefix in shared memory
/// when it holds them, else streamed from global memory (evict-first: weights are read
/// once per step and should not push activations out of L2).
__device__ __forceinline__ uint4 loadWeight16(const TaskContext &ctx, const bf16 *p) {
  const bf16 *staged = ctx.weight(p);
  if (staged != p)
    return *reinterpret_cast<const uint4 *>(staged);
  return __ldcs(reinterpret_cast<const uint4 *>(p));
}

namespace projection {

inline constexpr uint32_t kRegionBytes = kConfig.scratchBytes - kScaleBytes;
inline constexpr uint32_t kStepK = 32; // k per step: one 16-byte load per operand row
inline constexpr uint32_t kMTiles = 2; // m16 tiles per warp
inline constexpr uint32_t kWarpRows = 16 * kMTiles;
// Weight loads a lane keeps in flight: kStepsInFlight * kNTiles * 16 bytes (32 KiB per
// CTA at 16 warps or 8).
inline constexpr uint32_t kStepsInFlight = 2;
static_assert(kWarps * kWarpCols >= kMaxHeadDim, "a pass of one warp row holds a head");

// A chunked block (the whole region for the partial sums) holds any one unit.
static_assert(kMaxRows * (kMaxHeadDim + 8) * 4 <= kRegionBytes);
static_assert(kRegionBytes / (2 * kMaxRows) >= 96, "a chunk holds at least 2 steps");

__device__ __forceinline__ uint4 loadShared16(uint32_t address) {
  uint4 v;
  asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "r"(address));
  return v;
}

/// Where a row block keeps A and the partial sums.
struct BlockLayout {
  bf16 *a;             // [rows, aStride]: k steps [s0, s0 + chunkSteps) of A
  uint32_t aStride;    // = 32 mod 64: the 16-byte reads of a quarter warp (rows group,
                       // group + 1; 64 bytes each) hit distinct banks
  uint32_t chunkSteps; // k steps per chunk (the last may be shorter)
  uint32_t chunks;
  float *part; // partial sums
  uint32_t partBytes;
  bool resident; // one chunk, normalized once for all passes
};

__device__ inline BlockLayout blockLayout(uint8_t *region, uint32_t rows, uint32_t steps,
                                          uint32_t minPartBytes) {
  BlockLayout l;
  l.a = reinterpret_cast<bf16 *>(region);
  const uint32_t stride = roundUp(steps * kStepK, 64) + 32;
  const uint32_t aBytes = rows * stride * 2; // a multiple of 64
  l.resident = aBytes <= kRegionBytes / 2 && aBytes + minPartBytes <= kRegionBytes;
  if (l.resident) {
    l.aStride = stride;
    l.chunkSteps = steps;
    l.chunks = 1;
    l.part = reinterpret_cast<float *>(region + aBytes);
    l.partBytes = kRegionBytes - aBytes;
  } else {
    const uint32_t maxSteps = (kRegionBytes / (2 * rows) - 32) / 64 * 2;
    l.chunks = ceilDiv(steps, maxSteps);
    l.chunkSteps = ceilDiv(steps, l.chunks);
    l.aStride = roundUp(l.chunkSteps * kStepK, 64) + 32;
    l.part = reinterpret_cast<float *>(region);
    l.partBytes = kRegionBytes;
  }
  return l;
}

/// The warp grid of a pass of `cols` columns over `rows` rows with `wk` k slices.
struct PassGrid {
  uint32_t cols;
  uint32_t tiles;  // n8 tiles
  uint32_t wm;     // warp rows
  uint32_t wn;     // column groups
  uint32_t wk;     // k slices
  uint32_t stride; // floats per partial-sum row
};

__device__ inline PassGrid passGrid(uint32_t cols, uint32_t rows, uint32_t wk) {
  PassGrid g;
  g.cols = cols;
  g.tiles = ceilDiv(cols, 8);
  g.wm = ceilDiv(rows, kWarpRows);
  g.wn = ceilDiv(g.tiles, kNTiles);
  g.wk = wk;
  g.stride = partStride(cols);
  return g;
}

/// k slices of the passes of a row block whose widest pass has `cols` columns: as many
/// as the warps and the partial sums allow. Narrower passes use the same count, so every
/// output of the block is summed in the same order.
__device__ inline uint32_t kSlices(uint32_t cols, uint32_t rows, uint32_t partBytes) {
  const uint32_t warps = ceilDiv(rows, kWarpRows) * ceilDiv(cols, kWarpCols);
  const uint32_t fit = partBytes / (rows * partStride(cols) * 4);
  return max(1u, min(kWarps / warps, fit));
}

/// Writes A for k steps [s0, s1) of rows [0, rows) of x into a (zero past k).
__device__ inline void loadA(const ProjectionInput &in, const bf16 *x,
                             const float *scales, uint32_t rows, uint32_t s0, uint32_t s1,
                             bf16 *a, uint32_t aStride) {
  const uint32_t groups = (s1 - s0) * (kStepK / 8); // 8-element groups per row
  for (uint32_t i = threadIdx.x; i < rows * groups; i += kThreads) {
    const uint32_t r = i / groups, gi = i % groups;
    *reinterpret_cast<uint4 *>(a + r * aStride + gi * 8) =
        rmsNormalized8(x + size_t(r) * in.k, in.normW, in.normW ? scales[r] : 0.0f,
                       s0 * kStepK + gi * 8, in.k, in.k % 8 == 0);
  }
}

/// Eight weights [k0, k0 + 8) of one row (zero past k), as an mma operand. kVec:
/// k % 8 == 0 (16-byte aligned rows).
template <bool kVec>
__device__ __forceinline__ uint4 loadWeights8(const TaskContext &ctx, const bf16 *row,
                                              uint32_t k0, uint32_t k) {
  if constexpr (kVec) {
    return k0 < k ? loadWeight16(ctx, row + k0) : make_uint4(0, 0, 0, 0);
  } else {
    // Rows are not 16-byte aligned: eight 2-byte loads (a rare shape: one at a time).
    uint64_t lo = 0, hi = 0;
#pragma unroll 1
    for (uint32_t e = 0; e < 8; ++e) {
      const uint64_t bits =
          k0 + e < k ? __bfloat16_as_ushort(*ctx.weight(row + k0 + e)) : uint16_t(0);
      if (e < 4)
        lo |= bits << (16 * e);
      else
        hi |= bits << (16 * (e - 4));
    }
    return make_uint4(uint32_t(lo), uint32_t(lo >> 32), uint32_t(hi), uint32_t(hi >> 32));
  }
}

/// One warp's part of a pass: rows [row, row + 32) of the block x the kWarpCols columns
/// of column group wn, over the k steps of one slice.
struct WarpTile {
  float acc[kMTiles][kNTiles][4];
  const bf16 *w[kNTiles]; // this lane's weight row (W_j, j = 8 tile + group)
  uint32_t row;           // first row of the warp in the block
  uint32_t tiles;         // n8 tiles of this warp inside the pass

  template <class Column>
  __device__ void begin(const PassGrid &g, uint32_t warpRow, uint32_t wn,
                        const Column &column) {
    const uint32_t group = threadIdx.x % 32 / 4;
    row = warpRow * kWarpRows;
    tiles = min(kNTiles, g.tiles - wn * kNTiles);
#pragma unroll
    for (uint32_t nt = 0; nt < kNTiles; ++nt) {
      // Columns past the pass read the last one (valid memory); their sums are dropped.
      w[nt] = column(min((wn * kNTiles + nt) * 8 + group, g.cols - 1));
#pragma unroll
      for (uint32_t mt = 0; mt < kMTiles; ++mt)
#pragma unroll
        for (int i = 0; i < 4; ++i)
          acc[mt][nt][i] = 0.0f;
    }
  }

  template <bool kVec>
  __device__ void loadB(const TaskContext &ctx, uint32_t step, uint32_t k,
                        uint4 (&b)[kNTiles]) const {
    const uint32_t k0 = step * kStepK + 8 * (threadIdx.x % 4);
#pragma unroll
    for (uint32_t nt = 0; nt < kNTiles; ++nt)
      b[nt] = nt < tiles ? loadWeights8<kVec>(ctx, w[nt], k0, k) : make_uint4(0, 0, 0, 0);
  }

  /// acc += A[rows, col .. col + 32) x b; a: the shared-memory address of this lane's
  /// first A element of the chunk (row row + group, column 8 quad).
  __device__ void mma(uint32_t a, uint32_t aStride, uint32_t col, uint32_t rows,
                      const uint4 (&b)[kNTiles]) {
    const uint32_t group = threadIdx.x % 32 / 4;
    a += col * 2;
#pragma unroll
    for (uint32_t mt = 0; mt < kMTiles; ++mt) {
      if (row + mt * 16 >= rows)
        break;
      const uint32_t r = row + mt * 16 + group;
      const uint4 zero = make_uint4(0, 0, 0, 0);
      const uint4 lo = r < rows ? loadShared16(a + mt * 16 * aStride * 2) : zero;
      const uint4 hi =
          r + 8 < rows ? loadShared16(a + (mt * 16 + 8) * aStride * 2) : zero;
#pragma unroll
      for (uint32_t nt = 0; nt < kNTiles; ++nt)
        if (nt < tiles)
          mmaK32(acc[mt][nt], lo, hi, b[nt]);
    }
  }

  /// Steps s0 + first, s0 + first + every, ... below s1 of the chunk starting at s0.
  /// The weights of kStepsInFlight steps are loaded before the first is used.
  template <bool kVec>
  __device__ void accumulateSteps(const TaskContext &ctx, const BlockLayout &l,
                                  uint32_t s0, uint32_t s1, uint32_t first,
                                  uint32_t every, uint32_t k, uint32_t rows) {
    const uint32_t a =
        sharedAddress(l.a) +
        ((row + threadIdx.x % 32 / 4) * l.aStride + 8 * (threadIdx.x % 4)) * 2;
    uint32_t s = s0 + first;
    for (; s + (kStepsInFlight - 1) * every < s1; s += kStepsInFlight * every) {
      uint4 b[kStepsInFlight][kNTiles];
#pragma unroll
      for (uint32_t i = 0; i < kStepsInFlight; ++i)
        loadB<kVec>(ctx, s + i * every, k, b[i]);
#pragma unroll
      for (uint32_t i = 0; i < kStepsInFlight; ++i)
        mma(a, l.aStride, (s + i * every - s0) * kStepK, rows, b[i]);
    }
    for (; s < s1; s += every) {
      uint4 b[kNTiles];
      loadB<kVec>(ctx, s, k, b);
      mma(a, l.aStride, (s - s0) * kStepK, rows, b);
    }
  }

  __device__ void accumulate(const TaskContext &ctx, const BlockLayout &l, uint32_t s0,
                             uint32_t s1, uint32_t first, uint32_t every, uint32_t k,
                             uint32_t rows) {
    if (k % 8 == 0)
      accumulateSteps<true>(ctx, l, s0, s1, first, every, k, rows);
    else
      accumulateSteps<false>(ctx, l, s0, s1, first, every, k, rows);
  }

  /// Writes the partial sums to slice `slice` of part [wk][rows][g.stride].
  __device__ void store(float *part, const PassGrid &g, uint32_t wn, uint32_t slice,
                        uint32_t rows) const {
    const uint32_t group = threadIdx.x % 32 / 4, quad = threadIdx.x % 4;
    float *p = part + size_t(slice) * rows * g.stride;
#pragma unroll
    for (uint32_t mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (uint32_t nt = 0; nt < kNTiles; ++nt) {
        const uint32_t r = row + mt * 16 + group;
        const uint32_t col = wn * kWarpCols + nt * 8 + 2 * quad;
        if (nt >= tiles)
          continue;
        if (r < rows)
          *reinterpret_cast<float2 *>(p + r * g.stride + col) =
              make_float2(acc[mt][nt][0], acc[mt][nt][1]);
        if (r + 8 < rows)
          *reinterpret_cast<float2 *>(p + (r + 8) * g.stride + col) =
              make_float2(acc[mt][nt][2], acc[mt][nt][3]);
      }
  }
};

/// Adds slices 1 .. slices-1 of the partial sums into slice 0, in slice order.
__device__ inline void sumSlices(const ProjectionPass &p, uint32_t cols,
                                 uint32_t slices) {
  for (uint32_t i = threadIdx.x; i < p.rows * cols; i += kThreads) {
    const uint32_t r = i / cols, j = i % cols;
    float sum = p.d[r * p.stride + j];
    for (uint32_t s = 1; s < slices; ++s)
      sum += p.d[(s * p.rows + r) * p.stride + j];
    p.d[r * p.stride + j] = sum;
  }
}

} // namespace projection

/// project() (device/projection_engine.cuh) on mma.sync: every architecture, and the rows
/// of decode batches on sm_90a.
template <class ColumnRow, class Epilogue>
__device__ void projectMmaSync(const TaskContext &ctx, const ProjectionInput &in,
                               isa::Range rows, uint32_t units, uint32_t unitCols,
                               const ColumnRow &columnRow, const Epilogue &epilogue) {
  using namespace projection;
  if (units == 0)
    return;
  float *scales = reinterpret_cast<float *>(ctx.scratch);
  uint8_t *region = ctx.scratch + kScaleBytes;
  const uint32_t warp = threadIdx.x / 32;
  const uint32_t steps = ceilDiv(in.k, kStepK);
  // Warp rows per block: as many as leave room for the column groups of a whole unit.
  const uint32_t warpRows =
      min(kMaxRows / kWarpRows, max(1u, kWarps / ceilDiv(unitCols, kWarpCols)));
  const uint32_t blockRows = warpRows * kWarpRows;
  for (uint32_t row0 = rows.begin; row0 < rows.end; row0 += blockRows) {
    const uint32_t nr = min(blockRows, rows.end - row0);
    const bf16 *x = in.x + size_t(row0) * in.k;
    if (in.normW)
      rmsRowScales(x, nr, in.k, in.k % 8 == 0, in.eps, scales,
                   reinterpret_cast<float *>(region));
    const BlockLayout l = blockLayout(region, nr, steps, nr * partStride(unitCols) * 4);
    if (l.resident) {
      loadA(in, x, scales, nr, 0, steps, l.a, l.aStride);
      __syncthreads();
    }
    // The widest pass whose warp grid fits the CTA and whose partial sums fit with one
    // k slice, in whole units.
    const uint32_t gridCols = kWarps / ceilDiv(nr, kWarpRows) * kWarpCols;
    const uint32_t fitCols = (l.partBytes / (4 * nr) - 8) / kWarpCols * kWarpCols;
    const uint32_t maxUnits = max(1u, min(gridCols, fitCols) / unitCols);
    const uint32_t passUnits = ceilDiv(units, ceilDiv(units, maxUnits));
    const uint32_t wk = kSlices(passUnits * unitCols, nr, l.partBytes);
    for (uint32_t unit0 = 0; unit0 < units; unit0 += passUnits) {
      const uint32_t nu = min(passUnits, units - unit0);
      const PassGrid g = passGrid(nu * unitCols, nr, wk);
      const uint32_t wm = warp % g.wm, wn = warp / g.wm % g.wn;
      const uint32_t slice = warp / (g.wm * g.wn);
      const bool active = slice < g.wk;
      WarpTile tile;
      if (active)
        tile.begin(g, wm, wn, [&](uint32_t j) { return columnRow(unit0, nu, j); });
      for (uint32_t c = 0; c < l.chunks; ++c) {
        const uint32_t s0 = c * l.chunkSteps, s1 = min(steps, s0 + l.chunkSteps);
        if (!l.resident) {
          if (c > 0)
            __syncthreads(); // every warp is done reading the previous chunk
          loadA(in, x, scales, nr, s0, s1, l.a, l.aStride);
          __syncthreads();
        }
        if (active)
          tile.accumulate(ctx, l, s0, s1, slice, g.wk, in.k, nr);
      }
      __syncthreads(); // A is read: the partial sums may overwrite it
      if (active)
        tile.store(l.part, g, wn, slice, nr);
      __syncthreads();
      const ProjectionPass pass{l.part, g.stride, row0, nr, unit0, nu};
      if (g.wk > 1) {
        sumSlices(pass, g.cols, g.wk);
        __syncthreads();
      }
      epilogue(pass);
      __syncthreads(); // the epilogue is done with the pass before the next one starts
    }
  }
}

} // namespace mk::cuda
