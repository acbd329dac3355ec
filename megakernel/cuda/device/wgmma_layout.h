//===- wgmma_layout.h - Tiles, descriptors and fragments of the wgmma engine -===//
//
// Every index computation of the sm_90a prefill engine (device/projection_wgmma.cuh)
// that decides where a byte goes or where a result comes from, as plain constexpr
// functions: the engine calls them on the device, and tests/unit/cuda_layout checks
// them on the host against an emulation of wgmma written from the PTX ISA (descriptor
// decoding, the K-major no-swizzle shared-memory layout, the accumulator fragment).
// Nothing here includes a CUDA header.
//
// The engine's instruction is wgmma.mma_async.m64n32k16.f32.bf16.bf16 with both
// operands in shared memory, K-major, no swizzle:
//   A: 64 rows x 16 k of the block's normalized activations,
//   B: 32 columns x 16 k: W rows (a projection's W_j is B's column j, k contiguous).
// A stage of the pipeline holds kTileK = 64 k of A (64 rows) and of B (kPassCols rows).
// An operand is a grid of core matrices (8 rows x 16 bytes, stored as 128 contiguous
// bytes, row by row); in a stage, the 8 core matrices of 8 rows along k are adjacent
// (LBO = 128 bytes between core matrices adjacent in k) and 8-row groups follow each
// other (SBO = 1024 bytes between core matrices adjacent in M or N). An instruction's
// operand is the same grid seen from its first core matrix: k16 step s of 8-row group
// r0 / 8 starts at r0 / 8 * SBO + 2 s * LBO.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define MK_WGMMA_HD __host__ __device__
#else
#define MK_WGMMA_HD
#endif

namespace mk::cuda::wgmma {

inline constexpr uint32_t kRows = 64;   // M of the instruction: the rows of a block
inline constexpr uint32_t kInstrK = 16; // k of one instruction
inline constexpr uint32_t kInstrN = 32; // N of one instruction (m64n32k16)
inline constexpr uint32_t kTileK = 64;  // k per pipeline stage
inline constexpr uint32_t kStepsPerTile = kTileK / kInstrK;
inline constexpr uint32_t kGroupsK = kTileK / 8; // 16-byte k groups of a stage row
inline constexpr uint32_t kCoreBytes = 128;      // a core matrix: 8 rows x 16 bytes
inline constexpr uint32_t kLbo = kCoreBytes;     // to the next core matrix along k
inline constexpr uint32_t kSbo = kGroupsK * kCoreBytes; // to the next 8 rows
inline constexpr uint32_t kThreads = 256;               // of the CTA (config.cuh)
inline constexpr uint32_t kWarpgroups = kThreads / 128;
inline constexpr uint32_t kMaxGroupTiles = 4; // n32 instructions per warpgroup and k16
inline constexpr uint32_t kPassCols = kWarpgroups * kMaxGroupTiles * kInstrN; // 256
inline constexpr uint32_t kAccumulators = kRows * kInstrN / 128; // fp32 per thread: 16
inline constexpr uint32_t kStages = 3;
inline constexpr uint32_t kAStageBytes = kRows * kTileK * 2;     // 8 KiB
inline constexpr uint32_t kBStageBytes = kPassCols * kTileK * 2; // 32 KiB
inline constexpr uint32_t kStageBytes = kAStageBytes + kBStageBytes;
/// 16-byte chunks a thread loads per stage: of A (64 rows) and of B (kPassCols rows).
inline constexpr uint32_t kAChunksPerThread = kRows * kGroupsK / kThreads;     // 2
inline constexpr uint32_t kBChunksPerThread = kPassCols * kGroupsK / kThreads; // 8
static_assert(kRows * kGroupsK % kThreads == 0 && kPassCols * kGroupsK % kThreads == 0);
static_assert(kPassCols % 8 == 0 && kSbo % 16 == 0 && kLbo % 16 == 0);

/// Byte offset, within a stage operand, of the 16 bytes of k group g (k 8 g .. 8 g + 7
/// of the stage) of row r (an A row, or a B column: a W row).
MK_WGMMA_HD constexpr uint32_t chunkOffset(uint32_t r, uint32_t g) {
  return r / 8 * kSbo + g * kLbo + r % 8 * 16;
}

/// Byte offset of stage `stage`'s A and B operands from the start of the pipeline.
MK_WGMMA_HD constexpr uint32_t aStageOffset(uint32_t stage) {
  return stage * kAStageBytes;
}
MK_WGMMA_HD constexpr uint32_t bStageOffset(uint32_t stage) {
  return kStages * kAStageBytes + stage * kBStageBytes;
}
inline constexpr uint32_t kPipelineBytes = kStages * kStageBytes;

/// The matrix descriptor of an operand whose first core matrix is at shared-memory
/// address `address` (16-byte aligned): bits 0-13 address >> 4, 16-29 LBO >> 4, 32-45
/// SBO >> 4, base offset (49-51) 0 and swizzle mode (62-63) 0: no swizzle.
MK_WGMMA_HD constexpr uint64_t descriptor(uint32_t address) {
  return uint64_t((address & 0x3FFFF) >> 4) | uint64_t(kLbo >> 4) << 16 |
         uint64_t(kSbo >> 4) << 32;
}

/// A's descriptor for k16 step s of stage `stage`: all 64 rows of the block.
/// `pipeline`: the shared-memory address of the pipeline.
MK_WGMMA_HD constexpr uint64_t aDescriptor(uint32_t pipeline, uint32_t stage,
                                           uint32_t s) {
  return descriptor(pipeline + aStageOffset(stage) + 2 * s * kLbo);
}
/// B's descriptor for k16 step s of stage `stage`, columns [32 tile, 32 tile + 32).
MK_WGMMA_HD constexpr uint64_t bDescriptor(uint32_t pipeline, uint32_t stage, uint32_t s,
                                           uint32_t tile) {
  return descriptor(pipeline + bStageOffset(stage) + tile * kInstrN / 8 * kSbo +
                    2 * s * kLbo);
}

/// What to add to the descriptor of an operand to move it by k16 step s and n32 tile
/// `tile` (B; 0 for A): the address field is linear in the address as long as it does
/// not carry out of its 14 bits, which a shared-memory address (< 256 KiB) never makes.
MK_WGMMA_HD constexpr uint64_t descriptorStep(uint32_t s, uint32_t tile) {
  return (tile * kInstrN / 8 * kSbo + 2 * s * kLbo) >> 4;
}

/// The 16-byte chunk (row, k group) of a stage operand that thread t loads as its i-th:
/// pairs of threads read 32 contiguous bytes of a row (a whole memory sector), eight
/// pairs cover 8 rows x 2 groups, and the rest of the threads the other groups and rows.
/// The group depends on t only, so a thread reads the same k of each of its rows.
struct Chunk {
  uint32_t row;
  uint32_t group;
};
MK_WGMMA_HD constexpr Chunk loadChunk(uint32_t t, uint32_t i) {
  const uint32_t c = t + i * kThreads;
  return {c / 2 % 8 + c / 64 * 8, c % 2 + c / 16 % 4 * 2};
}

/// The n32 tiles of a pass of `cols` columns that warpgroup w computes: [first, first +
/// count). The first warpgroup takes the larger half; a pass of one tile leaves the
/// second idle.
struct GroupTiles {
  uint32_t first;
  uint32_t count;
};
MK_WGMMA_HD constexpr GroupTiles groupTiles(uint32_t cols, uint32_t w) {
  const uint32_t tiles = (cols + kInstrN - 1) / kInstrN;
  const uint32_t half = (tiles + 1) / 2;
  return w == 0 ? GroupTiles{0, half} : GroupTiles{half, tiles - half};
}

/// Row and column, in the 64 x 32 result of one instruction, of accumulator register i
/// (0 .. kAccumulators - 1) of thread t (0 .. 127) of the warpgroup: warp t / 32 holds
/// rows 16 (t / 32) ..+15; in each 8-column block i / 4 a lane holds two adjacent
/// columns of row (lane / 4) (registers 4b, 4b + 1) and of row (lane / 4) + 8 (4b + 2,
/// 4b + 3).
struct Element {
  uint32_t row;
  uint32_t col;
};
MK_WGMMA_HD constexpr Element accumulatorElement(uint32_t t, uint32_t i) {
  const uint32_t lane = t % 32;
  return {t / 32 * 16 + lane / 4 + i / 2 % 2 * 8, i / 4 * 8 + lane % 4 * 2 + i % 2};
}

} // namespace mk::cuda::wgmma
