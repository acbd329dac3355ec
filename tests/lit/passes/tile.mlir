// RUN: mk-opt %s -mk-tile="target=host max-seq-len=64" | FileCheck %s
// RUN: mk-opt %s -mk-tile="target=host max-seq-len=64" | FileCheck %s --check-prefix=ABSENT
// RUN: mk-opt %s -mk-tile="target=host max-seq-len=1024" | FileCheck %s --check-prefix=HOST1K
// RUN: mk-opt %s -mk-tile="target=h100 max-seq-len=1024" | FileCheck %s --check-prefix=H100

// One fused Llama layer + final norm + tied LM head (hidden 64, 4 heads in 2 KV groups,
// head_dim 16, intermediate 128, vocab 256), as `mkc compile --emit graph | mk-opt
// -mk-fuse` makes it: a decode program for a batch of 2 and a prefill chunk of 32.
//
// Host tile sizes (16 workers, ~6 KB minimum tile): a 64-column projection is one
// tile, gate/up and down split into 32-column tiles, the LM head into 64-row tiles;
// a whole KV group (2 query heads) is one Q tile; max-seq-len 64 gives decode
// attention one KV split; prefill attention rows come in blocks of 16.

// Absent from the whole output: the functions and every graph op (they became
// programs), an lm_head.weight tensor (the LM head is tied to the embedding table),
// and a decode tokens_out (decode's argmax writes the next tokens in place).
// ABSENT-NOT: func.func
// ABSENT-NOT: mkg.
// ABSENT-NOT: lm_head.weight
// ABSENT-NOT: @decode.tokens_out

// Module-level tensors. KV caches hold 2 sequences x 64/16 blocks of 16 tokens for
// 2 KV heads of 16 dims.
// CHECK-DAG: mkt.tensor [[EMB:@w.model.embed_tokens.weight]] weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
// CHECK-DAG: mkt.tensor [[LN:@w.model.layers.0.input_layernorm.weight]] weight tensor<64xbf16> {weight_name = "model.layers.0.input_layernorm.weight"}
// CHECK-DAG: mkt.tensor [[WQ:@w.model.layers.0.self_attn.q_proj.weight]] weight tensor<64x64xbf16> {weight_name = "model.layers.0.self_attn.q_proj.weight"}
// CHECK-DAG: mkt.tensor [[WK:@w.model.layers.0.self_attn.k_proj.weight]] weight tensor<32x64xbf16> {weight_name = "model.layers.0.self_attn.k_proj.weight"}
// CHECK-DAG: mkt.tensor [[WV:@w.model.layers.0.self_attn.v_proj.weight]] weight tensor<32x64xbf16> {weight_name = "model.layers.0.self_attn.v_proj.weight"}
// CHECK-DAG: mkt.tensor [[WO:@w.model.layers.0.self_attn.o_proj.weight]] weight tensor<64x64xbf16> {weight_name = "model.layers.0.self_attn.o_proj.weight"}
// CHECK-DAG: mkt.tensor [[PLN:@w.model.layers.0.post_attention_layernorm.weight]] weight tensor<64xbf16> {weight_name = "model.layers.0.post_attention_layernorm.weight"}
// CHECK-DAG: mkt.tensor [[WG:@w.model.layers.0.mlp.gate_proj.weight]] weight tensor<128x64xbf16> {weight_name = "model.layers.0.mlp.gate_proj.weight"}
// CHECK-DAG: mkt.tensor [[WU:@w.model.layers.0.mlp.up_proj.weight]] weight tensor<128x64xbf16> {weight_name = "model.layers.0.mlp.up_proj.weight"}
// CHECK-DAG: mkt.tensor [[WD:@w.model.layers.0.mlp.down_proj.weight]] weight tensor<64x128xbf16> {weight_name = "model.layers.0.mlp.down_proj.weight"}
// CHECK-DAG: mkt.tensor [[FN:@w.model.norm.weight]] weight tensor<64xbf16> {weight_name = "model.norm.weight"}
// CHECK-DAG: mkt.tensor [[KC:@kv.l0.k]] kv_cache tensor<8x16x2x16xbf16> {layer = 0 : i64}
// CHECK-DAG: mkt.tensor [[VC:@kv.l0.v]] kv_cache tensor<8x16x2x16xbf16> {layer = 0 : i64}

// Decode step state (the runtime's) and activations (the decode program's arena).
// CHECK-DAG: mkt.tensor @decode.tokens step_state tensor<2xi32>{{$}}
// CHECK-DAG: mkt.tensor @decode.positions step_state tensor<2xi32>{{$}}
// CHECK-DAG: mkt.tensor @decode.seq_lens step_state tensor<2xi32>{{$}}
// CHECK-DAG: mkt.tensor @decode.block_table step_state tensor<2x4xi32>{{$}}
// CHECK-DAG: mkt.tensor @decode.kv_slots step_state tensor<2xi32>{{$}}
// CHECK-DAG: mkt.tensor @decode.h0 activation tensor<2x64xbf16> {program = @decode}
// CHECK-DAG: mkt.tensor @decode.l0.q activation tensor<2x64xbf16> {program = @decode}
// CHECK-DAG: mkt.tensor @decode.l0.attn_partial_o activation tensor<2x4x1x16xf32> {program = @decode}
// CHECK-DAG: mkt.tensor @decode.l0.attn_partial_lse activation tensor<2x4x1xf32> {program = @decode}
// CHECK-DAG: mkt.tensor @decode.l0.attn activation tensor<2x64xbf16> {program = @decode}
// CHECK-DAG: mkt.tensor @decode.l0.h_attn activation tensor<2x64xbf16> {program = @decode}
// CHECK-DAG: mkt.tensor @decode.l0.mlp activation tensor<2x128xbf16> {program = @decode}
// CHECK-DAG: mkt.tensor @decode.l0.h_mlp activation tensor<2x64xbf16> {program = @decode}
// CHECK-DAG: mkt.tensor @decode.logits activation tensor<2x256xf32> {program = @decode}
// CHECK-DAG: mkt.tensor @decode.partial_max activation tensor<2x4x2xf32> {program = @decode}

// Prefill: one sequence, so one seq_len and one block-table row; a separate output.
// CHECK-DAG: mkt.tensor @prefill.tokens step_state tensor<32xi32>{{$}}
// CHECK-DAG: mkt.tensor @prefill.seq_lens step_state tensor<1xi32>{{$}}
// CHECK-DAG: mkt.tensor @prefill.block_table step_state tensor<1x4xi32>{{$}}
// CHECK-DAG: mkt.tensor @prefill.tokens_out step_state tensor<32xi32>{{$}}
// CHECK-DAG: mkt.tensor @prefill.h0 activation tensor<32x64xbf16> {program = @prefill}
// CHECK-DAG: mkt.tensor @prefill.l0.attn activation tensor<32x64xbf16> {program = @prefill}
// CHECK-DAG: mkt.tensor @prefill.partial_max activation tensor<32x4x2xf32> {program = @prefill}

// Every task of the decode program in body order, one line after the other.
// CHECK-LABEL: mkt.program @decode decode rows(2) {
// CHECK-NEXT: mkt.task @embedding.0 embedding tile [0, 2, 0, 64, 0, 0]
// CHECK-SAME: operands = [@decode.tokens, [[EMB]], @decode.h0]
// CHECK-SAME: writes = [#mkt.box<@decode.h0[0, 0] to[2, 64]>]

// QKV: per KV group g, the Q tile holds the group's query heads [2g, 2g+2) and
// writes their columns of q; the K and V tiles hold head g and write exactly that
// head of the cache. Q and K get the llama3 RoPE flag (2), V none.
// CHECK-NEXT: mkt.task @l0.qkv.q.g0.0 qkv layer(0) tile [0, 2, 0, 2, 0, 0] {aux = array<i64: 0>
// CHECK-SAME: flags = 2 : i64
// CHECK-SAME: operands = [@decode.h0, [[LN]], [[WQ]], unit, unit, @decode.l0.q, @decode.positions, @decode.kv_slots, @decode.block_table]
// CHECK-SAME: #mkt.box<[[WQ]][0, 0] to[32, 64]>
// CHECK-SAME: writes = [#mkt.box<@decode.l0.q[0, 0] to[2, 32]>]}
// CHECK-NEXT: mkt.task @l0.qkv.k.g0.0 qkv layer(0) tile [0, 2, 0, 1, 0, 0] {aux = array<i64: 1>
// CHECK-SAME: flags = 2 : i64
// CHECK-SAME: operands = [@decode.h0, [[LN]], [[WK]], unit, unit, [[KC]], @decode.positions, @decode.kv_slots, @decode.block_table]
// CHECK-SAME: #mkt.box<[[WK]][0, 0] to[16, 64]>
// CHECK-SAME: writes = [#mkt.box<[[KC]][0, 0, 0, 0] to[8, 16, 1, 16]>]}
// CHECK-NEXT: mkt.task @l0.qkv.v.g0.0 qkv layer(0) tile [0, 2, 0, 1, 0, 0] {aux = array<i64: 2>
// CHECK-NOT: flags
// CHECK-SAME: #mkt.box<[[WV]][0, 0] to[16, 64]>
// CHECK-SAME: writes = [#mkt.box<[[VC]][0, 0, 0, 0] to[8, 16, 1, 16]>]}
// CHECK-NEXT: mkt.task @l0.qkv.q.g1.0 qkv layer(0) tile [0, 2, 2, 4, 0, 0] {aux = array<i64: 0>
// CHECK-SAME: #mkt.box<[[WQ]][32, 0] to[64, 64]>
// CHECK-SAME: writes = [#mkt.box<@decode.l0.q[0, 32] to[2, 64]>]}
// CHECK-NEXT: mkt.task @l0.qkv.k.g1.0 qkv layer(0) tile [0, 2, 1, 2, 0, 0] {aux = array<i64: 1>
// CHECK-SAME: #mkt.box<[[WK]][16, 0] to[32, 64]>
// CHECK-SAME: writes = [#mkt.box<[[KC]][0, 0, 1, 0] to[8, 16, 2, 16]>]}
// CHECK-NEXT: mkt.task @l0.qkv.v.g1.0 qkv layer(0) tile [0, 2, 1, 2, 0, 0] {aux = array<i64: 2>
// CHECK-SAME: #mkt.box<[[WV]][16, 0] to[32, 64]>
// CHECK-SAME: writes = [#mkt.box<[[VC]][0, 0, 1, 0] to[8, 16, 2, 16]>]}

// Decode attention per KV head: its KV-position splits (one at max-seq-len 64) read
// the head's query columns and cache head and write partials; one merge per KV head
// combines the head's splits into its output columns.
// CHECK-NEXT: mkt.task @l0.attn.g0.s0 attn_decode layer(0) tile [0, 2, 0, 1, 0, 64] {aux = array<i64: 0, 0>
// CHECK-SAME: reads = [#mkt.box<@decode.l0.q[0, 0] to[2, 32]>, #mkt.box<[[KC]][0, 0, 0, 0] to[8, 16, 1, 16]>, #mkt.box<[[VC]][0, 0, 0, 0] to[8, 16, 1, 16]>
// CHECK-SAME: writes = [#mkt.box<@decode.l0.attn_partial_o[0, 0, 0, 0] to[2, 2, 1, 16]>, #mkt.box<@decode.l0.attn_partial_lse[0, 0, 0] to[2, 2, 1]>]}
// CHECK-NEXT: mkt.task @l0.merge.g0 attn_merge layer(0) tile [0, 2, 0, 1, 0, 1] {aux = array<i64: 1>
// CHECK-SAME: writes = [#mkt.box<@decode.l0.attn[0, 0] to[2, 32]>]}
// CHECK-NEXT: mkt.task @l0.attn.g1.s0 attn_decode layer(0) tile [0, 2, 1, 2, 0, 64]
// CHECK-SAME: reads = [#mkt.box<@decode.l0.q[0, 32] to[2, 64]>, #mkt.box<[[KC]][0, 0, 1, 0] to[8, 16, 2, 16]>, #mkt.box<[[VC]][0, 0, 1, 0] to[8, 16, 2, 16]>
// CHECK-NEXT: mkt.task @l0.merge.g1 attn_merge layer(0) tile [0, 2, 1, 2, 0, 1]
// CHECK-SAME: writes = [#mkt.box<@decode.l0.attn[0, 32] to[2, 64]>]}

// Weight-streaming projections split over output columns; each residual tile reads
// only its own columns of the residual.
// CHECK-NEXT: mkt.task @l0.o_proj.0 o_proj layer(0) tile [0, 2, 0, 64, 0, 0]
// CHECK-SAME: operands = [@decode.l0.attn, [[WO]], @decode.h0, @decode.l0.h_attn]
// CHECK-NEXT: mkt.task @l0.gate_up.0 gate_up layer(0) tile [0, 2, 0, 32, 0, 0]
// CHECK-SAME: operands = [@decode.l0.h_attn, [[PLN]], [[WG]], [[WU]], @decode.l0.mlp]
// CHECK-SAME: #mkt.box<[[WG]][0, 0] to[32, 64]>, #mkt.box<[[WU]][0, 0] to[32, 64]>
// CHECK-NEXT: mkt.task @l0.gate_up.1 gate_up layer(0) tile [0, 2, 32, 64, 0, 0]
// CHECK-NEXT: mkt.task @l0.gate_up.2 gate_up layer(0) tile [0, 2, 64, 96, 0, 0]
// CHECK-NEXT: mkt.task @l0.gate_up.3 gate_up layer(0) tile [0, 2, 96, 128, 0, 0]
// CHECK-NEXT: mkt.task @l0.down_proj.0 down_proj layer(0) tile [0, 2, 0, 32, 0, 0]
// CHECK-SAME: operands = [@decode.l0.mlp, [[WD]], @decode.l0.h_attn, @decode.l0.h_mlp]
// CHECK-SAME: #mkt.box<@decode.l0.h_attn[0, 0] to[2, 32]>], writes = [#mkt.box<@decode.l0.h_mlp[0, 0] to[2, 32]>]}
// CHECK-NEXT: mkt.task @l0.down_proj.1 down_proj layer(0) tile [0, 2, 32, 64, 0, 0]
// CHECK-SAME: #mkt.box<@decode.l0.h_attn[0, 32] to[2, 64]>], writes = [#mkt.box<@decode.l0.h_mlp[0, 32] to[2, 64]>]}

// LM head: vocabulary tiles, each with its slot of partial maxima; argmax reduces
// all 4 slots into the step's tokens.
// CHECK-NEXT: mkt.task @lm_head.0 lm_head tile [0, 2, 0, 64, 0, 0] {aux = array<i64: 0>
// CHECK-SAME: operands = [@decode.l0.h_mlp, [[FN]], [[EMB]], @decode.logits, @decode.partial_max]
// CHECK-SAME: writes = [#mkt.box<@decode.logits[0, 0] to[2, 64]>, #mkt.box<@decode.partial_max[0, 0, 0] to[2, 1, 2]>]}
// CHECK-NEXT: mkt.task @lm_head.1 lm_head tile [0, 2, 64, 128, 0, 0] {aux = array<i64: 1>
// CHECK-NEXT: mkt.task @lm_head.2 lm_head tile [0, 2, 128, 192, 0, 0] {aux = array<i64: 2>
// CHECK-NEXT: mkt.task @lm_head.3 lm_head tile [0, 2, 192, 256, 0, 0] {aux = array<i64: 3>
// CHECK-SAME: writes = [#mkt.box<@decode.logits[0, 192] to[2, 256]>, #mkt.box<@decode.partial_max[0, 3, 0] to[2, 4, 2]>]}
// CHECK-NEXT: mkt.task @argmax argmax tile [0, 2, 0, 4, 0, 0] {aux = array<i64: 4>
// CHECK-SAME: operands = [@decode.partial_max, @decode.tokens]
// CHECK-SAME: writes = [#mkt.box<@decode.tokens[0] to[2]>]}{{$}}
// CHECK-NEXT: }

// Prefill: the same QKV split; attention tiles are (KV head, block of 16 rows), each
// reading its rows of q and positions and the whole cache head.
// CHECK-LABEL: mkt.program @prefill prefill rows(32) {
// CHECK-NEXT: mkt.task @embedding.0 embedding tile [0, 32, 0, 64, 0, 0]
// CHECK-NEXT: mkt.task @l0.qkv.q.g0.0 qkv layer(0) tile [0, 32, 0, 2, 0, 0]
// CHECK-SAME: writes = [#mkt.box<@prefill.l0.q[0, 0] to[32, 32]>]}
// CHECK-NEXT: mkt.task @l0.qkv.k.g0.0 qkv layer(0) tile [0, 32, 0, 1, 0, 0]
// CHECK-SAME: writes = [#mkt.box<[[KC]][0, 0, 0, 0] to[8, 16, 1, 16]>]}
// CHECK-NEXT: mkt.task @l0.qkv.v.g0.0 qkv layer(0) tile [0, 32, 0, 1, 0, 0]
// CHECK-NEXT: mkt.task @l0.qkv.q.g1.0 qkv layer(0) tile [0, 32, 2, 4, 0, 0]
// CHECK-NEXT: mkt.task @l0.qkv.k.g1.0 qkv layer(0) tile [0, 32, 1, 2, 0, 0]
// CHECK-NEXT: mkt.task @l0.qkv.v.g1.0 qkv layer(0) tile [0, 32, 1, 2, 0, 0]
// CHECK-SAME: writes = [#mkt.box<[[VC]][0, 0, 1, 0] to[8, 16, 2, 16]>]}
// CHECK-NEXT: mkt.task @l0.attn.g0.r0 attn_prefill layer(0) tile [0, 16, 0, 1, 0, 0]
// CHECK-SAME: operands = [@prefill.l0.q, [[KC]], [[VC]], @prefill.block_table, @prefill.positions, @prefill.l0.attn]
// CHECK-SAME: reads = [#mkt.box<@prefill.l0.q[0, 0] to[16, 32]>, #mkt.box<[[KC]][0, 0, 0, 0] to[8, 16, 1, 16]>, #mkt.box<[[VC]][0, 0, 0, 0] to[8, 16, 1, 16]>, #mkt.box<@prefill.block_table[0, 0] to[1, 4]>, #mkt.box<@prefill.positions[0] to[16]>]
// CHECK-SAME: writes = [#mkt.box<@prefill.l0.attn[0, 0] to[16, 32]>]}
// CHECK-NEXT: mkt.task @l0.attn.g0.r1 attn_prefill layer(0) tile [16, 32, 0, 1, 0, 0]
// CHECK-SAME: #mkt.box<@prefill.positions[16] to[32]>]
// CHECK-SAME: writes = [#mkt.box<@prefill.l0.attn[16, 0] to[32, 32]>]}
// CHECK-NEXT: mkt.task @l0.attn.g1.r0 attn_prefill layer(0) tile [0, 16, 1, 2, 0, 0]
// CHECK-SAME: writes = [#mkt.box<@prefill.l0.attn[0, 32] to[16, 64]>]}
// CHECK-NEXT: mkt.task @l0.attn.g1.r1 attn_prefill layer(0) tile [16, 32, 1, 2, 0, 0]
// CHECK-SAME: writes = [#mkt.box<@prefill.l0.attn[16, 32] to[32, 64]>]}
// CHECK-NEXT: mkt.task @l0.o_proj.0 o_proj
// CHECK-NEXT: mkt.task @l0.gate_up.0 gate_up
// CHECK-NEXT: mkt.task @l0.gate_up.1 gate_up
// CHECK-NEXT: mkt.task @l0.gate_up.2 gate_up
// CHECK-NEXT: mkt.task @l0.gate_up.3 gate_up
// CHECK-NEXT: mkt.task @l0.down_proj.0 down_proj
// CHECK-NEXT: mkt.task @l0.down_proj.1 down_proj
// CHECK-NEXT: mkt.task @lm_head.0 lm_head
// CHECK-NEXT: mkt.task @lm_head.1 lm_head
// CHECK-NEXT: mkt.task @lm_head.2 lm_head
// CHECK-NEXT: mkt.task @lm_head.3 lm_head
// CHECK-NEXT: mkt.task @argmax argmax tile [0, 32, 0, 4, 0, 0]
// CHECK-SAME: operands = [@prefill.partial_max, @prefill.tokens_out]
// CHECK-SAME: writes = [#mkt.box<@prefill.tokens_out[0] to[32]>]}{{$}}
// CHECK-NEXT: }

// Tile sizes follow the target. At max-seq-len 1024 the host splits decode attention
// 8 ways per KV head (16 workers / 2 KV heads) ...
// HOST1K: mkt.tensor @kv.l0.k kv_cache tensor<128x16x2x16xbf16>
// HOST1K: mkt.tensor @decode.l0.attn_partial_o activation tensor<2x4x8x16xf32>
// HOST1K-LABEL: mkt.program @decode
// HOST1K: @l0.attn.g0.s0 attn_decode layer(0) tile [0, 2, 0, 1, 0, 128]
// HOST1K: @l0.attn.g0.s7 attn_decode layer(0) tile [0, 2, 0, 1, 896, 1024]
// HOST1K-NEXT: @l0.merge.g0 attn_merge layer(0) tile [0, 2, 0, 1, 0, 8] {aux = array<i64: 8>
// HOST1K: @l0.attn.g1.s7 attn_decode layer(0) tile [0, 2, 1, 2, 896, 1024]
// HOST1K-NEXT: @l0.merge.g1 attn_merge layer(0) tile [0, 2, 1, 2, 0, 8]
// HOST1K: @lm_head.3 lm_head tile [0, 2, 192, 256, 0, 0]

// ... and the h100 16 ways (132 SMs, capped at 4 KV blocks per split): finer tiles.
// Its minimum useful tile is larger (2 us of one SM's 25 GB/s), so the 32 KB LM head
// of this tiny model stays whole where the host splits it in 4.
// H100: mkt.tensor @decode.l0.attn_partial_o activation tensor<2x4x16x16xf32>
// H100: mkt.tensor @decode.partial_max activation tensor<2x1x2xf32>
// H100-LABEL: mkt.program @decode
// H100: @l0.attn.g0.s0 attn_decode layer(0) tile [0, 2, 0, 1, 0, 64]
// H100: @l0.attn.g0.s1 attn_decode layer(0) tile [0, 2, 0, 1, 64, 128]
// H100: @l0.attn.g0.s15 attn_decode layer(0) tile [0, 2, 0, 1, 960, 1024]
// H100-NEXT: @l0.merge.g0 attn_merge layer(0) tile [0, 2, 0, 1, 0, 16] {aux = array<i64: 16>
// H100: @l0.attn.g1.s15 attn_decode layer(0) tile [0, 2, 1, 2, 960, 1024]
// H100-NEXT: @l0.merge.g1 attn_merge layer(0) tile [0, 2, 1, 2, 0, 16]
// H100: @lm_head.0 lm_head tile [0, 2, 0, 256, 0, 0]
// H100-NEXT: @argmax argmax tile [0, 2, 0, 1, 0, 0]

func.func @decode(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2xi32> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h0 = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  %ln = mkg.weight "model.layers.0.input_layernorm.weight" : tensor<64xbf16>
  %wq = mkg.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
  %wk = mkg.weight "model.layers.0.self_attn.k_proj.weight" : tensor<32x64xbf16>
  %wv = mkg.weight "model.layers.0.self_attn.v_proj.weight" : tensor<32x64xbf16>
  %q, %cache = mkg.qkv %h0 norm(%ln) weights(%wq, %wk, %wv) positions(%pos)
      {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64,
       llama3_scaling = array<f32: 8.0, 1.0, 4.0, 64.0>, num_heads = 4 : i64,
       num_kv_heads = 2 : i64, theta = 5.0e+05 : f32}
      : (tensor<2x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<2xi32>) -> (tensor<2x64xbf16>, !mkg.kv_cache<0>)
  %a = mkg.attention %q, %cache {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64} : tensor<2x64xbf16>, !mkg.kv_cache<0> -> tensor<2x64xbf16>
  %wo = mkg.weight "model.layers.0.self_attn.o_proj.weight" : tensor<64x64xbf16>
  %h1 = mkg.linear %a, %wo residual(%h0 : tensor<2x64xbf16>) {layer = 0 : i64} : tensor<2x64xbf16>, tensor<64x64xbf16> -> tensor<2x64xbf16>
  %pln = mkg.weight "model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
  %wg = mkg.weight "model.layers.0.mlp.gate_proj.weight" : tensor<128x64xbf16>
  %wu = mkg.weight "model.layers.0.mlp.up_proj.weight" : tensor<128x64xbf16>
  %m = mkg.gated_mlp %h1 norm(%pln) weights(%wg, %wu) {eps = 1.0e-05 : f32, layer = 0 : i64} : (tensor<2x64xbf16>, tensor<64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>) -> tensor<2x128xbf16>
  %wd = mkg.weight "model.layers.0.mlp.down_proj.weight" : tensor<64x128xbf16>
  %h2 = mkg.linear %m, %wd residual(%h1 : tensor<2x64xbf16>) {layer = 0 : i64} : tensor<2x128xbf16>, tensor<64x128xbf16> -> tensor<2x64xbf16>
  %fn = mkg.weight "model.norm.weight" : tensor<64xbf16>
  %logits = mkg.linear %h2, %emb norm(%fn : tensor<64xbf16>) {eps = 1.0e-05 : f32} : tensor<2x64xbf16>, tensor<256x64xbf16> -> tensor<2x256xf32>
  %next = mkg.argmax %logits : tensor<2x256xf32> -> tensor<2xi32>
  return %next : tensor<2xi32>
}

func.func @prefill(%tokens: tensor<32xi32>, %pos: tensor<32xi32>) -> tensor<32xi32> attributes {mkg.program = #mkg.program_kind<prefill>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h0 = mkg.embedding %tokens, %emb : (tensor<32xi32>, tensor<256x64xbf16>) -> tensor<32x64xbf16>
  %ln = mkg.weight "model.layers.0.input_layernorm.weight" : tensor<64xbf16>
  %wq = mkg.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
  %wk = mkg.weight "model.layers.0.self_attn.k_proj.weight" : tensor<32x64xbf16>
  %wv = mkg.weight "model.layers.0.self_attn.v_proj.weight" : tensor<32x64xbf16>
  %q, %cache = mkg.qkv %h0 norm(%ln) weights(%wq, %wk, %wv) positions(%pos)
      {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64,
       llama3_scaling = array<f32: 8.0, 1.0, 4.0, 64.0>, num_heads = 4 : i64,
       num_kv_heads = 2 : i64, theta = 5.0e+05 : f32}
      : (tensor<32x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32xi32>) -> (tensor<32x64xbf16>, !mkg.kv_cache<0>)
  %a = mkg.attention %q, %cache {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64} : tensor<32x64xbf16>, !mkg.kv_cache<0> -> tensor<32x64xbf16>
  %wo = mkg.weight "model.layers.0.self_attn.o_proj.weight" : tensor<64x64xbf16>
  %h1 = mkg.linear %a, %wo residual(%h0 : tensor<32x64xbf16>) {layer = 0 : i64} : tensor<32x64xbf16>, tensor<64x64xbf16> -> tensor<32x64xbf16>
  %pln = mkg.weight "model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
  %wg = mkg.weight "model.layers.0.mlp.gate_proj.weight" : tensor<128x64xbf16>
  %wu = mkg.weight "model.layers.0.mlp.up_proj.weight" : tensor<128x64xbf16>
  %m = mkg.gated_mlp %h1 norm(%pln) weights(%wg, %wu) {eps = 1.0e-05 : f32, layer = 0 : i64} : (tensor<32x64xbf16>, tensor<64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>) -> tensor<32x128xbf16>
  %wd = mkg.weight "model.layers.0.mlp.down_proj.weight" : tensor<64x128xbf16>
  %h2 = mkg.linear %m, %wd residual(%h1 : tensor<32x64xbf16>) {layer = 0 : i64} : tensor<32x128xbf16>, tensor<64x128xbf16> -> tensor<32x64xbf16>
  %fn = mkg.weight "model.norm.weight" : tensor<64xbf16>
  %logits = mkg.linear %h2, %emb norm(%fn : tensor<64xbf16>) {eps = 1.0e-05 : f32} : tensor<32x64xbf16>, tensor<256x64xbf16> -> tensor<32x256xf32>
  %next = mkg.argmax %logits : tensor<32x256xf32> -> tensor<32xi32>
  return %next : tensor<32xi32>
}
