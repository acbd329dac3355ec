//===- TileSizing.h - Tile sizes from a target description ------------------===//
//
// Every tile size mk-tile uses comes from here, as a function of the target's worker
// count, shared memory and bandwidth. Nothing else hard-codes a tile size.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/target.h"

#include <cstdint>

namespace mk {

class TileSizer {
public:
  explicit TileSizer(const isa::TargetDesc &target) : target_(target) {}

  const isa::TargetDesc &target() const { return target_; }

  /// Output columns per tile of a weight-streaming projection: N outputs, K inputs,
  /// `weightsPerTile` weight matrices read per column (2 for gate/up), `rows` rows.
  /// Aims at one tile per worker, never below the target's minimum useful tile
  /// (a few microseconds of that worker's share of bandwidth), in multiples of 16
  /// columns (the MMA and vector-load granule).
  int64_t columnsPerTile(int64_t n, int64_t k, int64_t rows,
                         int64_t weightsPerTile) const;

  /// The same for a mixture-of-experts projection run by `slots` expert slots at once
  /// (N outputs of K inputs each, one expert's weights per slot): the workers share
  /// all slots' columns, and each slot's N columns are spread evenly over its tiles.
  int64_t expertColumnsPerTile(int64_t n, int64_t k, int64_t rows, int64_t weightsPerTile,
                               int64_t slots) const;

  /// Query heads per QKV tile within one KV-head group of `groupHeads` query heads.
  int64_t queryHeadsPerTile(int64_t groupHeads, int64_t totalHeads, int64_t headDim,
                            int64_t hidden) const;

  /// Number of KV-position splits of decode attention per KV head (a power of two).
  int64_t decodeKvSplits(int64_t kvHeads, int64_t maxSeqLen, int64_t blockSize) const;

  /// Rows per prefill-attention tile for a chunk of `rows` tokens.
  int64_t prefillAttentionRows(int64_t rows, int64_t kvHeads) const;

  /// Smallest tile worth a task: the bytes one worker streams in ~2 microseconds.
  int64_t minTileBytes() const;

private:
  /// columnsPerTile with `sharedColumns` columns over all workers.
  int64_t columnsPerTile(int64_t n, int64_t k, int64_t rows, int64_t weightsPerTile,
                         int64_t sharedColumns) const;

  const isa::TargetDesc &target_;
};

} // namespace mk
