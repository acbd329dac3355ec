// RUN: mk-opt %s -split-input-file -mk-scoreboard | FileCheck %s

// Input 1: what `mk-tile="target=host max-seq-len=64"` makes of one decode layer with
// GQA (hidden 128, 8 query heads in 2 KV groups of 4, head_dim 16, batch 1), no MLP,
// tied LM head over a vocabulary of 64. Each KV group has two Q tiles (2 heads each),
// one K tile and one V tile.

// Events come first, one per set of producers with the same consumers; count = the
// number of tasks that signal it. No `done` event: in decode every task feeds the
// step's argmax, whose consumer is the next step's embedding.
// CHECK-LABEL: mkt.program @decode decode rows(1) {
// CHECK-NEXT: mkt.event [[EMB:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event [[QKV0:@[^ ]+]] count(4)
// CHECK-NEXT: mkt.event [[QKV1:@[^ ]+]] count(4)
// CHECK-NEXT: mkt.event [[ATTN0:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event [[MERGE:@[^ ]+]] count(2)
// CHECK-NEXT: mkt.event [[ATTN1:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event [[OPROJ:@[^ ]+]] count(4)
// CHECK-NEXT: mkt.event [[LMHEAD:@[^ ]+]] count(2)
// CHECK-NEXT: mkt.event [[ARGMAX:@[^ ]+]] count(1)

// The step's embedding waits for the previous step's argmax (it reads the tokens the
// argmax wrote): the only cross-step wait.
// CHECK-NEXT: mkt.task @embedding.0 embedding
// CHECK-SAME: signals = {{\[}}[[EMB]]], waits = [#mkt.wait<[[ARGMAX]], 1, back = 1>]

// All Q, K and V tiles of KV group 0 signal one event (count 4) ...
// CHECK-NEXT: mkt.task @l0.qkv.q.g0.0 qkv layer(0) tile [0, 1, 0, 2, 0, 0]
// CHECK-SAME: signals = {{\[}}[[QKV0]]], waits = [#mkt.wait<[[EMB]], 1>]
// CHECK-NEXT: mkt.task @l0.qkv.q.g0.1 qkv layer(0) tile [0, 1, 2, 4, 0, 0]
// CHECK-SAME: signals = {{\[}}[[QKV0]]], waits = [#mkt.wait<[[EMB]], 1>]
// CHECK-NEXT: mkt.task @l0.qkv.k.g0.0 qkv layer(0) tile [0, 1, 0, 1, 0, 0]
// CHECK-SAME: signals = {{\[}}[[QKV0]]], waits = [#mkt.wait<[[EMB]], 1>]
// CHECK-NEXT: mkt.task @l0.qkv.v.g0.0 qkv layer(0) tile [0, 1, 0, 1, 0, 0]
// CHECK-SAME: signals = {{\[}}[[QKV0]]], waits = [#mkt.wait<[[EMB]], 1>]

// ... and those of group 1 another one.
// CHECK-NEXT: mkt.task @l0.qkv.q.g1.0 qkv layer(0) tile [0, 1, 4, 6, 0, 0]
// CHECK-SAME: signals = {{\[}}[[QKV1]]], waits = [#mkt.wait<[[EMB]], 1>]
// CHECK-NEXT: mkt.task @l0.qkv.q.g1.1 qkv layer(0) tile [0, 1, 6, 8, 0, 0]
// CHECK-SAME: signals = {{\[}}[[QKV1]]], waits = [#mkt.wait<[[EMB]], 1>]
// CHECK-NEXT: mkt.task @l0.qkv.k.g1.0 qkv layer(0) tile [0, 1, 1, 2, 0, 0]
// CHECK-SAME: signals = {{\[}}[[QKV1]]], waits = [#mkt.wait<[[EMB]], 1>]
// CHECK-NEXT: mkt.task @l0.qkv.v.g1.0 qkv layer(0) tile [0, 1, 1, 2, 0, 0]
// CHECK-SAME: signals = {{\[}}[[QKV1]]], waits = [#mkt.wait<[[EMB]], 1>]

// The key property: attention of KV head 0 waits for exactly the 4 QKV tiles of
// group 0, not for group 1's (and likewise for head 1), so a head's attention starts
// as soon as its own projections land.
// CHECK-NEXT: mkt.task @l0.attn.g0.s0 attn_decode layer(0) tile [0, 1, 0, 1, 0, 64]
// CHECK-SAME: signals = {{\[}}[[ATTN0]]], waits = [#mkt.wait<[[QKV0]], 4>]
// CHECK-NEXT: mkt.task @l0.merge.g0 attn_merge
// CHECK-SAME: signals = {{\[}}[[MERGE]]], waits = [#mkt.wait<[[ATTN0]], 1>]
// CHECK-NEXT: mkt.task @l0.attn.g1.s0 attn_decode layer(0) tile [0, 1, 1, 2, 0, 64]
// CHECK-SAME: signals = {{\[}}[[ATTN1]]], waits = [#mkt.wait<[[QKV1]], 4>]
// CHECK-NEXT: mkt.task @l0.merge.g1 attn_merge
// CHECK-SAME: signals = {{\[}}[[MERGE]]], waits = [#mkt.wait<[[ATTN1]], 1>]

// Every O-projection tile reads all of the attention output: both merges. The
// residual read of h0 (the embedding's) is implied through them, so no wait on it.
// CHECK-NEXT: mkt.task @l0.o_proj.0 o_proj
// CHECK-SAME: signals = {{\[}}[[OPROJ]]], waits = [#mkt.wait<[[MERGE]], 2>]
// CHECK-NEXT: mkt.task @l0.o_proj.1 o_proj
// CHECK-SAME: signals = {{\[}}[[OPROJ]]], waits = [#mkt.wait<[[MERGE]], 2>]
// CHECK-NEXT: mkt.task @l0.o_proj.2 o_proj
// CHECK-NEXT: mkt.task @l0.o_proj.3 o_proj
// CHECK-SAME: signals = {{\[}}[[OPROJ]]], waits = [#mkt.wait<[[MERGE]], 2>]
// CHECK-NEXT: mkt.task @lm_head.0 lm_head
// CHECK-SAME: signals = {{\[}}[[LMHEAD]]], waits = [#mkt.wait<[[OPROJ]], 4>]
// CHECK-NEXT: mkt.task @lm_head.1 lm_head
// CHECK-SAME: signals = {{\[}}[[LMHEAD]]], waits = [#mkt.wait<[[OPROJ]], 4>]

// Argmax overwrites the tokens the embedding read (WAR, implied by the RAW chain).
// CHECK-NEXT: mkt.task @argmax argmax
// CHECK-SAME: signals = {{\[}}[[ARGMAX]]], waits = [#mkt.wait<[[LMHEAD]], 2>]
// CHECK-SAME: writes = [#mkt.box<@decode.tokens[0] to[1]>]}{{$}}
// CHECK-NEXT: }
mkt.tensor @decode.tokens step_state tensor<1xi32>
mkt.tensor @decode.positions step_state tensor<1xi32>
mkt.tensor @decode.seq_lens step_state tensor<1xi32>
mkt.tensor @decode.block_table step_state tensor<1x4xi32>
mkt.tensor @decode.kv_slots step_state tensor<1xi32>
mkt.tensor @w.embed weight tensor<64x128xbf16> {weight_name = "embed"}
mkt.tensor @decode.h0 activation tensor<1x128xbf16> {program = @decode}
mkt.tensor @w.ln weight tensor<128xbf16> {weight_name = "ln"}
mkt.tensor @decode.l0.q activation tensor<1x128xbf16> {program = @decode}
mkt.tensor @kv.l0.k kv_cache tensor<4x16x2x16xbf16> {layer = 0 : i64}
mkt.tensor @kv.l0.v kv_cache tensor<4x16x2x16xbf16> {layer = 0 : i64}
mkt.tensor @w.wq weight tensor<128x128xbf16> {weight_name = "wq"}
mkt.tensor @w.wk weight tensor<32x128xbf16> {weight_name = "wk"}
mkt.tensor @w.wv weight tensor<32x128xbf16> {weight_name = "wv"}
mkt.tensor @decode.l0.attn activation tensor<1x128xbf16> {program = @decode}
mkt.tensor @decode.l0.attn_partial_o activation tensor<1x8x1x16xf32> {program = @decode}
mkt.tensor @decode.l0.attn_partial_lse activation tensor<1x8x1xf32> {program = @decode}
mkt.tensor @w.wo weight tensor<128x128xbf16> {weight_name = "wo"}
mkt.tensor @decode.l0.h_attn activation tensor<1x128xbf16> {program = @decode}
mkt.tensor @w.norm weight tensor<128xbf16> {weight_name = "norm"}
mkt.tensor @decode.logits activation tensor<1x64xf32> {program = @decode}
mkt.tensor @decode.partial_max activation tensor<1x2x2xf32> {program = @decode}
mkt.program @decode decode rows(1) {
  mkt.task @embedding.0 embedding tile [0, 1, 0, 128, 0, 0] {cost_bytes = 512 : i64, cost_flops = 0 : i64,
      operands = [@decode.tokens, @w.embed, @decode.h0],
      reads = [#mkt.box<@decode.tokens [0] to [1]>, #mkt.box<@w.embed [0, 0] to [64, 128]>],
      writes = [#mkt.box<@decode.h0 [0, 0] to [1, 128]>]}
  mkt.task @l0.qkv.q.g0.0 qkv layer(0) tile [0, 1, 0, 2, 0, 0] {aux = array<i64: 0>, cost_bytes = 8512 : i64, cost_flops = 8192 : i64,
      operands = [@decode.h0, @w.ln, @w.wq, unit, unit, @decode.l0.q, @decode.positions, @decode.kv_slots, @decode.block_table],
      reads = [#mkt.box<@decode.h0 [0, 0] to [1, 128]>, #mkt.box<@w.ln [0] to [128]>, #mkt.box<@w.wq [0, 0] to [32, 128]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
      writes = [#mkt.box<@decode.l0.q [0, 0] to [1, 32]>]}
  mkt.task @l0.qkv.q.g0.1 qkv layer(0) tile [0, 1, 2, 4, 0, 0] {aux = array<i64: 0>, cost_bytes = 8512 : i64, cost_flops = 8192 : i64,
      operands = [@decode.h0, @w.ln, @w.wq, unit, unit, @decode.l0.q, @decode.positions, @decode.kv_slots, @decode.block_table],
      reads = [#mkt.box<@decode.h0 [0, 0] to [1, 128]>, #mkt.box<@w.ln [0] to [128]>, #mkt.box<@w.wq [32, 0] to [64, 128]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
      writes = [#mkt.box<@decode.l0.q [0, 32] to [1, 64]>]}
  mkt.task @l0.qkv.k.g0.0 qkv layer(0) tile [0, 1, 0, 1, 0, 0] {aux = array<i64: 1>, cost_bytes = 4384 : i64, cost_flops = 4096 : i64,
      operands = [@decode.h0, @w.ln, @w.wk, unit, unit, @kv.l0.k, @decode.positions, @decode.kv_slots, @decode.block_table],
      reads = [#mkt.box<@decode.h0 [0, 0] to [1, 128]>, #mkt.box<@w.ln [0] to [128]>, #mkt.box<@w.wk [0, 0] to [16, 128]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
      writes = [#mkt.box<@kv.l0.k [0, 0, 0, 0] to [4, 16, 1, 16]>]}
  mkt.task @l0.qkv.v.g0.0 qkv layer(0) tile [0, 1, 0, 1, 0, 0] {aux = array<i64: 2>, cost_bytes = 4384 : i64, cost_flops = 4096 : i64,
      operands = [@decode.h0, @w.ln, @w.wv, unit, unit, @kv.l0.v, @decode.positions, @decode.kv_slots, @decode.block_table],
      reads = [#mkt.box<@decode.h0 [0, 0] to [1, 128]>, #mkt.box<@w.ln [0] to [128]>, #mkt.box<@w.wv [0, 0] to [16, 128]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
      writes = [#mkt.box<@kv.l0.v [0, 0, 0, 0] to [4, 16, 1, 16]>]}
  mkt.task @l0.qkv.q.g1.0 qkv layer(0) tile [0, 1, 4, 6, 0, 0] {aux = array<i64: 0>, cost_bytes = 8512 : i64, cost_flops = 8192 : i64,
      operands = [@decode.h0, @w.ln, @w.wq, unit, unit, @decode.l0.q, @decode.positions, @decode.kv_slots, @decode.block_table],
      reads = [#mkt.box<@decode.h0 [0, 0] to [1, 128]>, #mkt.box<@w.ln [0] to [128]>, #mkt.box<@w.wq [64, 0] to [96, 128]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
      writes = [#mkt.box<@decode.l0.q [0, 64] to [1, 96]>]}
  mkt.task @l0.qkv.q.g1.1 qkv layer(0) tile [0, 1, 6, 8, 0, 0] {aux = array<i64: 0>, cost_bytes = 8512 : i64, cost_flops = 8192 : i64,
      operands = [@decode.h0, @w.ln, @w.wq, unit, unit, @decode.l0.q, @decode.positions, @decode.kv_slots, @decode.block_table],
      reads = [#mkt.box<@decode.h0 [0, 0] to [1, 128]>, #mkt.box<@w.ln [0] to [128]>, #mkt.box<@w.wq [96, 0] to [128, 128]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
      writes = [#mkt.box<@decode.l0.q [0, 96] to [1, 128]>]}
  mkt.task @l0.qkv.k.g1.0 qkv layer(0) tile [0, 1, 1, 2, 0, 0] {aux = array<i64: 1>, cost_bytes = 4384 : i64, cost_flops = 4096 : i64,
      operands = [@decode.h0, @w.ln, @w.wk, unit, unit, @kv.l0.k, @decode.positions, @decode.kv_slots, @decode.block_table],
      reads = [#mkt.box<@decode.h0 [0, 0] to [1, 128]>, #mkt.box<@w.ln [0] to [128]>, #mkt.box<@w.wk [16, 0] to [32, 128]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
      writes = [#mkt.box<@kv.l0.k [0, 0, 1, 0] to [4, 16, 2, 16]>]}
  mkt.task @l0.qkv.v.g1.0 qkv layer(0) tile [0, 1, 1, 2, 0, 0] {aux = array<i64: 2>, cost_bytes = 4384 : i64, cost_flops = 4096 : i64,
      operands = [@decode.h0, @w.ln, @w.wv, unit, unit, @kv.l0.v, @decode.positions, @decode.kv_slots, @decode.block_table],
      reads = [#mkt.box<@decode.h0 [0, 0] to [1, 128]>, #mkt.box<@w.ln [0] to [128]>, #mkt.box<@w.wv [16, 0] to [32, 128]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
      writes = [#mkt.box<@kv.l0.v [0, 0, 1, 0] to [4, 16, 2, 16]>]}
  mkt.task @l0.attn.g0.s0 attn_decode layer(0) tile [0, 1, 0, 1, 0, 64] {aux = array<i64: 0, 0>, cost_bytes = 4096 : i64, cost_flops = 16384 : i64,
      operands = [@decode.l0.q, @kv.l0.k, @kv.l0.v, @decode.block_table, @decode.seq_lens, @decode.l0.attn_partial_o, @decode.l0.attn_partial_lse],
      reads = [#mkt.box<@decode.l0.q [0, 0] to [1, 64]>, #mkt.box<@kv.l0.k [0, 0, 0, 0] to [4, 16, 1, 16]>, #mkt.box<@kv.l0.v [0, 0, 0, 0] to [4, 16, 1, 16]>, #mkt.box<@decode.block_table [0, 0] to [1, 4]>, #mkt.box<@decode.seq_lens [0] to [1]>],
      writes = [#mkt.box<@decode.l0.attn_partial_o [0, 0, 0, 0] to [1, 4, 1, 16]>, #mkt.box<@decode.l0.attn_partial_lse [0, 0, 0] to [1, 4, 1]>]}
  mkt.task @l0.merge.g0 attn_merge layer(0) tile [0, 1, 0, 1, 0, 1] {aux = array<i64: 1>, cost_bytes = 400 : i64, cost_flops = 192 : i64,
      operands = [@decode.l0.attn_partial_o, @decode.l0.attn_partial_lse, @decode.l0.attn],
      reads = [#mkt.box<@decode.l0.attn_partial_o [0, 0, 0, 0] to [1, 4, 1, 16]>, #mkt.box<@decode.l0.attn_partial_lse [0, 0, 0] to [1, 4, 1]>],
      writes = [#mkt.box<@decode.l0.attn [0, 0] to [1, 64]>]}
  mkt.task @l0.attn.g1.s0 attn_decode layer(0) tile [0, 1, 1, 2, 0, 64] {aux = array<i64: 0, 0>, cost_bytes = 4096 : i64, cost_flops = 16384 : i64,
      operands = [@decode.l0.q, @kv.l0.k, @kv.l0.v, @decode.block_table, @decode.seq_lens, @decode.l0.attn_partial_o, @decode.l0.attn_partial_lse],
      reads = [#mkt.box<@decode.l0.q [0, 64] to [1, 128]>, #mkt.box<@kv.l0.k [0, 0, 1, 0] to [4, 16, 2, 16]>, #mkt.box<@kv.l0.v [0, 0, 1, 0] to [4, 16, 2, 16]>, #mkt.box<@decode.block_table [0, 0] to [1, 4]>, #mkt.box<@decode.seq_lens [0] to [1]>],
      writes = [#mkt.box<@decode.l0.attn_partial_o [0, 4, 0, 0] to [1, 8, 1, 16]>, #mkt.box<@decode.l0.attn_partial_lse [0, 4, 0] to [1, 8, 1]>]}
  mkt.task @l0.merge.g1 attn_merge layer(0) tile [0, 1, 1, 2, 0, 1] {aux = array<i64: 1>, cost_bytes = 400 : i64, cost_flops = 192 : i64,
      operands = [@decode.l0.attn_partial_o, @decode.l0.attn_partial_lse, @decode.l0.attn],
      reads = [#mkt.box<@decode.l0.attn_partial_o [0, 4, 0, 0] to [1, 8, 1, 16]>, #mkt.box<@decode.l0.attn_partial_lse [0, 4, 0] to [1, 8, 1]>],
      writes = [#mkt.box<@decode.l0.attn [0, 64] to [1, 128]>]}
  mkt.task @l0.o_proj.0 o_proj layer(0) tile [0, 1, 0, 32, 0, 0] {cost_bytes = 8576 : i64, cost_flops = 8192 : i64,
      operands = [@decode.l0.attn, @w.wo, @decode.h0, @decode.l0.h_attn],
      reads = [#mkt.box<@decode.l0.attn [0, 0] to [1, 128]>, #mkt.box<@w.wo [0, 0] to [32, 128]>, #mkt.box<@decode.h0 [0, 0] to [1, 32]>],
      writes = [#mkt.box<@decode.l0.h_attn [0, 0] to [1, 32]>]}
  mkt.task @l0.o_proj.1 o_proj layer(0) tile [0, 1, 32, 64, 0, 0] {cost_bytes = 8576 : i64, cost_flops = 8192 : i64,
      operands = [@decode.l0.attn, @w.wo, @decode.h0, @decode.l0.h_attn],
      reads = [#mkt.box<@decode.l0.attn [0, 0] to [1, 128]>, #mkt.box<@w.wo [32, 0] to [64, 128]>, #mkt.box<@decode.h0 [0, 32] to [1, 64]>],
      writes = [#mkt.box<@decode.l0.h_attn [0, 32] to [1, 64]>]}
  mkt.task @l0.o_proj.2 o_proj layer(0) tile [0, 1, 64, 96, 0, 0] {cost_bytes = 8576 : i64, cost_flops = 8192 : i64,
      operands = [@decode.l0.attn, @w.wo, @decode.h0, @decode.l0.h_attn],
      reads = [#mkt.box<@decode.l0.attn [0, 0] to [1, 128]>, #mkt.box<@w.wo [64, 0] to [96, 128]>, #mkt.box<@decode.h0 [0, 64] to [1, 96]>],
      writes = [#mkt.box<@decode.l0.h_attn [0, 64] to [1, 96]>]}
  mkt.task @l0.o_proj.3 o_proj layer(0) tile [0, 1, 96, 128, 0, 0] {cost_bytes = 8576 : i64, cost_flops = 8192 : i64,
      operands = [@decode.l0.attn, @w.wo, @decode.h0, @decode.l0.h_attn],
      reads = [#mkt.box<@decode.l0.attn [0, 0] to [1, 128]>, #mkt.box<@w.wo [96, 0] to [128, 128]>, #mkt.box<@decode.h0 [0, 96] to [1, 128]>],
      writes = [#mkt.box<@decode.l0.h_attn [0, 96] to [1, 128]>]}
  mkt.task @lm_head.0 lm_head tile [0, 1, 0, 32, 0, 0] {aux = array<i64: 0>, cost_bytes = 8576 : i64, cost_flops = 8192 : i64,
      operands = [@decode.l0.h_attn, @w.norm, @w.embed, @decode.logits, @decode.partial_max],
      reads = [#mkt.box<@decode.l0.h_attn [0, 0] to [1, 128]>, #mkt.box<@w.norm [0] to [128]>, #mkt.box<@w.embed [0, 0] to [32, 128]>],
      writes = [#mkt.box<@decode.logits [0, 0] to [1, 32]>, #mkt.box<@decode.partial_max [0, 0, 0] to [1, 1, 2]>]}
  mkt.task @lm_head.1 lm_head tile [0, 1, 32, 64, 0, 0] {aux = array<i64: 1>, cost_bytes = 8576 : i64, cost_flops = 8192 : i64,
      operands = [@decode.l0.h_attn, @w.norm, @w.embed, @decode.logits, @decode.partial_max],
      reads = [#mkt.box<@decode.l0.h_attn [0, 0] to [1, 128]>, #mkt.box<@w.norm [0] to [128]>, #mkt.box<@w.embed [32, 0] to [64, 128]>],
      writes = [#mkt.box<@decode.logits [0, 32] to [1, 64]>, #mkt.box<@decode.partial_max [0, 1, 0] to [1, 2, 2]>]}
  mkt.task @argmax argmax tile [0, 1, 0, 2, 0, 0] {aux = array<i64: 2>, cost_bytes = 20 : i64, cost_flops = 2 : i64,
      operands = [@decode.partial_max, @decode.tokens],
      reads = [#mkt.box<@decode.partial_max [0, 0, 0] to [1, 2, 2]>],
      writes = [#mkt.box<@decode.tokens [0] to [1]>]}
}

// -----

// Input 2: a prefill chunk of 4 tokens whose K/V appends nobody in the program reads
// (they are for later chunks and decode) and whose argmax writes a separate output.
// Only decode programs get a cross-step wait; tasks that nobody waits on all signal
// `done`, whose count is their number.

// CHECK-LABEL: mkt.program @prefill prefill rows(4) {
// CHECK-NEXT: mkt.event [[EMB:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event @done count(3)
// CHECK-NEXT: mkt.event [[LM:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.task @embedding.0
// CHECK-SAME: signals = {{\[}}[[EMB]]], waits = [], writes
// CHECK-NEXT: mkt.task @l0.qkv.k.g0.0
// CHECK-SAME: signals = [@done], waits = [#mkt.wait<[[EMB]], 1>]
// CHECK-NEXT: mkt.task @l0.qkv.v.g0.0
// CHECK-SAME: signals = [@done], waits = [#mkt.wait<[[EMB]], 1>]
// CHECK-NEXT: mkt.task @lm_head.0
// CHECK-SAME: signals = {{\[}}[[LM]]], waits = [#mkt.wait<[[EMB]], 1>]
// CHECK-NEXT: mkt.task @argmax
// CHECK-SAME: signals = [@done], waits = [#mkt.wait<[[LM]], 1>]
mkt.tensor @prefill.tokens step_state tensor<4xi32>
mkt.tensor @prefill.positions step_state tensor<4xi32>
mkt.tensor @prefill.kv_slots step_state tensor<4xi32>
mkt.tensor @prefill.block_table step_state tensor<1x4xi32>
mkt.tensor @prefill.tokens_out step_state tensor<4xi32>
mkt.tensor @w.embed weight tensor<64x64xbf16> {weight_name = "embed"}
mkt.tensor @w.ln weight tensor<64xbf16> {weight_name = "ln"}
mkt.tensor @w.wk weight tensor<16x64xbf16> {weight_name = "wk"}
mkt.tensor @w.wv weight tensor<16x64xbf16> {weight_name = "wv"}
mkt.tensor @w.norm weight tensor<64xbf16> {weight_name = "norm"}
mkt.tensor @kv.l0.k kv_cache tensor<4x16x1x16xbf16> {layer = 0 : i64}
mkt.tensor @kv.l0.v kv_cache tensor<4x16x1x16xbf16> {layer = 0 : i64}
mkt.tensor @prefill.h0 activation tensor<4x64xbf16> {program = @prefill}
mkt.tensor @prefill.logits activation tensor<4x64xf32> {program = @prefill}
mkt.tensor @prefill.partial_max activation tensor<4x1x2xf32> {program = @prefill}
mkt.program @prefill prefill rows(4) {
  mkt.task @embedding.0 embedding tile [0, 4, 0, 64, 0, 0] {cost_bytes = 1024 : i64, cost_flops = 0 : i64,
      operands = [@prefill.tokens, @w.embed, @prefill.h0],
      reads = [#mkt.box<@prefill.tokens [0] to [4]>, #mkt.box<@w.embed [0, 0] to [64, 64]>],
      writes = [#mkt.box<@prefill.h0 [0, 0] to [4, 64]>]}
  mkt.task @l0.qkv.k.g0.0 qkv layer(0) tile [0, 4, 0, 1, 0, 0] {aux = array<i64: 1>, cost_bytes = 2688 : i64, cost_flops = 8192 : i64,
      operands = [@prefill.h0, @w.ln, @w.wk, unit, unit, @kv.l0.k, @prefill.positions, @prefill.kv_slots, @prefill.block_table],
      reads = [#mkt.box<@prefill.h0 [0, 0] to [4, 64]>, #mkt.box<@w.ln [0] to [64]>, #mkt.box<@w.wk [0, 0] to [16, 64]>, #mkt.box<@prefill.positions [0] to [4]>, #mkt.box<@prefill.kv_slots [0] to [4]>],
      writes = [#mkt.box<@kv.l0.k [0, 0, 0, 0] to [4, 16, 1, 16]>]}
  mkt.task @l0.qkv.v.g0.0 qkv layer(0) tile [0, 4, 0, 1, 0, 0] {aux = array<i64: 2>, cost_bytes = 2688 : i64, cost_flops = 8192 : i64,
      operands = [@prefill.h0, @w.ln, @w.wv, unit, unit, @kv.l0.v, @prefill.positions, @prefill.kv_slots, @prefill.block_table],
      reads = [#mkt.box<@prefill.h0 [0, 0] to [4, 64]>, #mkt.box<@w.ln [0] to [64]>, #mkt.box<@w.wv [0, 0] to [16, 64]>, #mkt.box<@prefill.positions [0] to [4]>, #mkt.box<@prefill.kv_slots [0] to [4]>],
      writes = [#mkt.box<@kv.l0.v [0, 0, 0, 0] to [4, 16, 1, 16]>]}
  mkt.task @lm_head.0 lm_head tile [0, 4, 0, 64, 0, 0] {aux = array<i64: 0>, cost_bytes = 9728 : i64, cost_flops = 32768 : i64,
      operands = [@prefill.h0, @w.norm, @w.embed, @prefill.logits, @prefill.partial_max],
      reads = [#mkt.box<@prefill.h0 [0, 0] to [4, 64]>, #mkt.box<@w.norm [0] to [64]>, #mkt.box<@w.embed [0, 0] to [64, 64]>],
      writes = [#mkt.box<@prefill.logits [0, 0] to [4, 64]>, #mkt.box<@prefill.partial_max [0, 0, 0] to [4, 1, 2]>]}
  mkt.task @argmax argmax tile [0, 4, 0, 1, 0, 0] {aux = array<i64: 1>, cost_bytes = 48 : i64, cost_flops = 4 : i64,
      operands = [@prefill.partial_max, @prefill.tokens_out],
      reads = [#mkt.box<@prefill.partial_max [0, 0, 0] to [4, 1, 2]>],
      writes = [#mkt.box<@prefill.tokens_out [0] to [4]>]}
}

// -----

// Input 3: transitive reduction. @b reads what @a wrote; @c reads what @a and @b
// wrote, so it depends on @a directly and through @b: it waits on @b only. @d then
// overwrites x, which @b and @c read (WAR) and @a wrote (WAW): one wait, on @c.

// CHECK-LABEL: mkt.program @chain prefill rows(2) {
// CHECK-NEXT: mkt.event [[A:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event [[B:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event [[C:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event @done count(1)
// CHECK-NEXT: mkt.task @a
// CHECK-SAME: signals = {{\[}}[[A]]], waits = [], writes
// CHECK-NEXT: mkt.task @b
// CHECK-SAME: signals = {{\[}}[[B]]], waits = [#mkt.wait<[[A]], 1>], writes
// CHECK-NEXT: mkt.task @c
// CHECK-SAME: signals = {{\[}}[[C]]], waits = [#mkt.wait<[[B]], 1>], writes
// CHECK-NEXT: mkt.task @d
// CHECK-SAME: signals = [@done], waits = [#mkt.wait<[[C]], 1>], writes
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @x activation tensor<2x64xbf16> {program = @chain}
mkt.tensor @y activation tensor<2x64xbf16> {program = @chain}
mkt.tensor @z activation tensor<2x64xbf16> {program = @chain}
mkt.program @chain prefill rows(2) {
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x],
      reads = [#mkt.box<@tokens [0] to [2]>, #mkt.box<@w [0, 0] to [64, 64]>],
      writes = [#mkt.box<@x [0, 0] to [2, 64]>]}
  mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @y],
      reads = [#mkt.box<@x [0, 0] to [2, 64]>, #mkt.box<@w [0, 0] to [64, 64]>],
      writes = [#mkt.box<@y [0, 0] to [2, 64]>]}
  mkt.task @c o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@y, @w, @x, @z],
      reads = [#mkt.box<@y [0, 0] to [2, 64]>, #mkt.box<@w [0, 0] to [64, 64]>, #mkt.box<@x [0, 0] to [2, 64]>],
      writes = [#mkt.box<@z [0, 0] to [2, 64]>]}
  mkt.task @d embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x],
      reads = [#mkt.box<@tokens [0] to [2]>, #mkt.box<@w [0, 0] to [64, 64]>],
      writes = [#mkt.box<@x [0, 0] to [2, 64]>]}
}

// -----

// Input 4: a diamond. @l and @r both read @top's x; @bottom reads what both wrote and x
// itself. Its edge from @top is implied through either side, so it waits on one event
// that @l and @r share (same consumers), count 2. @top's event has two consumers.

// CHECK-LABEL: mkt.program @diamond prefill rows(2) {
// CHECK-NEXT: mkt.event [[TOP:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event [[SIDES:@ev.l]] count(2)
// CHECK-NEXT: mkt.event @done count(1)
// CHECK-NEXT: mkt.task @top
// CHECK-SAME: signals = {{\[}}[[TOP]]], waits = [], writes
// CHECK-NEXT: mkt.task @l
// CHECK-SAME: signals = {{\[}}[[SIDES]]], waits = [#mkt.wait<[[TOP]], 1>], writes
// CHECK-NEXT: mkt.task @r
// CHECK-SAME: signals = {{\[}}[[SIDES]]], waits = [#mkt.wait<[[TOP]], 1>], writes
// CHECK-NEXT: mkt.task @bottom
// CHECK-SAME: signals = [@done], waits = [#mkt.wait<[[SIDES]], 2>], writes
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @x activation tensor<2x64xbf16> {program = @diamond}
mkt.tensor @y activation tensor<2x64xbf16> {program = @diamond}
mkt.tensor @z activation tensor<2x64xbf16> {program = @diamond}
mkt.program @diamond prefill rows(2) {
  mkt.task @top embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@x [0, 0] to [2, 64]>]}
  mkt.task @l o_proj tile [0, 2, 0, 32, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x [0, 0] to [2, 64]>],
      writes = [#mkt.box<@y [0, 0] to [2, 32]>]}
  mkt.task @r o_proj tile [0, 2, 32, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x [0, 0] to [2, 64]>],
      writes = [#mkt.box<@y [0, 32] to [2, 64]>]}
  mkt.task @bottom o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@y, @w, @x, @z],
      reads = [#mkt.box<@y [0, 0] to [2, 64]>, #mkt.box<@x [0, 0] to [2, 64]>],
      writes = [#mkt.box<@z [0, 0] to [2, 64]>]}
}

// -----

// Input 5: not layered. Two chains, interleaved in body order (@a0 -> @a1 -> @a2 and
// @b0 -> @b1), meet in @join. Nothing makes a task depend on everything before it:
// @a1 does not wait for @b0, @b1 not for @a1, and @join waits on the two chain ends
// only: two events, since @a2 also feeds @tail and @b1 does not.

// CHECK-LABEL: mkt.program @chains prefill rows(2) {
// CHECK-NEXT: mkt.event [[A0:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event [[B0:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event [[A1:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event [[B1:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event [[A2:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event @done count(2)
// CHECK-NEXT: mkt.task @a0
// CHECK-SAME: signals = {{\[}}[[A0]]], waits = [], writes
// CHECK-NEXT: mkt.task @b0
// CHECK-SAME: signals = {{\[}}[[B0]]], waits = [], writes
// CHECK-NEXT: mkt.task @a1
// CHECK-SAME: signals = {{\[}}[[A1]]], waits = [#mkt.wait<[[A0]], 1>], writes
// CHECK-NEXT: mkt.task @b1
// CHECK-SAME: signals = {{\[}}[[B1]]], waits = [#mkt.wait<[[B0]], 1>], writes
// CHECK-NEXT: mkt.task @a2
// CHECK-SAME: signals = {{\[}}[[A2]]], waits = [#mkt.wait<[[A1]], 1>], writes
// CHECK-NEXT: mkt.task @join
// CHECK-SAME: signals = [@done], waits = [#mkt.wait<[[B1]], 1>, #mkt.wait<[[A2]], 1>], writes
// CHECK-NEXT: mkt.task @tail
// CHECK-SAME: signals = [@done], waits = [#mkt.wait<[[A2]], 1>], writes
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @a activation tensor<3x2x64xbf16> {program = @chains}
mkt.tensor @b activation tensor<2x2x64xbf16> {program = @chains}
mkt.tensor @out activation tensor<2x2x64xbf16> {program = @chains}
mkt.program @chains prefill rows(2) {
  mkt.task @a0 embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @a], reads = [], writes = [#mkt.box<@a [0, 0, 0] to [1, 2, 64]>]}
  mkt.task @b0 embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @b], reads = [], writes = [#mkt.box<@b [0, 0, 0] to [1, 2, 64]>]}
  mkt.task @a1 o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@a, @w, @a, @a], reads = [#mkt.box<@a [0, 0, 0] to [1, 2, 64]>],
      writes = [#mkt.box<@a [1, 0, 0] to [2, 2, 64]>]}
  mkt.task @b1 o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@b, @w, @b, @b], reads = [#mkt.box<@b [0, 0, 0] to [1, 2, 64]>],
      writes = [#mkt.box<@b [1, 0, 0] to [2, 2, 64]>]}
  mkt.task @a2 o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@a, @w, @a, @a], reads = [#mkt.box<@a [1, 0, 0] to [2, 2, 64]>],
      writes = [#mkt.box<@a [2, 0, 0] to [3, 2, 64]>]}
  mkt.task @join o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@a, @w, @b, @out],
      reads = [#mkt.box<@a [2, 0, 0] to [3, 2, 64]>, #mkt.box<@b [1, 0, 0] to [2, 2, 64]>],
      writes = [#mkt.box<@out [0, 0, 0] to [1, 2, 64]>]}
  mkt.task @tail o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@a, @w, @a, @out], reads = [#mkt.box<@a [2, 0, 0] to [3, 2, 64]>],
      writes = [#mkt.box<@out [1, 0, 0] to [2, 2, 64]>]}
}

// -----

// Input 6: a decode step whose tokens two embedding tiles read (one row each). The
// argmax's write is a loop-carried read for both, so both wait on its event across
// steps, and its event has those two cross-step consumers and no same-step one.

// CHECK-LABEL: mkt.program @decode decode rows(2) {
// CHECK-NEXT: mkt.event [[EMB:@ev.emb0]] count(2)
// CHECK-NEXT: mkt.event [[LM:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.event [[ARGMAX:@[^ ]+]] count(1)
// CHECK-NEXT: mkt.task @emb0
// CHECK-SAME: signals = {{\[}}[[EMB]]], waits = [#mkt.wait<[[ARGMAX]], 1, back = 1>]
// CHECK-NEXT: mkt.task @emb1
// CHECK-SAME: signals = {{\[}}[[EMB]]], waits = [#mkt.wait<[[ARGMAX]], 1, back = 1>]
// CHECK-NEXT: mkt.task @lm_head
// CHECK-SAME: signals = {{\[}}[[LM]]], waits = [#mkt.wait<[[EMB]], 2>]
// CHECK-NEXT: mkt.task @argmax
// CHECK-SAME: signals = {{\[}}[[ARGMAX]]], waits = [#mkt.wait<[[LM]], 1>]
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @h activation tensor<2x64xbf16> {program = @decode}
mkt.tensor @pmax activation tensor<2x1x2xf32> {program = @decode}
mkt.program @decode decode rows(2) {
  mkt.task @emb0 embedding tile [0, 1, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [1]>],
      writes = [#mkt.box<@h [0, 0] to [1, 64]>]}
  mkt.task @emb1 embedding tile [1, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [1] to [2]>],
      writes = [#mkt.box<@h [1, 0] to [2, 64]>]}
  mkt.task @lm_head lm_head tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @w, @w, @pmax, @pmax], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
      writes = [#mkt.box<@pmax [0, 0, 0] to [2, 1, 2]>]}
  mkt.task @argmax argmax tile [0, 2, 0, 1, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@pmax, @tokens], reads = [#mkt.box<@pmax [0, 0, 0] to [2, 1, 2]>],
      writes = [#mkt.box<@tokens [0] to [2]>]}
}
