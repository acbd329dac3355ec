//===- TileSizing.cpp - Tile sizes from a target description ----------------===//
#include "mk/Analysis/TileSizing.h"

#include <algorithm>

using namespace mk;

namespace {
constexpr int64_t kColumnGranule = 16;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }
} // namespace

int64_t TileSizer::minTileBytes() const {
  // Per-worker bandwidth (bytes/us) x 2 us: below this, claiming and signalling a task
  // costs as much as the work.
  double perWorkerBytesPerUs = target_.memBandwidthGBs * 1e3 / target_.workers;
  return std::max<int64_t>(4096, static_cast<int64_t>(2.0 * perWorkerBytesPerUs));
}

int64_t TileSizer::columnsPerTile(int64_t n, int64_t k, int64_t rows,
                                  int64_t weightsPerTile) const {
  return columnsPerTile(n, k, rows, weightsPerTile, n);
}

int64_t TileSizer::expertColumnsPerTile(int64_t n, int64_t k, int64_t rows,
                                        int64_t weightsPerTile, int64_t slots) const {
  int64_t columns = columnsPerTile(n, k, rows, weightsPerTile, slots * n);
  int64_t tiles = ceilDiv(n, columns);
  return std::clamp<int64_t>(roundUp(ceilDiv(n, tiles), kColumnGranule), 1, n);
}

int64_t TileSizer::columnsPerTile(int64_t n, int64_t k, int64_t rows,
                                  int64_t weightsPerTile, int64_t sharedColumns) const {
  int64_t perWorker = roundUp(ceilDiv(sharedColumns, target_.workers), kColumnGranule);
  int64_t bytesPerColumn = std::max<int64_t>(1, k * 2 * weightsPerTile);
  int64_t minColumns = roundUp(ceilDiv(minTileBytes(), bytesPerColumn), kColumnGranule);
  // Prefill tiles keep a [rows, columns] fp32 accumulator per weight in shared memory
  // next to the streamed weight slices: at most half of it.
  int64_t accBytesPerColumn = rows * 4 * weightsPerTile;
  int64_t maxColumns =
      std::max<int64_t>(kColumnGranule, (static_cast<int64_t>(target_.smemPerWorker) / 2 /
                                         accBytesPerColumn) /
                                            kColumnGranule * kColumnGranule);
  int64_t columns = std::min(std::max(perWorker, minColumns), maxColumns);
  return std::clamp<int64_t>(columns, 1, n);
}

int64_t TileSizer::queryHeadsPerTile(int64_t groupHeads, int64_t totalHeads,
                                     int64_t headDim, int64_t hidden) const {
  int64_t headBytes = headDim * hidden * 2;
  int64_t byWorkers = ceilDiv(totalHeads, target_.workers);
  int64_t byMinBytes = ceilDiv(minTileBytes(), headBytes);
  return std::clamp<int64_t>(std::max(byWorkers, byMinBytes), 1, groupHeads);
}

int64_t TileSizer::decodeKvSplits(int64_t kvHeads, int64_t maxSeqLen,
                                  int64_t blockSize) const {
  // Enough splits that every worker has attention work, but each split covers at
  // least four KV blocks.
  int64_t wanted = std::max<int64_t>(1, target_.workers / std::max<int64_t>(1, kvHeads));
  int64_t maxSplits = std::max<int64_t>(1, maxSeqLen / (4 * blockSize));
  int64_t splits = 1;
  while (splits * 2 <= std::min(wanted, maxSplits))
    splits *= 2;
  return splits;
}

int64_t TileSizer::prefillAttentionRows(int64_t rows, int64_t kvHeads) const {
  int64_t tilesPerHead =
      std::max<int64_t>(1, target_.workers / std::max<int64_t>(1, kvHeads));
  int64_t tileRows = roundUp(ceilDiv(rows, tilesPerHead), kColumnGranule);
  return std::clamp<int64_t>(tileRows, 1, rows);
}
