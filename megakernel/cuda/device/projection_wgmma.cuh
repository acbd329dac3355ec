//===- projection_wgmma.cuh - Prefill projections on warpgroup MMA (sm_90a) ===//
//
// The same function as projectMmaSync (device/projection_mma_sync.cuh): for the rows of a
// task and the weight rows of its columns,
//   A = rmsNorm(x) or x     [rows, k] bf16 (rms_norm.cuh rounding points)
//   d(r, j) = A[r] . W_j    fp32
// handed to the kind's epilogue in shared memory, pass by pass; computed with
// wgmma.mma_async.m64n32k16 (Hopper's asynchronous warpgroup MMA, both operands in
// shared memory) instead of mma.sync. Used on sm_90a for tasks of more than 16 rows
// with k % 8 == 0 (device/projection_engine.cuh).
//
// Decomposition:
//   Row blocks of kRows = 64 rows (one instruction's M; rows past the block's are
//   computed from whatever the stage holds and dropped). Column passes of whole units,
//   up to kPassCols = 256 columns, split between the two warpgroups in n32 tiles
//   (wgmma::groupTiles); each warpgroup keeps its up to 4 x 16 fp32 accumulators per
//   thread in registers for the whole k loop.
//   The k loop runs over tiles of kTileK = 64 through a kStages = 3 stage pipeline in
//   shared memory, in the layout of wgmma_layout.h:
//     B (weights): 16-byte cp.async copies from global memory (zero-filled past k), or
//       from the staged prefix of the ring (TaskContext::weight) with ordinary copies;
//     A (activations): 16-byte loads of x (and the norm weight) issued before the
//       tile's MMAs are issued, normalized and stored after, so their latency overlaps
//       the tensor cores.
//   Per tile: wait for the tile's copies, fence the generic proxy's writes for the
//   async proxy (wgmma reads shared memory through it), CTA barrier, issue the loads of
//   the tile kStages - 1 ahead into the stage the previous tile used, issue the tile's
//   4 k16 steps x the warpgroup's n32 tiles, store A ahead, wait for the MMAs.
//   The accumulators then go to the partial-sum layout of projectMmaSync ([rows]
//   [partStride(cols)] fp32 over the pipeline) and the epilogue runs.
//   Every sum is over k in the same order on every run (tiles in order, the k16 steps
//   of a tile in order), so results are bitwise reproducible.
//
// Why this and not mma.sync on Hopper: prefill projections with 64-row blocks reuse
// each weight byte 64 times, which at 3.35 TB/s asks for 214 TFLOP/s of bf16 products;
// mma.sync is the pre-Hopper path and leaves much of the H100's tensor throughput
// unused, while wgmma issues a 64 x 32 x 16 product per instruction for the whole
// warpgroup and reads its operands from shared memory itself, leaving the threads to
// the loads. (Not measured yet: no GPU has run this. bench/gpu_decode.sh times decode;
// a prefill A/B of the two engines is the next measurement to add.) Decode-sized tasks
// stay on mma.sync: there a 64-row instruction would be three quarters idle, and the
// register-streamed GEMV needs no shared-memory round trip.
//===----------------------------------------------------------------------===//
#pragma once

#include "config.cuh"
#include "device/async_copy.cuh"
#include "device/bf16.cuh"
#include "device/projection_pass.cuh"
#include "device/rms_norm.cuh"
#include "device/wgmma_layout.h"
#include "task_context.cuh"

#include "mk/isa/task_record.h"

#include <cstdint>

// wgmma exists in the arch-specific sm_90a target only (not sm_90, not sm_80).
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define MK_CUDA_WGMMA 1
#else
#define MK_CUDA_WGMMA 0
#endif

namespace mk::cuda {
namespace wgmma {

static_assert(kThreads == ::mk::cuda::kThreads, "the loader spreads over the CTA");
static_assert(kRows == projection::kMaxRows, "a block is one instruction's rows");
static_assert(kPassCols >= kMaxHeadDim, "a pass holds a whole head (qkv's unit)");
// The pipeline, and then the results of a pass, fit the sm_90a task scratch.
inline constexpr uint32_t kSm90Region = kSm90.scratchBytes - projection::kScaleBytes;
static_assert(kPipelineBytes <= kSm90Region, "the wgmma pipeline fits the scratch");
static_assert(kRows * (kPassCols + 8) * 4 <= kSm90Region, "a pass's results fit");
static_assert(projection::kScaleBytes % 16 == 0 && kSm90.stageBytes % 16 == 0,
              "the pipeline is 16-byte aligned");

#if MK_CUDA_WGMMA
__device__ __forceinline__ void fenceOperands() {
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
}
__device__ __forceinline__ void commitGroup() {
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
}
__device__ __forceinline__ void waitGroups() {
  asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
}
/// Orders this thread's earlier generic-proxy writes of shared memory (ordinary stores,
/// cp.async) before later async-proxy reads (wgmma operands).
__device__ __forceinline__ void fenceGenericToAsync() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}
/// Tells the compiler the accumulators change here, so no access of them moves across
/// the wait for the MMAs that write them.
__device__ __forceinline__ void pin(float (&d)[kAccumulators]) {
#pragma unroll
  for (uint32_t i = 0; i < kAccumulators; ++i)
    asm volatile("" : "+f"(d[i])::"memory");
}

/// d += A x B over one m64n32k16 product; a, b: descriptors (wgmma_layout.h).
__device__ __forceinline__ void mmaM64N32K16(float (&d)[kAccumulators], uint64_t a,
                                             uint64_t b) {
  static_assert(kAccumulators == 16);
  asm volatile("{\n"
               ".reg .pred accumulate;\n"
               "setp.ne.b32 accumulate, %18, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 "
               "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, "
               "%16, %17, accumulate, 1, 1, 0, 0;\n"
               "}\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]),
                 "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]),
                 "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15])
               : "l"(a), "l"(b), "r"(1)
               : "memory");
}

__device__ __forceinline__ void storeShared16(uint32_t address, const uint4 &v) {
  asm volatile("st.shared.v4.u32 [%0], {%1, %2, %3, %4};" ::"r"(address), "r"(v.x),
               "r"(v.y), "r"(v.z), "r"(v.w)
               : "memory");
}

/// This thread's A chunks of one tile, loaded ahead of their normalization: rows
/// first.row + 32 i (i < kAChunksPerThread) of the block, k group first.group of the
/// tile (the same k for every row, so one chunk of the norm weight serves them all).
struct AChunks {
  uint4 x[kAChunksPerThread];
  uint4 w;

  __device__ void load(const ProjectionInput &in, const bf16 *x0, uint32_t rows,
                       Chunk first, uint32_t tile) {
    const uint32_t k = tile * kTileK + first.group * 8;
    const uint4 zero = make_uint4(0, 0, 0, 0);
#pragma unroll
    for (uint32_t i = 0; i < kAChunksPerThread; ++i) {
      const uint32_t r = first.row + 32 * i;
      x[i] = r < rows && k < in.k
                 ? *reinterpret_cast<const uint4 *>(x0 + size_t(r) * in.k + k)
                 : zero;
    }
    w = in.normW && k < in.k ? *reinterpret_cast<const uint4 *>(in.normW + k) : zero;
  }

  /// Normalizes and stores into stage `stage` (rows past the block hold zeros).
  __device__ void store(const ProjectionInput &in, const float *scales, uint32_t rows,
                        Chunk first, uint32_t pipeline, uint32_t stage) const {
#pragma unroll
    for (uint32_t i = 0; i < kAChunksPerThread; ++i) {
      const uint32_t r = first.row + 32 * i;
      const uint4 v = in.normW && r < rows ? rmsNormalize8(x[i], w, scales[r]) : x[i];
      storeShared16(pipeline + aStageOffset(stage) + chunkOffset(r, first.group), v);
    }
  }
};

/// The weight row (W_j) of every column of the pass, in shared memory after the
/// pipeline: read again for each tile rather than held in registers across the k loop,
/// where the accumulators need them.
struct PassRows {
  const bf16 **row; // [kPassCols]

  /// Copies tile `tile` of this thread's B chunks (pass columns first.row + 32 i, k
  /// group first.group) into stage `stage` and commits one cp.async group (empty past
  /// the last tile, so the groups stay the tiles). Columns past the pass are not
  /// loaded: their stage rows hold stale bytes, which only reach dropped results.
  __device__ void issue(const TaskContext &ctx, uint32_t k, uint32_t cols, Chunk first,
                        uint32_t tiles, uint32_t tile, uint32_t pipeline,
                        uint32_t stage) const {
    if (tile < tiles) {
      const uint32_t kk = tile * kTileK + first.group * 8;
#pragma unroll
      for (uint32_t i = 0; i < kBChunksPerThread; ++i) {
        const uint32_t j = first.row + 32 * i;
        if (j >= cols)
          break; // j grows with i
        const bf16 *w = row[j];
        const uint32_t dst = pipeline + bStageOffset(stage) + chunkOffset(j, first.group);
        if (kk >= k) {
          cpAsync16OrZero(dst, w, 0); // past k: zeros (A is zero there too)
          continue;
        }
        const bf16 *src = w + kk;
        const bf16 *staged = ctx.weight(src);
        if (staged != src)
          storeShared16(dst, *reinterpret_cast<const uint4 *>(staged));
        else
          cpAsync16OrZero(dst, src, 16);
      }
    }
    cpAsyncCommit();
  }
};
inline constexpr uint32_t kPassRowsBytes = kPassCols * sizeof(void *);
static_assert(kPipelineBytes + kPassRowsBytes <= kSm90Region, "the row table fits");
#endif // MK_CUDA_WGMMA

} // namespace wgmma

/// project() (device/projection_engine.cuh) on warpgroup MMA; same contract. Requires
/// in.k % 8
/// == 0. On other targets than sm_90a the body is empty and project() never calls it.
template <class ColumnRow, class Epilogue>
__device__ void projectWgmma(const TaskContext &ctx, const ProjectionInput &in,
                             isa::Range rows, uint32_t units, uint32_t unitCols,
                             const ColumnRow &columnRow, const Epilogue &epilogue) {
#if MK_CUDA_WGMMA
  using namespace wgmma;
  if (units == 0)
    return;
  float *scales = reinterpret_cast<float *>(ctx.scratch);
  uint8_t *region = ctx.scratch + projection::kScaleBytes;
  const uint32_t pipeline = projection::sharedAddress(region);
  // threadIdx.x read here, opaquely: otherwise ptxas hoists what is computed from it
  // out of the worker loop, and with both engines in the kernel that no longer fits the
  // register file (254 registers with this, spills without).
  uint32_t tid;
  asm volatile("mov.u32 %0, %%tid.x;" : "=r"(tid));
  const uint32_t warpgroup = tid / 128;
  const uint32_t tiles = projection::ceilDiv(in.k, kTileK);
  const uint32_t maxUnits = max(1u, kPassCols / unitCols);
  const uint32_t passUnits =
      projection::ceilDiv(units, projection::ceilDiv(units, maxUnits));
  const Chunk first = loadChunk(tid, 0); // chunk i: row first.row + 32 i
  for (uint32_t row0 = rows.begin; row0 < rows.end; row0 += kRows) {
    const uint32_t nr = min(kRows, rows.end - row0);
    const bf16 *x = in.x + size_t(row0) * in.k;
    if (in.normW) // ends with a barrier: scales are visible, the region free
      rmsRowScales(x, nr, in.k, true, in.eps, scales, reinterpret_cast<float *>(region));
    for (uint32_t unit0 = 0; unit0 < units; unit0 += passUnits) {
      const uint32_t nu = min(passUnits, units - unit0);
      const uint32_t cols = nu * unitCols;
      const GroupTiles mine = groupTiles(cols, warpgroup);
      const PassRows b{reinterpret_cast<const bf16 **>(region + kPipelineBytes)};
      for (uint32_t j = threadIdx.x; j < cols; j += wgmma::kThreads)
        b.row[j] = columnRow(unit0, nu, j);
      __syncthreads();
      float acc[kMaxGroupTiles][kAccumulators];
#pragma unroll
      for (uint32_t nt = 0; nt < kMaxGroupTiles; ++nt)
#pragma unroll
        for (uint32_t i = 0; i < kAccumulators; ++i)
          acc[nt][i] = 0.0f;

      // Prologue: tiles 0 .. kStages - 2.
      for (uint32_t t = 0; t + 1 < kStages; ++t) {
        AChunks a;
        a.load(in, x, nr, first, t);
        b.issue(ctx, in.k, cols, first, tiles, t, pipeline, t);
        if (t < tiles)
          a.store(in, scales, nr, first, pipeline, t);
      }
      for (uint32_t t = 0; t < tiles; ++t) {
        cpAsyncWait<kStages - 2>(); // this thread's copies of tile t have landed
        fenceGenericToAsync();
        __syncthreads(); // all of tile t is in; tile t - 1's MMAs are done everywhere
        const uint32_t ahead = t + kStages - 1, aheadStage = ahead % kStages;
        AChunks a;
        a.load(in, x, nr, first, ahead);
        b.issue(ctx, in.k, cols, first, tiles, ahead, pipeline, aheadStage);
        const uint64_t aDesc = aDescriptor(pipeline, t % kStages, 0);
        const uint64_t bDesc = bDescriptor(pipeline, t % kStages, 0, mine.first);
        fenceOperands();
#pragma unroll
        for (uint32_t s = 0; s < kStepsPerTile; ++s)
#pragma unroll
          for (uint32_t nt = 0; nt < kMaxGroupTiles; ++nt)
            mmaM64N32K16(acc[nt], aDesc + descriptorStep(s, 0),
                         bDesc + descriptorStep(s, nt));
        commitGroup();
        if (ahead < tiles)
          a.store(in, scales, nr, first, pipeline, aheadStage);
        waitGroups();
#pragma unroll
        for (uint32_t nt = 0; nt < kMaxGroupTiles; ++nt)
          pin(acc[nt]);
      }
      cpAsyncWait<0>();
      __syncthreads(); // the pipeline is read: the results may overwrite it
      const uint32_t stride = projection::partStride(cols);
      float *d = reinterpret_cast<float *>(region);
#pragma unroll
      for (uint32_t nt = 0; nt < kMaxGroupTiles; ++nt) {
        if (nt >= mine.count)
          continue;
#pragma unroll
        for (uint32_t i = 0; i < kAccumulators; ++i) {
          const Element e = accumulatorElement(tid % 128, i);
          const uint32_t col = (mine.first + nt) * kInstrN + e.col;
          if (e.row < nr && col < cols)
            d[e.row * stride + col] = acc[nt][i];
        }
      }
      __syncthreads();
      epilogue(ProjectionPass{d, stride, row0, nr, unit0, nu});
      __syncthreads(); // the epilogue is done with the pass before the next one starts
    }
  }
#else
  (void)ctx, (void)in, (void)rows, (void)units, (void)unitCols, (void)columnRow,
      (void)epilogue;
#endif
}

} // namespace mk::cuda
