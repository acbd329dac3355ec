//===- step_state.h - What the step-state tensors mean ------------------------===//
//
// Each program has step-state tensors (placement StepState) that the runtime fills
// before a launch and the tasks read (decode's argmax also writes `tokens`). R is the
// program's rows; S is the number of sequences (decode: S = R, row r is sequence r;
// prefill: S = 1, every row belongs to sequence 0).
//
//   <prog>.tokens      [R] i32   token of each row at this step. Decode: the argmax of
//                                step s writes step s+1's tokens in place.
//   <prog>.positions   [R] i32   position of each row's token at step 0 of the launch;
//                                -1 marks an inactive row (a free batch slot, or the
//                                padding of a partial prefill chunk). In decode, step s
//                                uses positions[r] + s: one token per sequence per step.
//   <prog>.seq_lens    [S] i32   tokens sequence b holds at step 0 of the launch,
//                                including that step's (decode: positions[b] + 1;
//                                prefill: the position after the chunk's last valid row).
//                                Decode step s attends over seq_lens[b] + s keys.
//   <prog>.block_table [S, max_blocks] i32
//                                physical KV block of each logical block of sequence b;
//                                the runtime allocates every block a launch can reach
//                                before it starts (decode: seq_lens + steps - 1 tokens).
//   <prog>.kv_slots    [R] i32   physical cache slot (block * block_size + offset) of
//                                row r's token at step 0, -1 for inactive rows. Later
//                                decode steps derive their slot from block_table.
//   prefill.tokens_out [R] i32   argmax of each row (the runtime reads the last valid).
//
// KV caches are [blocks, block_size, kv_heads, head_dim] bf16; slot p of a cache is
// element [p / block_size, p % block_size].
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace mk::isa {

/// Physical cache slot of logical position `pos` of a sequence.
inline int64_t kvSlot(const int32_t *blockTableRow, int64_t pos, int64_t blockSize) {
  return int64_t(blockTableRow[pos / blockSize]) * blockSize + pos % blockSize;
}

} // namespace mk::isa
