// RUN: mk-opt %s -split-input-file -verify-diagnostics -mk-emit-plan

// mk-emit-plan checks every task's weight read boxes against its kind's footprint
// (megakernel/include/mk/isa/task_footprint.h), the weight rows both executors prefetch
// before the task waits. Each module is a valid two-task program (an embedding feeds an
// o_proj) with one box or operand changed. The embedding reads a column slice of its
// table: rows of the table depend on the tokens (the footprint's late weights), so any
// box of it is accepted.

// The o_proj streams rows [0, 64) of @w (its columns), but its box has half of them.
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
  mkt.tensor @tokens step_state tensor<2xi32>
  mkt.tensor @emb weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
  mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "model.layers.0.self_attn.o_proj.weight"}
  mkt.tensor @h activation tensor<2x64xbf16> {offset = 0 : i64, program = @p}
  mkt.tensor @h2 activation tensor<2x64xbf16> {offset = 256 : i64, program = @p}
  mkt.program @p prefill rows(2) attributes {arena_bytes = 512 : i64} {
    mkt.event @ev.a count(1)
    mkt.event @done count(1)
    mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@tokens, @emb, @h], reads = [#mkt.box<@tokens [0] to [2]>, #mkt.box<@emb [0, 0] to [256, 64]>],
        writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [], signals = [@ev.a]}
    // expected-error @+1 {{mk-emit-plan: its footprint (task_footprint.h) streams @w [0, 0] to [64, 64] of operand 'w', which its reads do not list}}
    mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
        operands = [@h, @w, @h, @h2], reads = [#mkt.box<@h [0, 0] to [2, 64]>, #mkt.box<@w [0, 0] to [32, 64]>],
        writes = [#mkt.box<@h2 [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@done]}
  }
}

// -----

// The o_proj also reads a weight its footprint does not stream.
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
  mkt.tensor @tokens step_state tensor<2xi32>
  mkt.tensor @emb weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
  mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "model.layers.0.self_attn.o_proj.weight"}
  mkt.tensor @h activation tensor<2x64xbf16> {offset = 0 : i64, program = @p}
  mkt.tensor @h2 activation tensor<2x64xbf16> {offset = 256 : i64, program = @p}
  mkt.program @p prefill rows(2) attributes {arena_bytes = 512 : i64} {
    mkt.event @ev.a count(1)
    mkt.event @done count(1)
    mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@tokens, @emb, @h], reads = [#mkt.box<@tokens [0] to [2]>, #mkt.box<@emb [0, 0] to [256, 64]>],
        writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [], signals = [@ev.a]}
    // expected-error @+1 {{mk-emit-plan: reads weight @emb [0, 0] to [256, 64], which is not in its footprint (task_footprint.h): no worker would prefetch it}}
    mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
        operands = [@h, @w, @h, @h2], reads = [#mkt.box<@h [0, 0] to [2, 64]>, #mkt.box<@w [0, 0] to [64, 64]>, #mkt.box<@emb [0, 0] to [256, 64]>],
        writes = [#mkt.box<@h2 [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@done]}
  }
}

// -----

// The o_proj's weight operand is an activation: a prefetch would read it before its
// producer signals.
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
  mkt.tensor @tokens step_state tensor<2xi32>
  mkt.tensor @emb weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
  mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "model.layers.0.self_attn.o_proj.weight"}
  mkt.tensor @h activation tensor<2x64xbf16> {offset = 0 : i64, program = @p}
  mkt.tensor @h2 activation tensor<2x64xbf16> {offset = 256 : i64, program = @p}
  mkt.program @p prefill rows(2) attributes {arena_bytes = 512 : i64} {
    mkt.event @ev.a count(1)
    mkt.event @done count(1)
    mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@tokens, @emb, @h], reads = [#mkt.box<@tokens [0] to [2]>, #mkt.box<@emb [0, 0] to [256, 64]>],
        writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [], signals = [@ev.a]}
    // expected-error @+1 {{mk-emit-plan: its footprint (task_footprint.h) streams operand 'w' (@h), whose placement is 'activation', not 'weight': workers prefetch it before they wait}}
    mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
        operands = [@h, @h, @h, @h2], reads = [#mkt.box<@h [0, 0] to [2, 64]>, #mkt.box<@w [0, 0] to [64, 64]>],
        writes = [#mkt.box<@h2 [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@done]}
  }
}
