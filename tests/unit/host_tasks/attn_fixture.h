//===- attn_fixture.h - A paged KV cache with random contents for tests ---===//
#pragma once

#include "task_bench.h"

#include "mk/isa/step_state.h"

#include <vector>

namespace mk::host::test {

/// K and V caches [blocks, block_size, kv_heads, hd] filled with random bf16, and a
/// block table [seqs, blocks_per_seq] of distinct blocks in random order.
struct PagedCache {
  int64_t blockSize, blocksPerSeq, kvHeads, hd;
  std::vector<int32_t> table;
  uint16_t k, v, blockTable;

  PagedCache(TaskBench &b, int64_t seqs, int64_t blocksPerSeq, int64_t kvHeads,
             int64_t hd, int64_t blockSize = 16)
      : blockSize(blockSize), blocksPerSeq(blocksPerSeq), kvHeads(kvHeads), hd(hd) {
    const int64_t blocks = seqs * blocksPerSeq + 1;
    table = permutation(int32_t(blocks), b.rng);
    table.resize(size_t(seqs * blocksPerSeq));
    k = b.randomBf16({blocks, blockSize, kvHeads, hd});
    v = b.randomBf16({blocks, blockSize, kvHeads, hd}, 2.0f);
    blockTable = b.i32({seqs, blocksPerSeq}, table);
  }

  int64_t slot(int64_t seq, int64_t pos) const {
    return isa::kvSlot(table.data() + seq * blocksPerSeq, pos, blockSize);
  }
  const bf16 *key(const TaskBench &b, int64_t seq, int64_t pos, int64_t g) const {
    return b.data<bf16>(k) + (slot(seq, pos) * kvHeads + g) * hd;
  }
  const bf16 *value(const TaskBench &b, int64_t seq, int64_t pos, int64_t g) const {
    return b.data<bf16>(v) + (slot(seq, pos) * kvHeads + g) * hd;
  }
};

} // namespace mk::host::test
