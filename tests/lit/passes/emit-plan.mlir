// RUN: mk-opt %s -mk-emit-plan=output=%t.mkp -o /dev/null
// RUN: mkc verify %t.mkp | FileCheck %s
// RUN: mkc inspect %t.mkp | FileCheck %s --check-prefix=INSPECT
// RUN: mk-opt %s -mk-emit-plan="output=%t.h100.mkp target=h100" -o /dev/null
// RUN: mkc inspect %t.h100.mkp | FileCheck %s --check-prefix=H100
// Without an output, the plan is converted and verified, and nothing is written.
// RUN: mk-opt %s -mk-emit-plan -o /dev/null

// Input: `mkc compile --model <tiny-llama with num_hidden_layers = 1> --max-seq-len 64
// --prefill-chunk 8 --emit tasks`, i.e. the task IR after mk-plan-memory: a decode
// program for one sequence and a prefill program for chunks of 8 tokens.

// The written plan passes the runtime's verifier.
// CHECK: .mkp: verified (2 programs, 42 tensors)

// INSPECT: target host, tensor parallel 1
// INSPECT-NEXT: model llama: 1 layers, hidden 64, heads 4/2 x 16, ffn 128, vocab 256, max_seq_len 64, kv block 16, config b843a8f07095688c
// INSPECT-NEXT: tensors: 11 weights (104.38 KiB), 2 KV caches (8.00 KiB), 18 activations, 11 step state
// INSPECT-NEXT: program decode (decode, 1 rows): 23 tasks, 11 events, 22 waits (+1 cross-step), at most 1 waits per task
// INSPECT-NEXT: tasks by kind: embedding 1, qkv 6, attn_decode 2, attn_merge 2, o_proj 1, gate_up 4, down_proj 2, lm_head 4, argmax 1
// INSPECT: activation arena: 1.75 KiB
// INSPECT-NEXT: program prefill (prefill, 8 rows): 21 tasks, 9 events, 20 waits (+0 cross-step), at most 1 waits per task
// INSPECT-NEXT: tasks by kind: embedding 1, qkv 6, attn_prefill 2, o_proj 1, gate_up 4, down_proj 2, lm_head 4, argmax 1
// INSPECT: activation arena: 9.25 KiB
// INSPECT-NEXT: verified: yes

// The target option only changes the header (tiles were sized by mk-tile).
// H100: target h100, tensor parallel 1
// H100: verified: yes

module attributes {mk.model = {
    attention_bias = false, bos_token_id = 1 : i64, config_hash = "b843a8f07095688c",
    eos_token_ids = array<i64: 2>, family = "llama", head_dim = 16 : i64,
    hidden_size = 64 : i64, intermediate_size = 128 : i64, kv_block_size = 16 : i64,
    max_seq_len = 64 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64,
    num_layers = 1 : i64, qk_norm = false, rms_norm_eps = 9.99999974E-6 : f32,
    rope_factor = 8.000000e+00 : f32, rope_high_freq_factor = 4.000000e+00 : f32,
    rope_interleaved = false, rope_llama3 = true,
    rope_low_freq_factor = 1.000000e+00 : f32, rope_original_max_pos = 64 : i64,
    rope_theta = 5.000000e+05 : f32, sliding_window = 0 : i64, tie_word_embeddings = true,
    vocab_size = 256 : i64}} {
  mkt.tensor @decode.tokens step_state tensor<1xi32>
  mkt.tensor @decode.positions step_state tensor<1xi32>
  mkt.tensor @decode.seq_lens step_state tensor<1xi32>
  mkt.tensor @decode.block_table step_state tensor<1x4xi32>
  mkt.tensor @decode.kv_slots step_state tensor<1xi32>
  mkt.tensor @w.model.embed_tokens.weight weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
  mkt.tensor @decode.h0 activation tensor<1x64xbf16> {offset = 0 : i64, program = @decode}
  mkt.tensor @w.model.layers.0.input_layernorm.weight weight tensor<64xbf16> {weight_name = "model.layers.0.input_layernorm.weight"}
  mkt.tensor @decode.l0.q activation tensor<1x64xbf16> {offset = 256 : i64, program = @decode}
  mkt.tensor @kv.l0.k kv_cache tensor<4x16x2x16xbf16> {layer = 0 : i64}
  mkt.tensor @kv.l0.v kv_cache tensor<4x16x2x16xbf16> {layer = 0 : i64}
  mkt.tensor @w.model.layers.0.self_attn.q_proj.weight weight tensor<64x64xbf16> {weight_name = "model.layers.0.self_attn.q_proj.weight"}
  mkt.tensor @w.model.layers.0.self_attn.k_proj.weight weight tensor<32x64xbf16> {weight_name = "model.layers.0.self_attn.k_proj.weight"}
  mkt.tensor @w.model.layers.0.self_attn.v_proj.weight weight tensor<32x64xbf16> {weight_name = "model.layers.0.self_attn.v_proj.weight"}
  mkt.tensor @decode.l0.attn activation tensor<1x64xbf16> {offset = 1024 : i64, program = @decode}
  mkt.tensor @decode.l0.attn_partial_o activation tensor<1x4x1x16xf32> {offset = 512 : i64, program = @decode}
  mkt.tensor @decode.l0.attn_partial_lse activation tensor<1x4x1xf32> {offset = 768 : i64, program = @decode}
  mkt.tensor @w.model.layers.0.self_attn.o_proj.weight weight tensor<64x64xbf16> {weight_name = "model.layers.0.self_attn.o_proj.weight"}
  mkt.tensor @decode.l0.h_attn activation tensor<1x64xbf16> {offset = 256 : i64, program = @decode}
  mkt.tensor @w.model.layers.0.post_attention_layernorm.weight weight tensor<64xbf16> {weight_name = "model.layers.0.post_attention_layernorm.weight"}
  mkt.tensor @w.model.layers.0.mlp.gate_proj.weight weight tensor<128x64xbf16> {weight_name = "model.layers.0.mlp.gate_proj.weight"}
  mkt.tensor @w.model.layers.0.mlp.up_proj.weight weight tensor<128x64xbf16> {weight_name = "model.layers.0.mlp.up_proj.weight"}
  mkt.tensor @decode.l0.mlp activation tensor<1x128xbf16> {offset = 0 : i64, program = @decode}
  mkt.tensor @w.model.layers.0.mlp.down_proj.weight weight tensor<64x128xbf16> {weight_name = "model.layers.0.mlp.down_proj.weight"}
  mkt.tensor @decode.l0.h_mlp activation tensor<1x64xbf16> {offset = 512 : i64, program = @decode}
  mkt.tensor @w.model.norm.weight weight tensor<64xbf16> {weight_name = "model.norm.weight"}
  mkt.tensor @decode.logits activation tensor<1x256xf32> {offset = 768 : i64, program = @decode}
  mkt.tensor @decode.partial_max activation tensor<1x4x2xf32> {offset = 0 : i64, program = @decode}
  mkt.tensor @prefill.tokens step_state tensor<8xi32>
  mkt.tensor @prefill.positions step_state tensor<8xi32>
  mkt.tensor @prefill.seq_lens step_state tensor<1xi32>
  mkt.tensor @prefill.block_table step_state tensor<1x4xi32>
  mkt.tensor @prefill.kv_slots step_state tensor<8xi32>
  mkt.tensor @prefill.h0 activation tensor<8x64xbf16> {offset = 0 : i64, program = @prefill}
  mkt.tensor @prefill.l0.q activation tensor<8x64xbf16> {offset = 1024 : i64, program = @prefill}
  mkt.tensor @prefill.l0.attn activation tensor<8x64xbf16> {offset = 2048 : i64, program = @prefill}
  mkt.tensor @prefill.l0.h_attn activation tensor<8x64xbf16> {offset = 1024 : i64, program = @prefill}
  mkt.tensor @prefill.l0.mlp activation tensor<8x128xbf16> {offset = 2048 : i64, program = @prefill}
  mkt.tensor @prefill.l0.h_mlp activation tensor<8x64xbf16> {offset = 0 : i64, program = @prefill}
  mkt.tensor @prefill.logits activation tensor<8x256xf32> {offset = 1024 : i64, program = @prefill}
  mkt.tensor @prefill.partial_max activation tensor<8x4x2xf32> {offset = 9216 : i64, program = @prefill}
  mkt.tensor @prefill.tokens_out step_state tensor<8xi32>
  mkt.program @decode decode rows(1) attributes {arena_bytes = 1792 : i64, critical_path_us = 13.756160000000001 : f64} {
    mkt.event @ev.embedding.0 count(1)
    mkt.event @ev.l0.qkv.q.g0.0 count(3)
    mkt.event @ev.l0.qkv.q.g1.0 count(3)
    mkt.event @ev.l0.attn.g0.s0 count(1)
    mkt.event @ev.l0.merge.g0 count(2)
    mkt.event @ev.l0.attn.g1.s0 count(1)
    mkt.event @ev.l0.o_proj.0 count(1)
    mkt.event @ev.l0.gate_up.0 count(4)
    mkt.event @ev.l0.down_proj.0 count(2)
    mkt.event @ev.lm_head.0 count(4)
    mkt.event @ev.argmax count(1)
    mkt.task @embedding.0 embedding tile [0, 1, 0, 64, 0, 0] {cost_bytes = 256 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@decode.tokens, @w.model.embed_tokens.weight, @decode.h0],
        reads = [#mkt.box<@decode.tokens [0] to [1]>, #mkt.box<@w.model.embed_tokens.weight [0, 0] to [256, 64]>],
        signals = [@ev.embedding.0],
        waits = [#mkt.wait<@ev.argmax, 1, back = 1>],
        writes = [#mkt.box<@decode.h0 [0, 0] to [1, 64]>]}
    mkt.task @l0.qkv.q.g0.0 qkv layer(0) tile [0, 1, 0, 2, 0, 0] {aux = array<i64: 0>, cost_bytes = 4288 : i64, cost_flops = 4096 : i64, flags = 2 : i64, order = 1 : i64,
        operands = [@decode.h0, @w.model.layers.0.input_layernorm.weight, @w.model.layers.0.self_attn.q_proj.weight, unit, unit, @decode.l0.q, @decode.positions, @decode.kv_slots, @decode.block_table],
        reads = [#mkt.box<@decode.h0 [0, 0] to [1, 64]>, #mkt.box<@w.model.layers.0.input_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.self_attn.q_proj.weight [0, 0] to [32, 64]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
        signals = [@ev.l0.qkv.q.g0.0],
        waits = [#mkt.wait<@ev.embedding.0, 1>],
        writes = [#mkt.box<@decode.l0.q [0, 0] to [1, 32]>]}
    mkt.task @l0.qkv.k.g0.0 qkv layer(0) tile [0, 1, 0, 1, 0, 0] {aux = array<i64: 1>, cost_bytes = 2208 : i64, cost_flops = 2048 : i64, flags = 2 : i64, order = 3 : i64,
        operands = [@decode.h0, @w.model.layers.0.input_layernorm.weight, @w.model.layers.0.self_attn.k_proj.weight, unit, unit, @kv.l0.k, @decode.positions, @decode.kv_slots, @decode.block_table],
        reads = [#mkt.box<@decode.h0 [0, 0] to [1, 64]>, #mkt.box<@w.model.layers.0.input_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.self_attn.k_proj.weight [0, 0] to [16, 64]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
        signals = [@ev.l0.qkv.q.g0.0],
        waits = [#mkt.wait<@ev.embedding.0, 1>],
        writes = [#mkt.box<@kv.l0.k [0, 0, 0, 0] to [4, 16, 1, 16]>]}
    mkt.task @l0.qkv.v.g0.0 qkv layer(0) tile [0, 1, 0, 1, 0, 0] {aux = array<i64: 2>, cost_bytes = 2208 : i64, cost_flops = 2048 : i64, order = 4 : i64,
        operands = [@decode.h0, @w.model.layers.0.input_layernorm.weight, @w.model.layers.0.self_attn.v_proj.weight, unit, unit, @kv.l0.v, @decode.positions, @decode.kv_slots, @decode.block_table],
        reads = [#mkt.box<@decode.h0 [0, 0] to [1, 64]>, #mkt.box<@w.model.layers.0.input_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.self_attn.v_proj.weight [0, 0] to [16, 64]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
        signals = [@ev.l0.qkv.q.g0.0],
        waits = [#mkt.wait<@ev.embedding.0, 1>],
        writes = [#mkt.box<@kv.l0.v [0, 0, 0, 0] to [4, 16, 1, 16]>]}
    mkt.task @l0.qkv.q.g1.0 qkv layer(0) tile [0, 1, 2, 4, 0, 0] {aux = array<i64: 0>, cost_bytes = 4288 : i64, cost_flops = 4096 : i64, flags = 2 : i64, order = 2 : i64,
        operands = [@decode.h0, @w.model.layers.0.input_layernorm.weight, @w.model.layers.0.self_attn.q_proj.weight, unit, unit, @decode.l0.q, @decode.positions, @decode.kv_slots, @decode.block_table],
        reads = [#mkt.box<@decode.h0 [0, 0] to [1, 64]>, #mkt.box<@w.model.layers.0.input_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.self_attn.q_proj.weight [32, 0] to [64, 64]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
        signals = [@ev.l0.qkv.q.g1.0],
        waits = [#mkt.wait<@ev.embedding.0, 1>],
        writes = [#mkt.box<@decode.l0.q [0, 32] to [1, 64]>]}
    mkt.task @l0.qkv.k.g1.0 qkv layer(0) tile [0, 1, 1, 2, 0, 0] {aux = array<i64: 1>, cost_bytes = 2208 : i64, cost_flops = 2048 : i64, flags = 2 : i64, order = 5 : i64,
        operands = [@decode.h0, @w.model.layers.0.input_layernorm.weight, @w.model.layers.0.self_attn.k_proj.weight, unit, unit, @kv.l0.k, @decode.positions, @decode.kv_slots, @decode.block_table],
        reads = [#mkt.box<@decode.h0 [0, 0] to [1, 64]>, #mkt.box<@w.model.layers.0.input_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.self_attn.k_proj.weight [16, 0] to [32, 64]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
        signals = [@ev.l0.qkv.q.g1.0],
        waits = [#mkt.wait<@ev.embedding.0, 1>],
        writes = [#mkt.box<@kv.l0.k [0, 0, 1, 0] to [4, 16, 2, 16]>]}
    mkt.task @l0.qkv.v.g1.0 qkv layer(0) tile [0, 1, 1, 2, 0, 0] {aux = array<i64: 2>, cost_bytes = 2208 : i64, cost_flops = 2048 : i64, order = 6 : i64,
        operands = [@decode.h0, @w.model.layers.0.input_layernorm.weight, @w.model.layers.0.self_attn.v_proj.weight, unit, unit, @kv.l0.v, @decode.positions, @decode.kv_slots, @decode.block_table],
        reads = [#mkt.box<@decode.h0 [0, 0] to [1, 64]>, #mkt.box<@w.model.layers.0.input_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.self_attn.v_proj.weight [16, 0] to [32, 64]>, #mkt.box<@decode.positions [0] to [1]>, #mkt.box<@decode.kv_slots [0] to [1]>],
        signals = [@ev.l0.qkv.q.g1.0],
        waits = [#mkt.wait<@ev.embedding.0, 1>],
        writes = [#mkt.box<@kv.l0.v [0, 0, 1, 0] to [4, 16, 2, 16]>]}
    mkt.task @l0.attn.g0.s0 attn_decode layer(0) tile [0, 1, 0, 1, 0, 64] {aux = array<i64: 0, 0>, cost_bytes = 4096 : i64, cost_flops = 8192 : i64, order = 7 : i64,
        operands = [@decode.l0.q, @kv.l0.k, @kv.l0.v, @decode.block_table, @decode.seq_lens, @decode.l0.attn_partial_o, @decode.l0.attn_partial_lse],
        reads = [#mkt.box<@decode.l0.q [0, 0] to [1, 32]>, #mkt.box<@kv.l0.k [0, 0, 0, 0] to [4, 16, 1, 16]>, #mkt.box<@kv.l0.v [0, 0, 0, 0] to [4, 16, 1, 16]>, #mkt.box<@decode.block_table [0, 0] to [1, 4]>, #mkt.box<@decode.seq_lens [0] to [1]>],
        signals = [@ev.l0.attn.g0.s0],
        waits = [#mkt.wait<@ev.l0.qkv.q.g0.0, 3>],
        writes = [#mkt.box<@decode.l0.attn_partial_o [0, 0, 0, 0] to [1, 2, 1, 16]>, #mkt.box<@decode.l0.attn_partial_lse [0, 0, 0] to [1, 2, 1]>]}
    mkt.task @l0.merge.g0 attn_merge layer(0) tile [0, 1, 0, 1, 0, 1] {aux = array<i64: 1>, cost_bytes = 200 : i64, cost_flops = 96 : i64, order = 9 : i64,
        operands = [@decode.l0.attn_partial_o, @decode.l0.attn_partial_lse, @decode.l0.attn],
        reads = [#mkt.box<@decode.l0.attn_partial_o [0, 0, 0, 0] to [1, 2, 1, 16]>, #mkt.box<@decode.l0.attn_partial_lse [0, 0, 0] to [1, 2, 1]>],
        signals = [@ev.l0.merge.g0],
        waits = [#mkt.wait<@ev.l0.attn.g0.s0, 1>],
        writes = [#mkt.box<@decode.l0.attn [0, 0] to [1, 32]>]}
    mkt.task @l0.attn.g1.s0 attn_decode layer(0) tile [0, 1, 1, 2, 0, 64] {aux = array<i64: 0, 0>, cost_bytes = 4096 : i64, cost_flops = 8192 : i64, order = 8 : i64,
        operands = [@decode.l0.q, @kv.l0.k, @kv.l0.v, @decode.block_table, @decode.seq_lens, @decode.l0.attn_partial_o, @decode.l0.attn_partial_lse],
        reads = [#mkt.box<@decode.l0.q [0, 32] to [1, 64]>, #mkt.box<@kv.l0.k [0, 0, 1, 0] to [4, 16, 2, 16]>, #mkt.box<@kv.l0.v [0, 0, 1, 0] to [4, 16, 2, 16]>, #mkt.box<@decode.block_table [0, 0] to [1, 4]>, #mkt.box<@decode.seq_lens [0] to [1]>],
        signals = [@ev.l0.attn.g1.s0],
        waits = [#mkt.wait<@ev.l0.qkv.q.g1.0, 3>],
        writes = [#mkt.box<@decode.l0.attn_partial_o [0, 2, 0, 0] to [1, 4, 1, 16]>, #mkt.box<@decode.l0.attn_partial_lse [0, 2, 0] to [1, 4, 1]>]}
    mkt.task @l0.merge.g1 attn_merge layer(0) tile [0, 1, 1, 2, 0, 1] {aux = array<i64: 1>, cost_bytes = 200 : i64, cost_flops = 96 : i64, order = 10 : i64,
        operands = [@decode.l0.attn_partial_o, @decode.l0.attn_partial_lse, @decode.l0.attn],
        reads = [#mkt.box<@decode.l0.attn_partial_o [0, 2, 0, 0] to [1, 4, 1, 16]>, #mkt.box<@decode.l0.attn_partial_lse [0, 2, 0] to [1, 4, 1]>],
        signals = [@ev.l0.merge.g0],
        waits = [#mkt.wait<@ev.l0.attn.g1.s0, 1>],
        writes = [#mkt.box<@decode.l0.attn [0, 32] to [1, 64]>]}
    mkt.task @l0.o_proj.0 o_proj layer(0) tile [0, 1, 0, 64, 0, 0] {cost_bytes = 8576 : i64, cost_flops = 8192 : i64, order = 11 : i64,
        operands = [@decode.l0.attn, @w.model.layers.0.self_attn.o_proj.weight, @decode.h0, @decode.l0.h_attn],
        reads = [#mkt.box<@decode.l0.attn [0, 0] to [1, 64]>, #mkt.box<@w.model.layers.0.self_attn.o_proj.weight [0, 0] to [64, 64]>, #mkt.box<@decode.h0 [0, 0] to [1, 64]>],
        signals = [@ev.l0.o_proj.0],
        waits = [#mkt.wait<@ev.l0.merge.g0, 2>],
        writes = [#mkt.box<@decode.l0.h_attn [0, 0] to [1, 64]>]}
    mkt.task @l0.gate_up.0 gate_up layer(0) tile [0, 1, 0, 32, 0, 0] {cost_bytes = 8384 : i64, cost_flops = 8192 : i64, order = 12 : i64,
        operands = [@decode.l0.h_attn, @w.model.layers.0.post_attention_layernorm.weight, @w.model.layers.0.mlp.gate_proj.weight, @w.model.layers.0.mlp.up_proj.weight, @decode.l0.mlp],
        reads = [#mkt.box<@decode.l0.h_attn [0, 0] to [1, 64]>, #mkt.box<@w.model.layers.0.post_attention_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.mlp.gate_proj.weight [0, 0] to [32, 64]>, #mkt.box<@w.model.layers.0.mlp.up_proj.weight [0, 0] to [32, 64]>],
        signals = [@ev.l0.gate_up.0],
        waits = [#mkt.wait<@ev.l0.o_proj.0, 1>],
        writes = [#mkt.box<@decode.l0.mlp [0, 0] to [1, 32]>]}
    mkt.task @l0.gate_up.1 gate_up layer(0) tile [0, 1, 32, 64, 0, 0] {cost_bytes = 8384 : i64, cost_flops = 8192 : i64, order = 13 : i64,
        operands = [@decode.l0.h_attn, @w.model.layers.0.post_attention_layernorm.weight, @w.model.layers.0.mlp.gate_proj.weight, @w.model.layers.0.mlp.up_proj.weight, @decode.l0.mlp],
        reads = [#mkt.box<@decode.l0.h_attn [0, 0] to [1, 64]>, #mkt.box<@w.model.layers.0.post_attention_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.mlp.gate_proj.weight [32, 0] to [64, 64]>, #mkt.box<@w.model.layers.0.mlp.up_proj.weight [32, 0] to [64, 64]>],
        signals = [@ev.l0.gate_up.0],
        waits = [#mkt.wait<@ev.l0.o_proj.0, 1>],
        writes = [#mkt.box<@decode.l0.mlp [0, 32] to [1, 64]>]}
    mkt.task @l0.gate_up.2 gate_up layer(0) tile [0, 1, 64, 96, 0, 0] {cost_bytes = 8384 : i64, cost_flops = 8192 : i64, order = 14 : i64,
        operands = [@decode.l0.h_attn, @w.model.layers.0.post_attention_layernorm.weight, @w.model.layers.0.mlp.gate_proj.weight, @w.model.layers.0.mlp.up_proj.weight, @decode.l0.mlp],
        reads = [#mkt.box<@decode.l0.h_attn [0, 0] to [1, 64]>, #mkt.box<@w.model.layers.0.post_attention_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.mlp.gate_proj.weight [64, 0] to [96, 64]>, #mkt.box<@w.model.layers.0.mlp.up_proj.weight [64, 0] to [96, 64]>],
        signals = [@ev.l0.gate_up.0],
        waits = [#mkt.wait<@ev.l0.o_proj.0, 1>],
        writes = [#mkt.box<@decode.l0.mlp [0, 64] to [1, 96]>]}
    mkt.task @l0.gate_up.3 gate_up layer(0) tile [0, 1, 96, 128, 0, 0] {cost_bytes = 8384 : i64, cost_flops = 8192 : i64, order = 15 : i64,
        operands = [@decode.l0.h_attn, @w.model.layers.0.post_attention_layernorm.weight, @w.model.layers.0.mlp.gate_proj.weight, @w.model.layers.0.mlp.up_proj.weight, @decode.l0.mlp],
        reads = [#mkt.box<@decode.l0.h_attn [0, 0] to [1, 64]>, #mkt.box<@w.model.layers.0.post_attention_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.mlp.gate_proj.weight [96, 0] to [128, 64]>, #mkt.box<@w.model.layers.0.mlp.up_proj.weight [96, 0] to [128, 64]>],
        signals = [@ev.l0.gate_up.0],
        waits = [#mkt.wait<@ev.l0.o_proj.0, 1>],
        writes = [#mkt.box<@decode.l0.mlp [0, 96] to [1, 128]>]}
    mkt.task @l0.down_proj.0 down_proj layer(0) tile [0, 1, 0, 32, 0, 0] {cost_bytes = 8576 : i64, cost_flops = 8192 : i64, order = 16 : i64,
        operands = [@decode.l0.mlp, @w.model.layers.0.mlp.down_proj.weight, @decode.l0.h_attn, @decode.l0.h_mlp],
        reads = [#mkt.box<@decode.l0.mlp [0, 0] to [1, 128]>, #mkt.box<@w.model.layers.0.mlp.down_proj.weight [0, 0] to [32, 128]>, #mkt.box<@decode.l0.h_attn [0, 0] to [1, 32]>],
        signals = [@ev.l0.down_proj.0],
        waits = [#mkt.wait<@ev.l0.gate_up.0, 4>],
        writes = [#mkt.box<@decode.l0.h_mlp [0, 0] to [1, 32]>]}
    mkt.task @l0.down_proj.1 down_proj layer(0) tile [0, 1, 32, 64, 0, 0] {cost_bytes = 8576 : i64, cost_flops = 8192 : i64, order = 17 : i64,
        operands = [@decode.l0.mlp, @w.model.layers.0.mlp.down_proj.weight, @decode.l0.h_attn, @decode.l0.h_mlp],
        reads = [#mkt.box<@decode.l0.mlp [0, 0] to [1, 128]>, #mkt.box<@w.model.layers.0.mlp.down_proj.weight [32, 0] to [64, 128]>, #mkt.box<@decode.l0.h_attn [0, 32] to [1, 64]>],
        signals = [@ev.l0.down_proj.0],
        waits = [#mkt.wait<@ev.l0.gate_up.0, 4>],
        writes = [#mkt.box<@decode.l0.h_mlp [0, 32] to [1, 64]>]}
    mkt.task @lm_head.0 lm_head tile [0, 1, 0, 64, 0, 0] {aux = array<i64: 0>, cost_bytes = 8576 : i64, cost_flops = 8192 : i64, order = 18 : i64,
        operands = [@decode.l0.h_mlp, @w.model.norm.weight, @w.model.embed_tokens.weight, @decode.logits, @decode.partial_max],
        reads = [#mkt.box<@decode.l0.h_mlp [0, 0] to [1, 64]>, #mkt.box<@w.model.norm.weight [0] to [64]>, #mkt.box<@w.model.embed_tokens.weight [0, 0] to [64, 64]>],
        signals = [@ev.lm_head.0],
        waits = [#mkt.wait<@ev.l0.down_proj.0, 2>],
        writes = [#mkt.box<@decode.logits [0, 0] to [1, 64]>, #mkt.box<@decode.partial_max [0, 0, 0] to [1, 1, 2]>]}
    mkt.task @lm_head.1 lm_head tile [0, 1, 64, 128, 0, 0] {aux = array<i64: 1>, cost_bytes = 8576 : i64, cost_flops = 8192 : i64, order = 19 : i64,
        operands = [@decode.l0.h_mlp, @w.model.norm.weight, @w.model.embed_tokens.weight, @decode.logits, @decode.partial_max],
        reads = [#mkt.box<@decode.l0.h_mlp [0, 0] to [1, 64]>, #mkt.box<@w.model.norm.weight [0] to [64]>, #mkt.box<@w.model.embed_tokens.weight [64, 0] to [128, 64]>],
        signals = [@ev.lm_head.0],
        waits = [#mkt.wait<@ev.l0.down_proj.0, 2>],
        writes = [#mkt.box<@decode.logits [0, 64] to [1, 128]>, #mkt.box<@decode.partial_max [0, 1, 0] to [1, 2, 2]>]}
    mkt.task @lm_head.2 lm_head tile [0, 1, 128, 192, 0, 0] {aux = array<i64: 2>, cost_bytes = 8576 : i64, cost_flops = 8192 : i64, order = 20 : i64,
        operands = [@decode.l0.h_mlp, @w.model.norm.weight, @w.model.embed_tokens.weight, @decode.logits, @decode.partial_max],
        reads = [#mkt.box<@decode.l0.h_mlp [0, 0] to [1, 64]>, #mkt.box<@w.model.norm.weight [0] to [64]>, #mkt.box<@w.model.embed_tokens.weight [128, 0] to [192, 64]>],
        signals = [@ev.lm_head.0],
        waits = [#mkt.wait<@ev.l0.down_proj.0, 2>],
        writes = [#mkt.box<@decode.logits [0, 128] to [1, 192]>, #mkt.box<@decode.partial_max [0, 2, 0] to [1, 3, 2]>]}
    mkt.task @lm_head.3 lm_head tile [0, 1, 192, 256, 0, 0] {aux = array<i64: 3>, cost_bytes = 8576 : i64, cost_flops = 8192 : i64, order = 21 : i64,
        operands = [@decode.l0.h_mlp, @w.model.norm.weight, @w.model.embed_tokens.weight, @decode.logits, @decode.partial_max],
        reads = [#mkt.box<@decode.l0.h_mlp [0, 0] to [1, 64]>, #mkt.box<@w.model.norm.weight [0] to [64]>, #mkt.box<@w.model.embed_tokens.weight [192, 0] to [256, 64]>],
        signals = [@ev.lm_head.0],
        waits = [#mkt.wait<@ev.l0.down_proj.0, 2>],
        writes = [#mkt.box<@decode.logits [0, 192] to [1, 256]>, #mkt.box<@decode.partial_max [0, 3, 0] to [1, 4, 2]>]}
    mkt.task @argmax argmax tile [0, 1, 0, 4, 0, 0] {aux = array<i64: 4>, cost_bytes = 36 : i64, cost_flops = 4 : i64, order = 22 : i64,
        operands = [@decode.partial_max, @decode.tokens],
        reads = [#mkt.box<@decode.partial_max [0, 0, 0] to [1, 4, 2]>],
        signals = [@ev.argmax],
        waits = [#mkt.wait<@ev.lm_head.0, 4>],
        writes = [#mkt.box<@decode.tokens [0] to [1]>]}
  }
  mkt.program @prefill prefill rows(8) attributes {arena_bytes = 9472 : i64, critical_path_us = 17.623040000000003 : f64} {
    mkt.event @ev.embedding.0 count(1)
    mkt.event @ev.l0.qkv.q.g0.0 count(3)
    mkt.event @ev.l0.qkv.q.g1.0 count(3)
    mkt.event @ev.l0.attn.g0.r0 count(2)
    mkt.event @ev.l0.o_proj.0 count(1)
    mkt.event @ev.l0.gate_up.0 count(4)
    mkt.event @ev.l0.down_proj.0 count(2)
    mkt.event @ev.lm_head.0 count(4)
    mkt.event @done count(1)
    mkt.task @embedding.0 embedding tile [0, 8, 0, 64, 0, 0] {cost_bytes = 2048 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@prefill.tokens, @w.model.embed_tokens.weight, @prefill.h0],
        reads = [#mkt.box<@prefill.tokens [0] to [8]>, #mkt.box<@w.model.embed_tokens.weight [0, 0] to [256, 64]>],
        signals = [@ev.embedding.0],
        waits = [],
        writes = [#mkt.box<@prefill.h0 [0, 0] to [8, 64]>]}
    mkt.task @l0.qkv.q.g0.0 qkv layer(0) tile [0, 8, 0, 2, 0, 0] {aux = array<i64: 0>, cost_bytes = 5632 : i64, cost_flops = 32768 : i64, flags = 2 : i64, order = 1 : i64,
        operands = [@prefill.h0, @w.model.layers.0.input_layernorm.weight, @w.model.layers.0.self_attn.q_proj.weight, unit, unit, @prefill.l0.q, @prefill.positions, @prefill.kv_slots, @prefill.block_table],
        reads = [#mkt.box<@prefill.h0 [0, 0] to [8, 64]>, #mkt.box<@w.model.layers.0.input_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.self_attn.q_proj.weight [0, 0] to [32, 64]>, #mkt.box<@prefill.positions [0] to [8]>, #mkt.box<@prefill.kv_slots [0] to [8]>],
        signals = [@ev.l0.qkv.q.g0.0],
        waits = [#mkt.wait<@ev.embedding.0, 1>],
        writes = [#mkt.box<@prefill.l0.q [0, 0] to [8, 32]>]}
    mkt.task @l0.qkv.k.g0.0 qkv layer(0) tile [0, 8, 0, 1, 0, 0] {aux = array<i64: 1>, cost_bytes = 3328 : i64, cost_flops = 16384 : i64, flags = 2 : i64, order = 3 : i64,
        operands = [@prefill.h0, @w.model.layers.0.input_layernorm.weight, @w.model.layers.0.self_attn.k_proj.weight, unit, unit, @kv.l0.k, @prefill.positions, @prefill.kv_slots, @prefill.block_table],
        reads = [#mkt.box<@prefill.h0 [0, 0] to [8, 64]>, #mkt.box<@w.model.layers.0.input_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.self_attn.k_proj.weight [0, 0] to [16, 64]>, #mkt.box<@prefill.positions [0] to [8]>, #mkt.box<@prefill.kv_slots [0] to [8]>],
        signals = [@ev.l0.qkv.q.g0.0],
        waits = [#mkt.wait<@ev.embedding.0, 1>],
        writes = [#mkt.box<@kv.l0.k [0, 0, 0, 0] to [4, 16, 1, 16]>]}
    mkt.task @l0.qkv.v.g0.0 qkv layer(0) tile [0, 8, 0, 1, 0, 0] {aux = array<i64: 2>, cost_bytes = 3328 : i64, cost_flops = 16384 : i64, order = 4 : i64,
        operands = [@prefill.h0, @w.model.layers.0.input_layernorm.weight, @w.model.layers.0.self_attn.v_proj.weight, unit, unit, @kv.l0.v, @prefill.positions, @prefill.kv_slots, @prefill.block_table],
        reads = [#mkt.box<@prefill.h0 [0, 0] to [8, 64]>, #mkt.box<@w.model.layers.0.input_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.self_attn.v_proj.weight [0, 0] to [16, 64]>, #mkt.box<@prefill.positions [0] to [8]>, #mkt.box<@prefill.kv_slots [0] to [8]>],
        signals = [@ev.l0.qkv.q.g0.0],
        waits = [#mkt.wait<@ev.embedding.0, 1>],
        writes = [#mkt.box<@kv.l0.v [0, 0, 0, 0] to [4, 16, 1, 16]>]}
    mkt.task @l0.qkv.q.g1.0 qkv layer(0) tile [0, 8, 2, 4, 0, 0] {aux = array<i64: 0>, cost_bytes = 5632 : i64, cost_flops = 32768 : i64, flags = 2 : i64, order = 2 : i64,
        operands = [@prefill.h0, @w.model.layers.0.input_layernorm.weight, @w.model.layers.0.self_attn.q_proj.weight, unit, unit, @prefill.l0.q, @prefill.positions, @prefill.kv_slots, @prefill.block_table],
        reads = [#mkt.box<@prefill.h0 [0, 0] to [8, 64]>, #mkt.box<@w.model.layers.0.input_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.self_attn.q_proj.weight [32, 0] to [64, 64]>, #mkt.box<@prefill.positions [0] to [8]>, #mkt.box<@prefill.kv_slots [0] to [8]>],
        signals = [@ev.l0.qkv.q.g1.0],
        waits = [#mkt.wait<@ev.embedding.0, 1>],
        writes = [#mkt.box<@prefill.l0.q [0, 32] to [8, 64]>]}
    mkt.task @l0.qkv.k.g1.0 qkv layer(0) tile [0, 8, 1, 2, 0, 0] {aux = array<i64: 1>, cost_bytes = 3328 : i64, cost_flops = 16384 : i64, flags = 2 : i64, order = 5 : i64,
        operands = [@prefill.h0, @w.model.layers.0.input_layernorm.weight, @w.model.layers.0.self_attn.k_proj.weight, unit, unit, @kv.l0.k, @prefill.positions, @prefill.kv_slots, @prefill.block_table],
        reads = [#mkt.box<@prefill.h0 [0, 0] to [8, 64]>, #mkt.box<@w.model.layers.0.input_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.self_attn.k_proj.weight [16, 0] to [32, 64]>, #mkt.box<@prefill.positions [0] to [8]>, #mkt.box<@prefill.kv_slots [0] to [8]>],
        signals = [@ev.l0.qkv.q.g1.0],
        waits = [#mkt.wait<@ev.embedding.0, 1>],
        writes = [#mkt.box<@kv.l0.k [0, 0, 1, 0] to [4, 16, 2, 16]>]}
    mkt.task @l0.qkv.v.g1.0 qkv layer(0) tile [0, 8, 1, 2, 0, 0] {aux = array<i64: 2>, cost_bytes = 3328 : i64, cost_flops = 16384 : i64, order = 6 : i64,
        operands = [@prefill.h0, @w.model.layers.0.input_layernorm.weight, @w.model.layers.0.self_attn.v_proj.weight, unit, unit, @kv.l0.v, @prefill.positions, @prefill.kv_slots, @prefill.block_table],
        reads = [#mkt.box<@prefill.h0 [0, 0] to [8, 64]>, #mkt.box<@w.model.layers.0.input_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.self_attn.v_proj.weight [16, 0] to [32, 64]>, #mkt.box<@prefill.positions [0] to [8]>, #mkt.box<@prefill.kv_slots [0] to [8]>],
        signals = [@ev.l0.qkv.q.g1.0],
        waits = [#mkt.wait<@ev.embedding.0, 1>],
        writes = [#mkt.box<@kv.l0.v [0, 0, 1, 0] to [4, 16, 2, 16]>]}
    mkt.task @l0.attn.g0.r0 attn_prefill layer(0) tile [0, 8, 0, 1, 0, 0] {aux = array<i64: 0, 0>, cost_bytes = 3584 : i64, cost_flops = 40960 : i64, order = 7 : i64,
        operands = [@prefill.l0.q, @kv.l0.k, @kv.l0.v, @prefill.block_table, @prefill.positions, @prefill.l0.attn],
        reads = [#mkt.box<@prefill.l0.q [0, 0] to [8, 32]>, #mkt.box<@kv.l0.k [0, 0, 0, 0] to [4, 16, 1, 16]>, #mkt.box<@kv.l0.v [0, 0, 0, 0] to [4, 16, 1, 16]>, #mkt.box<@prefill.block_table [0, 0] to [1, 4]>, #mkt.box<@prefill.positions [0] to [8]>],
        signals = [@ev.l0.attn.g0.r0],
        waits = [#mkt.wait<@ev.l0.qkv.q.g0.0, 3>],
        writes = [#mkt.box<@prefill.l0.attn [0, 0] to [8, 32]>]}
    mkt.task @l0.attn.g1.r0 attn_prefill layer(0) tile [0, 8, 1, 2, 0, 0] {aux = array<i64: 0, 0>, cost_bytes = 3584 : i64, cost_flops = 40960 : i64, order = 8 : i64,
        operands = [@prefill.l0.q, @kv.l0.k, @kv.l0.v, @prefill.block_table, @prefill.positions, @prefill.l0.attn],
        reads = [#mkt.box<@prefill.l0.q [0, 32] to [8, 64]>, #mkt.box<@kv.l0.k [0, 0, 1, 0] to [4, 16, 2, 16]>, #mkt.box<@kv.l0.v [0, 0, 1, 0] to [4, 16, 2, 16]>, #mkt.box<@prefill.block_table [0, 0] to [1, 4]>, #mkt.box<@prefill.positions [0] to [8]>],
        signals = [@ev.l0.attn.g0.r0],
        waits = [#mkt.wait<@ev.l0.qkv.q.g1.0, 3>],
        writes = [#mkt.box<@prefill.l0.attn [0, 32] to [8, 64]>]}
    mkt.task @l0.o_proj.0 o_proj layer(0) tile [0, 8, 0, 64, 0, 0] {cost_bytes = 11264 : i64, cost_flops = 65536 : i64, order = 9 : i64,
        operands = [@prefill.l0.attn, @w.model.layers.0.self_attn.o_proj.weight, @prefill.h0, @prefill.l0.h_attn],
        reads = [#mkt.box<@prefill.l0.attn [0, 0] to [8, 64]>, #mkt.box<@w.model.layers.0.self_attn.o_proj.weight [0, 0] to [64, 64]>, #mkt.box<@prefill.h0 [0, 0] to [8, 64]>],
        signals = [@ev.l0.o_proj.0],
        waits = [#mkt.wait<@ev.l0.attn.g0.r0, 2>],
        writes = [#mkt.box<@prefill.l0.h_attn [0, 0] to [8, 64]>]}
    mkt.task @l0.gate_up.0 gate_up layer(0) tile [0, 8, 0, 32, 0, 0] {cost_bytes = 9728 : i64, cost_flops = 65536 : i64, order = 10 : i64,
        operands = [@prefill.l0.h_attn, @w.model.layers.0.post_attention_layernorm.weight, @w.model.layers.0.mlp.gate_proj.weight, @w.model.layers.0.mlp.up_proj.weight, @prefill.l0.mlp],
        reads = [#mkt.box<@prefill.l0.h_attn [0, 0] to [8, 64]>, #mkt.box<@w.model.layers.0.post_attention_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.mlp.gate_proj.weight [0, 0] to [32, 64]>, #mkt.box<@w.model.layers.0.mlp.up_proj.weight [0, 0] to [32, 64]>],
        signals = [@ev.l0.gate_up.0],
        waits = [#mkt.wait<@ev.l0.o_proj.0, 1>],
        writes = [#mkt.box<@prefill.l0.mlp [0, 0] to [8, 32]>]}
    mkt.task @l0.gate_up.1 gate_up layer(0) tile [0, 8, 32, 64, 0, 0] {cost_bytes = 9728 : i64, cost_flops = 65536 : i64, order = 11 : i64,
        operands = [@prefill.l0.h_attn, @w.model.layers.0.post_attention_layernorm.weight, @w.model.layers.0.mlp.gate_proj.weight, @w.model.layers.0.mlp.up_proj.weight, @prefill.l0.mlp],
        reads = [#mkt.box<@prefill.l0.h_attn [0, 0] to [8, 64]>, #mkt.box<@w.model.layers.0.post_attention_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.mlp.gate_proj.weight [32, 0] to [64, 64]>, #mkt.box<@w.model.layers.0.mlp.up_proj.weight [32, 0] to [64, 64]>],
        signals = [@ev.l0.gate_up.0],
        waits = [#mkt.wait<@ev.l0.o_proj.0, 1>],
        writes = [#mkt.box<@prefill.l0.mlp [0, 32] to [8, 64]>]}
    mkt.task @l0.gate_up.2 gate_up layer(0) tile [0, 8, 64, 96, 0, 0] {cost_bytes = 9728 : i64, cost_flops = 65536 : i64, order = 12 : i64,
        operands = [@prefill.l0.h_attn, @w.model.layers.0.post_attention_layernorm.weight, @w.model.layers.0.mlp.gate_proj.weight, @w.model.layers.0.mlp.up_proj.weight, @prefill.l0.mlp],
        reads = [#mkt.box<@prefill.l0.h_attn [0, 0] to [8, 64]>, #mkt.box<@w.model.layers.0.post_attention_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.mlp.gate_proj.weight [64, 0] to [96, 64]>, #mkt.box<@w.model.layers.0.mlp.up_proj.weight [64, 0] to [96, 64]>],
        signals = [@ev.l0.gate_up.0],
        waits = [#mkt.wait<@ev.l0.o_proj.0, 1>],
        writes = [#mkt.box<@prefill.l0.mlp [0, 64] to [8, 96]>]}
    mkt.task @l0.gate_up.3 gate_up layer(0) tile [0, 8, 96, 128, 0, 0] {cost_bytes = 9728 : i64, cost_flops = 65536 : i64, order = 13 : i64,
        operands = [@prefill.l0.h_attn, @w.model.layers.0.post_attention_layernorm.weight, @w.model.layers.0.mlp.gate_proj.weight, @w.model.layers.0.mlp.up_proj.weight, @prefill.l0.mlp],
        reads = [#mkt.box<@prefill.l0.h_attn [0, 0] to [8, 64]>, #mkt.box<@w.model.layers.0.post_attention_layernorm.weight [0] to [64]>, #mkt.box<@w.model.layers.0.mlp.gate_proj.weight [96, 0] to [128, 64]>, #mkt.box<@w.model.layers.0.mlp.up_proj.weight [96, 0] to [128, 64]>],
        signals = [@ev.l0.gate_up.0],
        waits = [#mkt.wait<@ev.l0.o_proj.0, 1>],
        writes = [#mkt.box<@prefill.l0.mlp [0, 96] to [8, 128]>]}
    mkt.task @l0.down_proj.0 down_proj layer(0) tile [0, 8, 0, 32, 0, 0] {cost_bytes = 11264 : i64, cost_flops = 65536 : i64, order = 14 : i64,
        operands = [@prefill.l0.mlp, @w.model.layers.0.mlp.down_proj.weight, @prefill.l0.h_attn, @prefill.l0.h_mlp],
        reads = [#mkt.box<@prefill.l0.mlp [0, 0] to [8, 128]>, #mkt.box<@w.model.layers.0.mlp.down_proj.weight [0, 0] to [32, 128]>, #mkt.box<@prefill.l0.h_attn [0, 0] to [8, 32]>],
        signals = [@ev.l0.down_proj.0],
        waits = [#mkt.wait<@ev.l0.gate_up.0, 4>],
        writes = [#mkt.box<@prefill.l0.h_mlp [0, 0] to [8, 32]>]}
    mkt.task @l0.down_proj.1 down_proj layer(0) tile [0, 8, 32, 64, 0, 0] {cost_bytes = 11264 : i64, cost_flops = 65536 : i64, order = 15 : i64,
        operands = [@prefill.l0.mlp, @w.model.layers.0.mlp.down_proj.weight, @prefill.l0.h_attn, @prefill.l0.h_mlp],
        reads = [#mkt.box<@prefill.l0.mlp [0, 0] to [8, 128]>, #mkt.box<@w.model.layers.0.mlp.down_proj.weight [32, 0] to [64, 128]>, #mkt.box<@prefill.l0.h_attn [0, 32] to [8, 64]>],
        signals = [@ev.l0.down_proj.0],
        waits = [#mkt.wait<@ev.l0.gate_up.0, 4>],
        writes = [#mkt.box<@prefill.l0.h_mlp [0, 32] to [8, 64]>]}
    mkt.task @lm_head.0 lm_head tile [0, 8, 0, 64, 0, 0] {aux = array<i64: 0>, cost_bytes = 11264 : i64, cost_flops = 65536 : i64, order = 16 : i64,
        operands = [@prefill.l0.h_mlp, @w.model.norm.weight, @w.model.embed_tokens.weight, @prefill.logits, @prefill.partial_max],
        reads = [#mkt.box<@prefill.l0.h_mlp [0, 0] to [8, 64]>, #mkt.box<@w.model.norm.weight [0] to [64]>, #mkt.box<@w.model.embed_tokens.weight [0, 0] to [64, 64]>],
        signals = [@ev.lm_head.0],
        waits = [#mkt.wait<@ev.l0.down_proj.0, 2>],
        writes = [#mkt.box<@prefill.logits [0, 0] to [8, 64]>, #mkt.box<@prefill.partial_max [0, 0, 0] to [8, 1, 2]>]}
    mkt.task @lm_head.1 lm_head tile [0, 8, 64, 128, 0, 0] {aux = array<i64: 1>, cost_bytes = 11264 : i64, cost_flops = 65536 : i64, order = 17 : i64,
        operands = [@prefill.l0.h_mlp, @w.model.norm.weight, @w.model.embed_tokens.weight, @prefill.logits, @prefill.partial_max],
        reads = [#mkt.box<@prefill.l0.h_mlp [0, 0] to [8, 64]>, #mkt.box<@w.model.norm.weight [0] to [64]>, #mkt.box<@w.model.embed_tokens.weight [64, 0] to [128, 64]>],
        signals = [@ev.lm_head.0],
        waits = [#mkt.wait<@ev.l0.down_proj.0, 2>],
        writes = [#mkt.box<@prefill.logits [0, 64] to [8, 128]>, #mkt.box<@prefill.partial_max [0, 1, 0] to [8, 2, 2]>]}
    mkt.task @lm_head.2 lm_head tile [0, 8, 128, 192, 0, 0] {aux = array<i64: 2>, cost_bytes = 11264 : i64, cost_flops = 65536 : i64, order = 18 : i64,
        operands = [@prefill.l0.h_mlp, @w.model.norm.weight, @w.model.embed_tokens.weight, @prefill.logits, @prefill.partial_max],
        reads = [#mkt.box<@prefill.l0.h_mlp [0, 0] to [8, 64]>, #mkt.box<@w.model.norm.weight [0] to [64]>, #mkt.box<@w.model.embed_tokens.weight [128, 0] to [192, 64]>],
        signals = [@ev.lm_head.0],
        waits = [#mkt.wait<@ev.l0.down_proj.0, 2>],
        writes = [#mkt.box<@prefill.logits [0, 128] to [8, 192]>, #mkt.box<@prefill.partial_max [0, 2, 0] to [8, 3, 2]>]}
    mkt.task @lm_head.3 lm_head tile [0, 8, 192, 256, 0, 0] {aux = array<i64: 3>, cost_bytes = 11264 : i64, cost_flops = 65536 : i64, order = 19 : i64,
        operands = [@prefill.l0.h_mlp, @w.model.norm.weight, @w.model.embed_tokens.weight, @prefill.logits, @prefill.partial_max],
        reads = [#mkt.box<@prefill.l0.h_mlp [0, 0] to [8, 64]>, #mkt.box<@w.model.norm.weight [0] to [64]>, #mkt.box<@w.model.embed_tokens.weight [192, 0] to [256, 64]>],
        signals = [@ev.lm_head.0],
        waits = [#mkt.wait<@ev.l0.down_proj.0, 2>],
        writes = [#mkt.box<@prefill.logits [0, 192] to [8, 256]>, #mkt.box<@prefill.partial_max [0, 3, 0] to [8, 4, 2]>]}
    mkt.task @argmax argmax tile [0, 8, 0, 4, 0, 0] {aux = array<i64: 4>, cost_bytes = 288 : i64, cost_flops = 32 : i64, order = 20 : i64,
        operands = [@prefill.partial_max, @prefill.tokens_out],
        reads = [#mkt.box<@prefill.partial_max [0, 0, 0] to [8, 4, 2]>],
        signals = [@done],
        waits = [#mkt.wait<@ev.lm_head.0, 4>],
        writes = [#mkt.box<@prefill.tokens_out [0] to [8]>]}
  }
}
