// RUN: mk-opt %s -split-input-file -verify-diagnostics -mk-emit-plan
// RUN: not mk-opt %s -split-input-file -mk-emit-plan=target=tpu 2>&1 | FileCheck %s --check-prefix=TARGET

// TARGET: error: mk-emit-plan: unknown target 'tpu'

// Each module below is a complete scheduled, planned two-task program (@a feeds @b)
// with one thing missing or wrong.

// The model metadata the runtime needs comes from the module's mk.model attribute.
// expected-error @+1 {{module has no 'mk.model' dictionary (the graph builder sets it)}}
module {
  mkt.tensor @tokens step_state tensor<2xi32>
  mkt.tensor @w weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
  mkt.tensor @h activation tensor<2x64xbf16> {offset = 0 : i64, program = @p}
  mkt.tensor @h2 activation tensor<2x64xbf16> {offset = 256 : i64, program = @p}
  mkt.program @p prefill rows(2) attributes {arena_bytes = 512 : i64} {
    mkt.event @ev.a count(1)
    mkt.event @done count(1)
    mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
        writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [], signals = [@ev.a]}
    mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
        operands = [@h, @w, @h, @h2], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
        writes = [#mkt.box<@h2 [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@done]}
  }
}

// -----

// expected-error @+1 {{'mk.model.vocab_size' must be an integer}}
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
    vocab_size = "256"}} {
  mkt.tensor @tokens step_state tensor<2xi32>
  mkt.tensor @w weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
  mkt.tensor @h activation tensor<2x64xbf16> {offset = 0 : i64, program = @p}
  mkt.tensor @h2 activation tensor<2x64xbf16> {offset = 256 : i64, program = @p}
  mkt.program @p prefill rows(2) attributes {arena_bytes = 512 : i64} {
    mkt.event @ev.a count(1)
    mkt.event @done count(1)
    mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
        writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [], signals = [@ev.a]}
    mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
        operands = [@h, @w, @h, @h2], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
        writes = [#mkt.box<@h2 [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@done]}
  }
}

// -----

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
  mkt.tensor @w weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
  mkt.tensor @h activation tensor<2x64xbf16> {offset = 0 : i64, program = @p}
  mkt.tensor @h2 activation tensor<2x64xbf16> {offset = 256 : i64, program = @p}
  // expected-error @+1 {{'mkt.program' op mk-emit-plan: run mk-plan-memory first}}
  mkt.program @p prefill rows(2) {
    mkt.event @ev.a count(1)
    mkt.event @done count(1)
    mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
        writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [], signals = [@ev.a]}
    mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
        operands = [@h, @w, @h, @h2], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
        writes = [#mkt.box<@h2 [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@done]}
  }
}

// -----

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
  mkt.tensor @w weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
  // expected-error @+1 {{'mkt.tensor' op mk-emit-plan: activation has no arena offset (run mk-plan-memory)}}
  mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
  mkt.tensor @h2 activation tensor<2x64xbf16> {offset = 256 : i64, program = @p}
  mkt.program @p prefill rows(2) attributes {arena_bytes = 512 : i64} {
    mkt.event @ev.a count(1)
    mkt.event @done count(1)
    mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
        writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [], signals = [@ev.a]}
    mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
        operands = [@h, @w, @h, @h2], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
        writes = [#mkt.box<@h2 [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@done]}
  }
}

// -----

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
  mkt.tensor @w weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
  mkt.tensor @h activation tensor<2x64xbf16> {offset = 0 : i64, program = @p}
  mkt.tensor @h2 activation tensor<2x64xbf16> {offset = 256 : i64, program = @p}
  mkt.program @p prefill rows(2) attributes {arena_bytes = 512 : i64} {
    mkt.event @ev.a count(1)
    mkt.event @done count(1)
    // expected-error @+1 {{'mkt.task' op mk-emit-plan: run mk-scoreboard first}}
    mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
        writes = [#mkt.box<@h [0, 0] to [2, 64]>], signals = [@ev.a]}
    mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
        operands = [@h, @w, @h, @h2], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
        writes = [#mkt.box<@h2 [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@done]}
  }
}

// -----

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
  mkt.tensor @w weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
  mkt.tensor @h activation tensor<2x64xbf16> {offset = 0 : i64, program = @p}
  mkt.tensor @h2 activation tensor<2x64xbf16> {offset = 256 : i64, program = @p}
  mkt.program @p prefill rows(2) attributes {arena_bytes = 512 : i64} {
    mkt.event @ev.a count(1)
    mkt.event @done count(1)
    // expected-error @+1 {{'mkt.task' op mk-emit-plan: run mk-schedule first}}
    mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
        operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
        writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [], signals = [@ev.a]}
    mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
        operands = [@h, @w, @h, @h2], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
        writes = [#mkt.box<@h2 [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@done]}
  }
}

// -----

// The plan verifier runs before anything is written: here the queue puts @b before
// the producer it waits for.
// expected-error @+1 {{mk-emit-plan: the plan does not verify: program 0 'p': the queue order puts task 1 (o_proj) at position 0 before its same-step producer task 0 (embedding) at position 1}}
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
  mkt.tensor @w weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
  mkt.tensor @h activation tensor<2x64xbf16> {offset = 0 : i64, program = @p}
  mkt.tensor @h2 activation tensor<2x64xbf16> {offset = 256 : i64, program = @p}
  mkt.program @p prefill rows(2) attributes {arena_bytes = 512 : i64} {
    mkt.event @ev.a count(1)
    mkt.event @done count(1)
    mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
        operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
        writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [], signals = [@ev.a]}
    mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@h, @w, @h, @h2], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
        writes = [#mkt.box<@h2 [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@done]}
  }
}

// -----

// Two tasks at one queue position leave another position empty.
// expected-error @+1 {{mk-emit-plan: the plan does not verify: program 0 'p': order[1] is 4294967295, not a task index (the program has 2 tasks)}}
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
  mkt.tensor @w weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
  mkt.tensor @h activation tensor<2x64xbf16> {offset = 0 : i64, program = @p}
  mkt.tensor @h2 activation tensor<2x64xbf16> {offset = 256 : i64, program = @p}
  mkt.program @p prefill rows(2) attributes {arena_bytes = 512 : i64} {
    mkt.event @ev.a count(1)
    mkt.event @done count(1)
    mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
        writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [], signals = [@ev.a]}
    mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
        operands = [@h, @w, @h, @h2], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
        writes = [#mkt.box<@h2 [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@done]}
  }
}
