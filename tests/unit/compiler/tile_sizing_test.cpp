// Tile sizes come from the target description: every worker gets work on big
// projections, tiles never fall below the target's minimum useful size, columns come in
// multiples of 16, and prefill accumulators fit in half of shared memory.
#include "mk/Analysis/TileSizing.h"

#include <gtest/gtest.h>

using namespace mk;

namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

TEST(TileSizing, BigProjectionsGiveEveryWorkerATile) {
  for (const isa::TargetDesc &t : isa::kTargets) {
    TileSizer sizer(t);
    // Llama-3.1-8B down projection: N = 4096, K = 14336, decode batch 1.
    int64_t cols = sizer.columnsPerTile(4096, 14336, 1, 1);
    EXPECT_EQ(cols % 16, 0) << t.name;
    int64_t tiles = ceilDiv(4096, cols);
    EXPECT_GE(tiles, std::min<int64_t>(t.workers, 4096 / 16) * 3 / 4) << t.name;
    EXPECT_LE(tiles, 4096 / 16) << t.name;
  }
}

TEST(TileSizing, SmallProjectionsRespectTheMinimumTile) {
  for (const isa::TargetDesc &t : isa::kTargets) {
    TileSizer sizer(t);
    int64_t cols = sizer.columnsPerTile(256, 64, 1, 1);
    // A tile below the minimum bytes is only allowed when it already covers all of N.
    EXPECT_TRUE(cols == 256 || cols * 64 * 2 >= sizer.minTileBytes()) << t.name;
  }
}

TEST(TileSizing, GpuTargetsSplitFinerThanHost) {
  TileSizer host(*isa::findTarget("host")), h100(*isa::findTarget("h100"));
  EXPECT_LT(h100.columnsPerTile(14336, 4096, 1, 2),
            host.columnsPerTile(14336, 4096, 1, 2));
}

TEST(TileSizing, PrefillAccumulatorsFitInHalfOfSharedMemory) {
  TileSizer sizer(*isa::findTarget("h100"));
  for (int64_t rows : {64, 128, 256}) {
    int64_t cols = sizer.columnsPerTile(14336, 4096, rows, 2);
    EXPECT_LE(cols * rows * 4 * 2, int64_t(sizer.target().smemPerWorker) / 2) << rows;
  }
}

TEST(TileSizing, QueryHeadsStayInsideTheGroup) {
  for (const isa::TargetDesc &t : isa::kTargets) {
    TileSizer sizer(t);
    int64_t h = sizer.queryHeadsPerTile(4, 32, 128, 4096);
    EXPECT_GE(h, 1);
    EXPECT_LE(h, 4);
  }
  // One worker's share of a 128x4096 head is above the minimum on every GPU target,
  // so Llama-8B gets one query head per tile there.
  EXPECT_EQ(TileSizer(*isa::findTarget("h100")).queryHeadsPerTile(4, 32, 128, 4096), 1);
}

TEST(TileSizing, DecodeSplitsArePowersOfTwoCoveringFourBlocks) {
  for (const isa::TargetDesc &t : isa::kTargets) {
    TileSizer sizer(t);
    for (int64_t kv : {1, 2, 8}) {
      int64_t s = sizer.decodeKvSplits(kv, 4096, 16);
      EXPECT_EQ(s & (s - 1), 0) << t.name;
      EXPECT_GE(4096 / s, 64) << t.name;
      EXPECT_LE(s * kv, std::max<int64_t>(kv, t.workers)) << t.name;
    }
    EXPECT_EQ(sizer.decodeKvSplits(8, 64, 16), 1) << "64 positions hold only 4 blocks";
  }
}

TEST(TileSizing, PrefillRowsCoverTheChunk) {
  TileSizer sizer(*isa::findTarget("h100"));
  int64_t rows = sizer.prefillAttentionRows(64, 8);
  EXPECT_GE(rows, 1);
  EXPECT_LE(rows, 64);
  EXPECT_EQ(sizer.prefillAttentionRows(5, 8), 5);
}

TEST(TileSizing, ExpertSlotsShareTheWorkers) {
  for (const isa::TargetDesc &t : isa::kTargets) {
    TileSizer sizer(t);
    // Qwen3-30B-A3B gate/up (I 768, H 2048): batch 1 has 8 slots, batch 8 has 64.
    for (int64_t slots : {1, 8, 64}) {
      SCOPED_TRACE(std::string(t.name) + " slots " + std::to_string(slots));
      int64_t cols = sizer.expertColumnsPerTile(768, 2048, 1, 2, slots);
      int64_t tiles = ceilDiv(768, cols);
      EXPECT_EQ(cols % 16, 0);
      // Every worker has a tile when all slots are busy (as far as granules allow),
      // unless tiles are at the minimum size.
      int64_t wanted = std::min<int64_t>(t.workers, slots * 768 / 16) * 3 / 4;
      EXPECT_TRUE(slots * tiles >= wanted ||
                  cols * 2048 * 2 * 2 < 2 * sizer.minTileBytes());
      // The columns are spread evenly: no tile is less than a granule short.
      EXPECT_LT(tiles * cols - 768, tiles * 16);
    }
    // One slot is a dense projection.
    EXPECT_GE(sizer.expertColumnsPerTile(14336, 4096, 1, 2, 1),
              sizer.columnsPerTile(14336, 4096, 1, 2) * 3 / 4);
    // More slots, fewer tiles per slot.
    EXPECT_GE(sizer.expertColumnsPerTile(2048, 768, 1, 1, 64),
              sizer.expertColumnsPerTile(2048, 768, 1, 1, 8));
  }
  // Prefill accumulators still fit.
  TileSizer h100(*isa::findTarget("h100"));
  int64_t cols = h100.expertColumnsPerTile(768, 2048, 64, 2, 128);
  EXPECT_LE(cols * 64 * 4 * 2, int64_t(h100.target().smemPerWorker) / 2);
}

} // namespace
