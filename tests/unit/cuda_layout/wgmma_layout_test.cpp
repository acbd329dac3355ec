//===- wgmma_layout_test.cpp - The wgmma engine's layout against the PTX ISA -===//
//
// The sm_90a projection engine (megakernel/cuda/device/projection_wgmma.cuh) cannot
// run here, but every address it computes comes from device/wgmma_layout.h, which is
// plain C++. This test runs the engine's data movement on the host, through those same
// functions, into an emulated shared memory, and multiplies with a model of
//   wgmma.mma_async.sync.aligned.m64nNk16.f32.bf16.bf16 d, a-desc, b-desc, 1, 1, 1, 0, 0
// written from the PTX ISA (9.7.15.5.1, "Register Fragments and Shared Memory Matrix
// Layouts"; "Matrix Descriptor Format"):
//   - a descriptor holds the start address >> 4 (bits 0-13), the leading dimension
//     byte offset >> 4 (16-29), the stride dimension byte offset >> 4 (32-45), a base
//     offset (49-51) and the swizzle mode (62-63, 0 = none);
//   - a K-major operand without swizzling is made of core matrices of 8 rows (M or N)
//     x 16 bytes (8 bf16 along K), each stored as 128 contiguous bytes row by row; the
//     core matrix k / 8 along K is LBO bytes after the first, the one of rows i / 8
//     SBO bytes after it;
//   - thread t of the warpgroup holds, for n8 block b, accumulators 4b and 4b + 1 at row
//     16 (t / 32) + (t % 32) / 4, columns 8 b + 2 (t % 4) + {0, 1}, and 4b + 2, 4b + 3
//     at the row 8 below.
// What this cannot check is what needs the hardware: the instruction's syntax (nvcc
// checks that), the proxy fences and barriers, and whether the ISA text was read right;
// the gpu-labelled tests check those on a device.
//===----------------------------------------------------------------------===//
#include "device/wgmma_layout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <set>
#include <vector>

namespace mk::cuda::wgmma {
namespace {

//===-- The model of the instruction -------------------------------------===//

struct Descriptor {
  uint32_t start, lbo, sbo, baseOffset, swizzle;
};

Descriptor decode(uint64_t d) {
  return {uint32_t(d & 0x3FFF) << 4, uint32_t(d >> 16 & 0x3FFF) << 4,
          uint32_t(d >> 32 & 0x3FFF) << 4, uint32_t(d >> 49 & 0x7), uint32_t(d >> 62)};
}

float bf16ToFloat(uint16_t bits) {
  const uint32_t u = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t floatToBf16(float f) { // round to nearest even (finite inputs)
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return uint16_t((u + 0x7FFF + (u >> 16 & 1)) >> 16);
}

/// Shared memory of one CTA, addressed as the hardware's shared window.
struct SharedMemory {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(232448, 0);
  uint32_t lo = 0, hi = 0; // the range operand reads must stay in

  uint16_t read16(uint32_t address) const {
    EXPECT_GE(address, lo);
    EXPECT_LT(address + 1, hi) << "an operand read leaves the pipeline";
    EXPECT_EQ(address % 2, 0u);
    if (address < lo || address + 2 > hi)
      return 0;
    return uint16_t(bytes[address] | bytes[address + 1] << 8);
  }
  void write16(uint32_t address, const uint16_t (&v)[8]) {
    ASSERT_EQ(address % 16, 0u);
    ASSERT_LE(address + 16, bytes.size());
    for (int e = 0; e < 8; ++e) {
      bytes[address + 2 * e] = uint8_t(v[e]);
      bytes[address + 2 * e + 1] = uint8_t(v[e] >> 8);
    }
  }
};

/// Element (i, k) of a K-major operand without swizzle (i: row of A, or column of B).
float operandElement(const SharedMemory &smem, const Descriptor &d, uint32_t i,
                     uint32_t k) {
  const uint32_t address =
      d.start + i / 8 * d.sbo + k / 8 * d.lbo + i % 8 * 16 + k % 8 * 2;
  return bf16ToFloat(smem.read16(address));
}

/// acc (per thread of the warpgroup, n / 2 registers) += A (64 x 16) x B (16 x n).
void mmaM64NK16(const SharedMemory &smem, uint64_t aDesc, uint64_t bDesc, uint32_t n,
                std::vector<std::vector<float>> &acc) {
  const Descriptor a = decode(aDesc), b = decode(bDesc);
  for (const Descriptor &d : {a, b}) {
    ASSERT_EQ(d.swizzle, 0u) << "the model covers no-swizzle layouts only";
    ASSERT_EQ(d.baseOffset, 0u);
  }
  for (uint32_t t = 0; t < 128; ++t)
    for (uint32_t r = 0; r < n / 2; ++r) {
      const uint32_t row = 16 * (t / 32) + t % 32 / 4 + 8 * (r / 2 % 2);
      const uint32_t col = 8 * (r / 4) + 2 * (t % 4) + r % 2;
      float sum = acc[t][r];
      for (uint32_t k = 0; k < 16; ++k)
        sum += operandElement(smem, a, row, k) * operandElement(smem, b, col, k);
      acc[t][r] = sum;
    }
}

//===-- The layout functions on their own --------------------------------===//

TEST(WgmmaLayout, DescriptorFields) {
  for (uint32_t address : {0u, 16u, 98560u, 232448u - 16u}) {
    const Descriptor d = decode(descriptor(address));
    EXPECT_EQ(d.start, address);
    EXPECT_EQ(d.lbo, kLbo);
    EXPECT_EQ(d.sbo, kSbo);
    EXPECT_EQ(d.baseOffset, 0u);
    EXPECT_EQ(d.swizzle, 0u);
  }
}

TEST(WgmmaLayout, DescriptorStepsAreAddressSteps) {
  // The engine advances a stage's descriptor by descriptorStep instead of building one
  // per instruction: the same bits for every address of a pipeline in shared memory.
  for (uint32_t pipeline : {0u, 98560u, 232448u - kPipelineBytes})
    for (uint32_t stage = 0; stage < kStages; ++stage)
      for (uint32_t s = 0; s < kStepsPerTile; ++s) {
        EXPECT_EQ(aDescriptor(pipeline, stage, 0) + descriptorStep(s, 0),
                  aDescriptor(pipeline, stage, s));
        for (uint32_t first = 0; first <= kPassCols / kInstrN - kMaxGroupTiles; ++first)
          for (uint32_t nt = 0; nt < kMaxGroupTiles; ++nt)
            EXPECT_EQ(bDescriptor(pipeline, stage, 0, first) + descriptorStep(s, nt),
                      bDescriptor(pipeline, stage, s, first + nt));
      }
}

TEST(WgmmaLayout, ChunkOffsetsTileTheStage) {
  // Every (row, k group) of a stage operand has its own 16 bytes, and together they
  // fill it.
  for (uint32_t rows : {kRows, kPassCols}) {
    std::set<uint32_t> seen;
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t g = 0; g < kGroupsK; ++g) {
        const uint32_t off = chunkOffset(r, g);
        EXPECT_EQ(off % 16, 0u);
        EXPECT_LT(off, rows * kTileK * 2);
        EXPECT_TRUE(seen.insert(off).second) << "row " << r << " group " << g;
      }
    EXPECT_EQ(seen.size(), rows * kGroupsK);
  }
  EXPECT_EQ(aStageOffset(kStages - 1) + kAStageBytes, bStageOffset(0));
  EXPECT_EQ(bStageOffset(kStages - 1) + kBStageBytes, kPipelineBytes);
}

TEST(WgmmaLayout, LoadersCoverEveryChunkOnceWithOneGroupPerThread) {
  for (uint32_t chunks : {kAChunksPerThread, kBChunksPerThread}) {
    std::set<std::pair<uint32_t, uint32_t>> seen;
    for (uint32_t t = 0; t < kThreads; ++t) {
      const Chunk first = loadChunk(t, 0);
      for (uint32_t i = 0; i < chunks; ++i) {
        const Chunk c = loadChunk(t, i);
        EXPECT_EQ(c.group, first.group); // the engine loads one k group per thread
        EXPECT_EQ(c.row, first.row + 32 * i);
        EXPECT_LT(c.group, kGroupsK);
        EXPECT_TRUE(seen.insert({c.row, c.group}).second);
      }
    }
    EXPECT_EQ(seen.size(), kThreads * chunks);
    EXPECT_EQ(seen.rbegin()->first + 1, kThreads * chunks / kGroupsK);
  }
  // Pairs of threads read the two halves of one 32-byte sector of a row.
  for (uint32_t t = 0; t < kThreads; t += 2) {
    EXPECT_EQ(loadChunk(t, 0).row, loadChunk(t + 1, 0).row);
    EXPECT_EQ(loadChunk(t, 0).group % 2, 0u);
    EXPECT_EQ(loadChunk(t + 1, 0).group, loadChunk(t, 0).group + 1);
  }
}

TEST(WgmmaLayout, WarpgroupsSplitThePassColumns) {
  for (uint32_t cols = 1; cols <= kPassCols; ++cols) {
    const GroupTiles a = groupTiles(cols, 0), b = groupTiles(cols, 1);
    EXPECT_EQ(a.first, 0u);
    EXPECT_EQ(b.first, a.count);
    EXPECT_EQ((a.count + b.count) * kInstrN >= cols, true);
    EXPECT_LT((a.count + b.count - 1) * kInstrN, cols);
    EXPECT_LE(a.count, kMaxGroupTiles);
    EXPECT_LE(b.count, kMaxGroupTiles);
    // Every instruction the engine issues (kMaxGroupTiles per warpgroup, used or not)
    // reads B rows inside the stage.
    EXPECT_LE((b.first + kMaxGroupTiles) * kInstrN, kPassCols);
  }
}

TEST(WgmmaLayout, AccumulatorElementsMatchTheFragment) {
  std::set<std::pair<uint32_t, uint32_t>> seen;
  for (uint32_t t = 0; t < 128; ++t)
    for (uint32_t i = 0; i < kAccumulators; ++i) {
      const Element e = accumulatorElement(t, i);
      EXPECT_LT(e.row, kRows);
      EXPECT_LT(e.col, kInstrN);
      EXPECT_TRUE(seen.insert({e.row, e.col}).second);
    }
  EXPECT_EQ(seen.size(), kRows * kInstrN);
}

//===-- A whole pass, as the engine moves its data ------------------------===//

struct PassCase {
  const char *name;
  uint32_t rows; // of the block (<= 64)
  uint32_t k;    // a multiple of 8
  uint32_t cols; // of the pass (<= kPassCols)
};

void PrintTo(const PassCase &c, std::ostream *os) { *os << c.name; }

class WgmmaPass : public ::testing::TestWithParam<PassCase> {};

TEST_P(WgmmaPass, EqualsTheProduct) {
  const PassCase c = GetParam();
  ASSERT_EQ(c.k % 8, 0u);
  std::mt19937 rng(c.rows * 7919 + c.k * 31 + c.cols);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<uint16_t> a(size_t(c.rows) * c.k), w(size_t(c.cols) * c.k);
  for (uint16_t &v : a)
    v = floatToBf16(dist(rng));
  for (uint16_t &v : w)
    v = floatToBf16(dist(rng));

  SharedMemory smem;
  const uint32_t pipeline = 98560; // where the kernel's region starts on sm_90a
  smem.lo = pipeline;
  smem.hi = pipeline + kPipelineBytes;
  // Stale bytes everywhere: NaN bit patterns, which must reach no kept result.
  for (size_t i = 0; i < smem.bytes.size(); i += 2) {
    smem.bytes[i] = 0xC1;
    smem.bytes[i + 1] = 0x7F;
  }

  std::vector<std::vector<float>> acc[kWarpgroups][kMaxGroupTiles];
  for (auto &group : acc)
    for (auto &tile : group)
      tile.assign(128, std::vector<float>(kAccumulators, 0.0f));

  const uint32_t tiles = (c.k + kTileK - 1) / kTileK;
  for (uint32_t t = 0; t < tiles; ++t) {
    const uint32_t stage = t % kStages;
    for (uint32_t tid = 0; tid < kThreads; ++tid) {
      // AChunks::load/store: rows past the block and k past the row are zeros.
      for (uint32_t i = 0; i < kAChunksPerThread; ++i) {
        const Chunk ch = loadChunk(tid, i);
        const uint32_t k0 = t * kTileK + ch.group * 8;
        uint16_t v[8] = {};
        if (ch.row < c.rows && k0 < c.k)
          for (int e = 0; e < 8; ++e)
            v[e] = a[size_t(ch.row) * c.k + k0 + e];
        smem.write16(pipeline + aStageOffset(stage) + chunkOffset(ch.row, ch.group), v);
      }
      // PassRows::issue: columns past the pass are not loaded; k past the row is
      // zero-filled.
      for (uint32_t i = 0; i < kBChunksPerThread; ++i) {
        const Chunk ch = loadChunk(tid, i);
        if (ch.row >= c.cols)
          continue;
        const uint32_t k0 = t * kTileK + ch.group * 8;
        uint16_t v[8] = {};
        if (k0 < c.k)
          for (int e = 0; e < 8; ++e)
            v[e] = w[size_t(ch.row) * c.k + k0 + e];
        smem.write16(pipeline + bStageOffset(stage) + chunkOffset(ch.row, ch.group), v);
      }
    }
    // Each warpgroup: kStepsPerTile k16 steps x kMaxGroupTiles n32 instructions, with
    // the descriptors the engine builds.
    for (uint32_t g = 0; g < kWarpgroups; ++g) {
      const GroupTiles mine = groupTiles(c.cols, g);
      const uint64_t aDesc = aDescriptor(pipeline, stage, 0);
      const uint64_t bDesc = bDescriptor(pipeline, stage, 0, mine.first);
      for (uint32_t s = 0; s < kStepsPerTile; ++s)
        for (uint32_t nt = 0; nt < kMaxGroupTiles; ++nt)
          mmaM64NK16(smem, aDesc + descriptorStep(s, 0), bDesc + descriptorStep(s, nt),
                     kInstrN, acc[g][nt]);
    }
  }

  // The engine's store of the accumulators into d [rows][stride].
  const uint32_t stride = c.cols + 8;
  std::vector<float> d(size_t(c.rows) * stride, std::numeric_limits<float>::quiet_NaN());
  std::vector<int> writes(d.size(), 0);
  for (uint32_t g = 0; g < kWarpgroups; ++g) {
    const GroupTiles mine = groupTiles(c.cols, g);
    for (uint32_t nt = 0; nt < mine.count; ++nt)
      for (uint32_t t = 0; t < 128; ++t)
        for (uint32_t i = 0; i < kAccumulators; ++i) {
          const Element e = accumulatorElement(t, i);
          const uint32_t col = (mine.first + nt) * kInstrN + e.col;
          if (e.row < c.rows && col < c.cols) {
            d[e.row * stride + col] = acc[g][nt][t][i];
            ++writes[e.row * stride + col];
          }
        }
  }

  for (uint32_t r = 0; r < c.rows; ++r)
    for (uint32_t j = 0; j < c.cols; ++j) {
      double ref = 0.0, mag = 0.0;
      for (uint32_t k = 0; k < c.k; ++k) {
        const double p = double(bf16ToFloat(a[size_t(r) * c.k + k])) *
                         bf16ToFloat(w[size_t(j) * c.k + k]);
        ref += p;
        mag += std::fabs(p);
      }
      ASSERT_EQ(writes[r * stride + j], 1) << "row " << r << " column " << j;
      ASSERT_NEAR(d[r * stride + j], ref, 1e-5 * mag + 1e-6)
          << "row " << r << " column " << j;
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, WgmmaPass,
                         ::testing::Values(PassCase{"Full", 64, 128, 256},
                                           PassCase{"OneTile", 64, 64, 32},
                                           PassCase{"Rows17K8Cols1", 17, 8, 1},
                                           PassCase{"Rows40K200Cols200", 40, 200, 200},
                                           PassCase{"Rows33K136Cols100", 33, 136, 100},
                                           PassCase{"Rows64K520Cols129", 64, 520, 129},
                                           PassCase{"Rows20K1000Cols96", 20, 1000, 96},
                                           PassCase{"Rows64K256Cols224", 64, 256, 224}),
                         [](const ::testing::TestParamInfo<PassCase> &info) {
                           return info.param.name;
                         });

} // namespace
} // namespace mk::cuda::wgmma
