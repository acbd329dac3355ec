//===- moe_router_layout.h - The CUDA router's dot lanes and shared memory ===//
//
// The index computations of the CUDA moe_router (tasks/moe_router.cuh) as plain
// constexpr functions: the kernel calls them on the device, the executor checks a
// plan's routers against routerLayout before it launches, and tests/unit/cuda_layout
// checks them on the host. Nothing here includes a CUDA header.
//
// Dot products by lane quads. Each row's sum of squares and each logit is one dot
// product of the host's contract (megakernel/host/kernels/dot.h: 32 fp32 partial sums,
// element i feeding partial i % 32 by an fma, in element order; the last block of 32
// zero-padded; then p[j] += p[j + w] for w = 16, 8, 4, 2, 1), computed by the four
// lanes of a quad. Lane q keeps partials [8 q, 8 q + 8) in registers, so in block b it
// reads the 16 bytes of elements [32 b + 8 q, 32 b + 8 q + 8) of each vector
// (quadChunk). The tree: w = 16 adds lane q + 2's partials to lane q's (a shuffle down
// by 2 inside the quad), w = 8 lane 1's to lane 0's (down by 1), and w = 4, 2, 1 fold
// lane 0's registers (foldLanePartials). So the router's scales, normalized rows and
// logits are the host's bits, and so are the routes the host derives from them.
//
// A row block of rb rows: dot d = e rb + r (expert e, row r of the block) goes to quad
// d % kQuads in round d / kQuads. With rb = kMaxBlockRows the eight quads of a warp
// read the same expert's weights (one load serves them) and eight rows of xn; with
// rb = 1 (a decode batch of one) they take eight experts.
//
// Shared memory of the task (byte offsets into the task scratch, all 16-byte aligned):
//   scales    [R] f32        each row's RMSNorm scale (kept for the xg copy)
//   slotOf    [E] i32        selected flag of each expert, then its slot (-1: none)
//   expertOf  [E] i32        the expert of each slot < D
//   count     i32            D
//   taken     [kWarps][E] u8 a routing warp's experts chosen so far
//   chosen    [kWarps][k] i32 a routing warp's chosen experts, ascending
//   ring      [kRingBlocks][kThreads] 16 bytes: each lane's weight chunks in flight
//             (slot-major, so a warp's 16-byte accesses are consecutive)
//   logits    [rb][E] f32    the block's logits, then each row's probabilities
//   xn        [rb][xnStride] bf16, 128-byte aligned: the block's normalized rows, zero
//             past H. A row is 64 bytes mod 128 long, so the 16-byte reads of a
//             quarter warp (two quads, rows r and r + 1, 64 bytes each) hit distinct
//             banks.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define MK_ROUTER_HD __host__ __device__
#else
#define MK_ROUTER_HD
#endif

namespace mk::cuda::router {

inline constexpr uint32_t kThreads = 256; // of the CTA (config.cuh)
inline constexpr uint32_t kWarps = kThreads / 32;
inline constexpr uint32_t kPartials = 32;    // of the dot contract (dot.h)
inline constexpr uint32_t kQuadLanes = 4;    // lanes of one dot product
inline constexpr uint32_t kLanePartials = 8; // partials a lane keeps
inline constexpr uint32_t kQuads = kThreads / kQuadLanes;
inline constexpr uint32_t kMaxBlockRows = 8; // rows of a block: one per quad of a warp
// Weight blocks a lane keeps in its ring (kRingBlocks - 1 in flight): 16 bytes each,
// 28 KiB per CTA in flight, as much as the projection engine's registers hold.
inline constexpr uint32_t kRingBlocks = 8;
static_assert((kRingBlocks & (kRingBlocks - 1)) == 0, "ring slots by a mask");
static_assert(kQuadLanes * kLanePartials == kPartials);
static_assert(kMaxBlockRows == 32 / kQuadLanes, "a warp's quads share one expert");

/// The first element lane q of a quad reads in block b: 8 consecutive elements,
/// those of partials [8 q, 8 q + 8).
MK_ROUTER_HD constexpr uint32_t quadChunk(uint32_t block, uint32_t q) {
  return kPartials * block + kLanePartials * q;
}

/// The shuffle of tree step s (s = 0: w = 16, s = 1: w = 8): lane q < 2 / 1 adds the
/// partials of lane q + quadShuffle(s).
inline constexpr uint32_t kQuadShuffleSteps = 2;
MK_ROUTER_HD constexpr uint32_t quadShuffle(uint32_t step) {
  return (kQuadLanes / 2) >> step;
}

/// The tree's steps w = 4, 2, 1 on lane 0's partials [0, 8): returns the dot product.
MK_ROUTER_HD inline float foldLanePartials(float (&p)[kLanePartials]) {
  for (uint32_t w = kLanePartials / 2; w >= 1; w /= 2)
    for (uint32_t j = 0; j < w; ++j)
      p[j] = p[j] + p[j + w];
  return p[0];
}

/// Expert and block row of dot d of a block of `blockRows` rows.
struct DotIndex {
  uint32_t expert, row;
};
MK_ROUTER_HD constexpr DotIndex dotIndex(uint32_t d, uint32_t blockRows) {
  return {d / blockRows, d % blockRows};
}

MK_ROUTER_HD constexpr uint32_t alignUp(uint32_t a, uint32_t b) {
  return (a + b - 1) / b * b;
}

/// bf16 elements of a normalized row in shared memory: whole blocks of 32, and
/// 64 bytes mod 128.
MK_ROUTER_HD constexpr uint32_t xnStride(uint32_t hidden) {
  return (alignUp(2 * hidden, 128) + 64) / 2;
}

struct RouterLayout {
  uint32_t scales, slotOf, expertOf, count, taken, chosen, ring, logits,
      xn;             // byte offsets
  uint32_t xnStride;  // bf16 elements per xn row
  uint32_t blockRows; // rows per block; 0: the router does not fit `scratchBytes`
  uint32_t bytes;     // bytes used (with blockRows rows per block, or one if 0)
};

/// The layout of a router of `rows` rows, `experts` experts, `topK` experts per row and
/// hidden size `hidden` in a task scratch of `scratchBytes` bytes: as many rows per
/// block as fit, at most kMaxBlockRows.
MK_ROUTER_HD constexpr RouterLayout routerLayout(uint32_t rows, uint32_t experts,
                                                 uint32_t topK, uint32_t hidden,
                                                 uint32_t scratchBytes) {
  RouterLayout l{};
  uint64_t at = 0;
  auto take = [&at](uint64_t bytes, uint32_t align) {
    at = (at + align - 1) / align * align;
    const uint64_t offset = at;
    at += bytes;
    return uint32_t(offset);
  };
  l.scales = take(4ull * rows, 16);
  l.slotOf = take(4ull * experts, 16);
  l.expertOf = take(4ull * experts, 16);
  l.count = take(4, 16);
  l.taken = take(uint64_t(kWarps) * alignUp(experts, 16), 16);
  l.chosen = take(uint64_t(kWarps) * 4 * topK, 16);
  l.ring = take(uint64_t(kRingBlocks) * kThreads * 16, 128);
  l.xnStride = xnStride(hidden);
  const uint64_t fixed = at;
  const uint64_t perRow = alignUp(4 * experts, 16) + 2ull * l.xnStride;
  uint32_t blockRows = rows < kMaxBlockRows ? rows : kMaxBlockRows;
  // The xn rows start 128-byte aligned: at most 112 bytes of padding after the logits
  // (the ring before them is a multiple of 128 bytes).
  while (blockRows > 0 && fixed + blockRows * perRow + 112 > scratchBytes)
    --blockRows;
  const uint32_t rb = blockRows > 0 ? blockRows : 1;
  l.logits = take(uint64_t(rb) * alignUp(4 * experts, 16), 16);
  l.xn = take(uint64_t(rb) * 2 * l.xnStride, 128);
  l.blockRows = at <= scratchBytes ? blockRows : 0;
  l.bytes = uint32_t(at < 0xFFFFFFFFull ? at : 0xFFFFFFFFull);
  return l;
}

} // namespace mk::cuda::router
