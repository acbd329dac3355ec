//===- kv_cache.h - The paged KV cache: memory and block allocation -------===//
//
// The plan's KvCache tensors (one K and one V per layer) are each
//   [blocks, block_size, kv_heads, head_dim] bf16
// and share one block numbering: physical block b of a sequence is index b of every
// layer's K and V tensor, so one allocator and one block table per sequence serve all
// layers. block_size = plan.model.kvBlockSize. Slot p (= block * block_size + offset)
// of a cache is element [p / block_size, p % block_size] (mk/isa/step_state.h).
//
// The memory is zero-initialized (an unwritten slot reads as 0.0, never garbage) and
// page-aligned (so 64-byte aligned). Not thread-safe: the session allocates between
// launches.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/executor.h"
#include "mk/isa/plan.h"
#include "mk/isa/status.h"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace mk::runtime {

/// The physical KV blocks of one sequence, in logical order: logical block i (tokens
/// [i * block_size, (i + 1) * block_size)) lives in physical block blocks[i]. Int32
/// because it is copied into a <prog>.block_table row as is.
struct SequenceBlocks {
  std::vector<int32_t> blocks;
};

class KvCache {
public:
  KvCache();
  ~KvCache();
  KvCache(KvCache &&) noexcept;
  KvCache &operator=(KvCache &&) noexcept;
  KvCache(const KvCache &) = delete;
  KvCache &operator=(const KvCache &) = delete;

  /// Allocates every KvCache tensor of `plan` (which must outlive the cache) and marks
  /// all blocks free. Fails when the KV tensors disagree on their block count, have a
  /// block size other than plan.model.kvBlockSize, are not rank-4 bf16, or when memory
  /// runs out.
  Status init(const isa::Plan &plan);
  /// Binds every KV tensor to `exec` (which must run the plan given to init()).
  Status bindTo(Executor &exec) const;

  /// Memory of plan tensor `tensorId`, or nullptr when it is not a KV tensor.
  void *data(uint16_t tensorId) const;
  /// Plan tensor ids of the KV tensors, in plan order.
  const std::vector<uint16_t> &tensorIds() const { return ids_; }
  /// Bytes of all KV tensors together.
  uint64_t bytes() const;

  uint32_t numBlocks() const { return numBlocks_; }
  uint32_t blockSize() const { return blockSize_; }
  /// Blocks needed to hold `tokens` tokens: ceil(tokens / block_size).
  uint32_t blocksFor(uint32_t tokens) const;

  /// One free block (the lowest-numbered of the ones never used, then the most
  /// recently freed), or nullopt when none is free.
  std::optional<uint32_t> allocate();
  /// Returns block `block` to the pool. Freeing a block that is not allocated (or
  /// out of range) is a caller bug: asserted in debug builds, ignored otherwise.
  void free(uint32_t block);
  uint32_t freeBlocks() const { return static_cast<uint32_t>(free_.size()); }

  /// Grows `seq` to hold `tokens` tokens (never shrinks it). All or nothing: when the
  /// pool cannot supply every missing block, nothing is allocated and the error says
  /// "KV cache full: sequence needs 3 more blocks (for 80 tokens), 2 free of 64".
  Status ensure(SequenceBlocks &seq, uint32_t tokens);
  /// Frees every block of `seq` and empties it.
  void release(SequenceBlocks &seq);
  /// Physical slot of logical position `pos` of `seq` (isa::kvSlot), or -1 when `pos`
  /// lies beyond the blocks `seq` holds.
  int32_t slot(const SequenceBlocks &seq, uint32_t pos) const;
  /// Writes `seq`'s block table into one <prog>.block_table row of width row.size();
  /// entries past the sequence's blocks are 0 (a valid block, so a stray read stays in
  /// bounds). Fails when the sequence has more blocks than the row holds.
  Status writeBlockTableRow(const SequenceBlocks &seq, std::span<int32_t> row) const;

private:
  struct Region;

  const isa::Plan *plan_ = nullptr;
  uint32_t numBlocks_ = 0;
  uint32_t blockSize_ = 0;
  std::vector<uint16_t> ids_;   // KV tensor ids
  std::vector<Region> regions_; // one mapping per KV tensor, same order as ids_
  std::vector<uint32_t> free_;  // stack of free blocks (top = next allocated)
  std::vector<bool> allocated_; // by block
};

} // namespace mk::runtime
