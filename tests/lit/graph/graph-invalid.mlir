// RUN: mk-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of the mkg ops, of `layer`, and of `mkg.program`.

func.func @weight_without_name() {
  // expected-error @+1 {{'mkg.weight' op needs a tensor name}}
  %w = mkg.weight "" : tensor<64xbf16>
  return
}

// -----

func.func @weight_rank3() {
  // expected-error @+1 {{'mkg.weight' op weights are static rank-1 or rank-2 tensors, got 'tensor<2x2x2xbf16>'}}
  %w = mkg.weight "w" : tensor<2x2x2xbf16>
  return
}

// -----

func.func @weight_dynamic() {
  // expected-error @+1 {{weights are static rank-1 or rank-2 tensors, got 'tensor<?x64xbf16>'}}
  %w = mkg.weight "w" : tensor<?x64xbf16>
  return
}

// -----

func.func @embedding_tokens_rank(%tokens: tensor<1x2xi32>, %table: tensor<256x64xbf16>) {
  // expected-error @+1 {{'mkg.embedding' op tokens must be a static rank-1 tensor, got 'tensor<1x2xi32>'}}
  %h = mkg.embedding %tokens, %table : (tensor<1x2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  return
}

// -----

func.func @embedding_token_dtype(%tokens: tensor<2xi64>, %table: tensor<256x64xbf16>) {
  // expected-error @+1 {{'mkg.embedding' op tokens must hold i32 values}}
  %h = mkg.embedding %tokens, %table : (tensor<2xi64>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  return
}

// -----

func.func @embedding_table_rank(%tokens: tensor<2xi32>, %table: tensor<256xbf16>) {
  // expected-error @+1 {{'mkg.embedding' op table must be a static rank-2 tensor, got 'tensor<256xbf16>'}}
  %h = mkg.embedding %tokens, %table : (tensor<2xi32>, tensor<256xbf16>) -> tensor<2x64xbf16>
  return
}

// -----

func.func @embedding_result_shape(%tokens: tensor<2xi32>, %table: tensor<256x64xbf16>) {
  // expected-error @+1 {{'mkg.embedding' op result must have shape [2, 64], got [2, 32]}}
  %h = mkg.embedding %tokens, %table : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x32xbf16>
  return
}

// -----

func.func @rms_norm_rank(%x: tensor<64xbf16>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'mkg.rms_norm' op x must be a static rank-2 tensor, got 'tensor<64xbf16>'}}
  %n = mkg.rms_norm %x, %w {eps = 1.0e-05 : f32} : tensor<64xbf16>, tensor<64xbf16>
  return
}

// -----

func.func @rms_norm_weight_shape(%x: tensor<1x64xbf16>, %w: tensor<32xbf16>) {
  // expected-error @+1 {{'mkg.rms_norm' op weight must have shape [64], got [32]}}
  %n = mkg.rms_norm %x, %w {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<32xbf16>
  return
}

// -----

func.func @linear_x_rank(%x: tensor<64xbf16>, %w: tensor<32x64xbf16>) {
  // expected-error @+1 {{'mkg.linear' op x must be a static rank-2 tensor, got 'tensor<64xbf16>'}}
  %y = mkg.linear %x, %w : tensor<64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<1x64xbf16>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'mkg.linear' op weight must be a static rank-2 tensor, got 'tensor<64xbf16>'}}
  %y = mkg.linear %x, %w : tensor<1x64xbf16>, tensor<64xbf16> -> tensor<1x32xbf16>
  return
}

// -----

func.func @linear_k_mismatch(%x: tensor<1x64xbf16>, %w: tensor<32x48xbf16>) {
  // expected-error @+1 {{'mkg.linear' op weight is [32, 48] but x has 64 features}}
  %y = mkg.linear %x, %w : tensor<1x64xbf16>, tensor<32x48xbf16> -> tensor<1x32xbf16>
  return
}

// -----

func.func @linear_result_shape(%x: tensor<1x64xbf16>, %w: tensor<32x64xbf16>) {
  // expected-error @+1 {{'mkg.linear' op result must have shape [1, 32], got [1, 64]}}
  %y = mkg.linear %x, %w : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x64xbf16>
  return
}

// -----

func.func @linear_norm_weight_shape(%x: tensor<1x64xbf16>, %w: tensor<32x64xbf16>, %ln: tensor<32xbf16>) {
  // expected-error @+1 {{'mkg.linear' op norm weight must have shape [64], got [32]}}
  %y = mkg.linear %x, %w norm(%ln : tensor<32xbf16>) {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  return
}

// -----

func.func @linear_norm_without_eps(%x: tensor<1x64xbf16>, %w: tensor<32x64xbf16>, %ln: tensor<64xbf16>) {
  // expected-error @+1 {{'mkg.linear' op a norm prologue needs an eps, and eps needs a norm}}
  %y = mkg.linear %x, %w norm(%ln : tensor<64xbf16>) : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  return
}

// -----

func.func @linear_eps_without_norm(%x: tensor<1x64xbf16>, %w: tensor<32x64xbf16>) {
  // expected-error @+1 {{'mkg.linear' op a norm prologue needs an eps, and eps needs a norm}}
  %y = mkg.linear %x, %w {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  return
}

// -----

func.func @linear_bias_shape(%x: tensor<1x64xbf16>, %w: tensor<32x64xbf16>, %b: tensor<64xbf16>) {
  // expected-error @+1 {{'mkg.linear' op bias must have shape [32], got [64]}}
  %y = mkg.linear %x, %w bias(%b : tensor<64xbf16>) : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  return
}

// -----

func.func @linear_residual_shape(%x: tensor<2x64xbf16>, %w: tensor<32x64xbf16>, %r: tensor<1x32xbf16>) {
  // expected-error @+1 {{'mkg.linear' op residual must have shape [2, 32], got [1, 32]}}
  %y = mkg.linear %x, %w residual(%r : tensor<1x32xbf16>) : tensor<2x64xbf16>, tensor<32x64xbf16> -> tensor<2x32xbf16>
  return
}

// -----

func.func @head_norm_rank(%x: tensor<64xbf16>, %w: tensor<16xbf16>) {
  // expected-error @+1 {{'mkg.head_norm' op x must be a static rank-2 tensor, got 'tensor<64xbf16>'}}
  %y = mkg.head_norm %x, %w {head_dim = 16 : i64, eps = 1.0e-06 : f32} : tensor<64xbf16>, tensor<16xbf16>
  return
}

// -----

func.func @head_norm_head_dim_not_dividing(%x: tensor<1x64xbf16>, %w: tensor<24xbf16>) {
  // expected-error @+1 {{'mkg.head_norm' op features (64) must be a multiple of head_dim (24)}}
  %y = mkg.head_norm %x, %w {head_dim = 24 : i64, eps = 1.0e-06 : f32} : tensor<1x64xbf16>, tensor<24xbf16>
  return
}

// -----

func.func @head_norm_weight_shape(%x: tensor<1x64xbf16>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'mkg.head_norm' op weight must have shape [16], got [64]}}
  %y = mkg.head_norm %x, %w {head_dim = 16 : i64, eps = 1.0e-06 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  return
}

// -----

func.func @rope_rank(%x: tensor<64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.rope' op x must be a static rank-2 tensor, got 'tensor<64xbf16>'}}
  %y = mkg.rope %x, %pos {head_dim = 16 : i64, theta = 1.0e+04 : f32} : tensor<64xbf16>, tensor<1xi32>
  return
}

// -----

func.func @rope_positions_shape(%x: tensor<2x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.rope' op positions must have shape [2], got [1]}}
  %y = mkg.rope %x, %pos {head_dim = 16 : i64, theta = 1.0e+04 : f32} : tensor<2x64xbf16>, tensor<1xi32>
  return
}

// -----

func.func @rope_positions_dtype(%x: tensor<1x64xbf16>, %pos: tensor<1xi64>) {
  // expected-error @+1 {{'mkg.rope' op positions must hold i32 values}}
  %y = mkg.rope %x, %pos {head_dim = 16 : i64, theta = 1.0e+04 : f32} : tensor<1x64xbf16>, tensor<1xi64>
  return
}

// -----

func.func @rope_odd_head_dim(%x: tensor<1x63xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.rope' op head_dim must be even and divide the features, got 21 for 63}}
  %y = mkg.rope %x, %pos {head_dim = 21 : i64, theta = 1.0e+04 : f32} : tensor<1x63xbf16>, tensor<1xi32>
  return
}

// -----

func.func @rope_head_dim_not_dividing(%x: tensor<1x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.rope' op head_dim must be even and divide the features, got 24 for 64}}
  %y = mkg.rope %x, %pos {head_dim = 24 : i64, theta = 1.0e+04 : f32} : tensor<1x64xbf16>, tensor<1xi32>
  return
}

// -----

func.func @rope_theta(%x: tensor<1x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.rope' op theta must be positive}}
  %y = mkg.rope %x, %pos {head_dim = 16 : i64, theta = 0.0 : f32} : tensor<1x64xbf16>, tensor<1xi32>
  return
}

// -----

func.func @rope_llama3_scaling_length(%x: tensor<1x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.rope' op llama3_scaling must hold [factor, low_freq_factor, high_freq_factor, original_max_position], got 3 values}}
  %y = mkg.rope %x, %pos {head_dim = 16 : i64, llama3_scaling = array<f32: 8.0, 1.0, 4.0>, theta = 5.0e+05 : f32} : tensor<1x64xbf16>, tensor<1xi32>
  return
}

// -----

func.func @kv_append_rank(%k: tensor<32xbf16>, %v: tensor<32xbf16>) {
  // expected-error @+1 {{'mkg.kv_append' op k must be a static rank-2 tensor, got 'tensor<32xbf16>'}}
  %c = mkg.kv_append %k, %v : tensor<32xbf16>, tensor<32xbf16> -> !mkg.kv_cache<0>
  return
}

// -----

func.func @kv_append_k_v_mismatch(%k: tensor<1x32xbf16>, %v: tensor<1x16xbf16>) {
  // expected-error @+1 {{'mkg.kv_append' op k and v must have the same type, got 'tensor<1x32xbf16>' and 'tensor<1x16xbf16>'}}
  %c = mkg.kv_append %k, %v : tensor<1x32xbf16>, tensor<1x16xbf16> -> !mkg.kv_cache<0>
  return
}

// -----

func.func @attention_heads_not_dividing(%q: tensor<1x64xbf16>, %k: tensor<1x48xbf16>) {
  %c = mkg.kv_append %k, %k : tensor<1x48xbf16>, tensor<1x48xbf16> -> !mkg.kv_cache<0>
  // expected-error @+1 {{'mkg.attention' op num_heads (4) must be a positive multiple of num_kv_heads (3)}}
  %a = mkg.attention %q, %c {num_heads = 4 : i64, num_kv_heads = 3 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return
}

// -----

func.func @attention_zero_kv_heads(%q: tensor<1x64xbf16>, %k: tensor<1x32xbf16>) {
  %c = mkg.kv_append %k, %k : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  // expected-error @+1 {{'mkg.attention' op num_heads (4) must be a positive multiple of num_kv_heads (0)}}
  %a = mkg.attention %q, %c {num_heads = 4 : i64, num_kv_heads = 0 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return
}

// -----

func.func @attention_q_rank(%q: tensor<64xbf16>, %k: tensor<1x32xbf16>) {
  %c = mkg.kv_append %k, %k : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  // expected-error @+1 {{'mkg.attention' op q must be a static rank-2 tensor, got 'tensor<64xbf16>'}}
  %a = mkg.attention %q, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return
}

// -----

func.func @attention_odd_head_dim(%q: tensor<1x60xbf16>, %k: tensor<1x30xbf16>) {
  %c = mkg.kv_append %k, %k : tensor<1x30xbf16>, tensor<1x30xbf16> -> !mkg.kv_cache<0>
  // expected-error @+1 {{'mkg.attention' op head_dim must be positive and even, got 15}}
  %a = mkg.attention %q, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 15 : i64} : tensor<1x60xbf16>, !mkg.kv_cache<0> -> tensor<1x60xbf16>
  return
}

// -----

func.func @attention_q_features(%q: tensor<1x64xbf16>, %k: tensor<1x32xbf16>) {
  %c = mkg.kv_append %k, %k : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  // expected-error @+1 {{'mkg.attention' op q has 64 features, expected 8 heads x 16}}
  %a = mkg.attention %q, %c {num_heads = 8 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return
}

// -----

func.func @attention_sliding_window_zero(%q: tensor<1x64xbf16>, %k: tensor<1x32xbf16>) {
  %c = mkg.kv_append %k, %k : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  // expected-error @+1 {{'mkg.attention' op sliding_window must be positive}}
  %a = mkg.attention %q, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, sliding_window = 0 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return
}

// -----

func.func @attention_sliding_window_negative(%q: tensor<1x64xbf16>, %k: tensor<1x32xbf16>) {
  %c = mkg.kv_append %k, %k : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  // expected-error @+1 {{'mkg.attention' op sliding_window must be positive}}
  %a = mkg.attention %q, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, sliding_window = -1 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return
}

// -----

func.func @attention_cache_features(%q: tensor<1x64xbf16>, %k: tensor<1x64xbf16>) {
  %c = mkg.kv_append %k, %k : tensor<1x64xbf16>, tensor<1x64xbf16> -> !mkg.kv_cache<0>
  // expected-error @+1 {{'mkg.attention' op the cache holds 64 features per token, expected 2 kv heads x 16}}
  %a = mkg.attention %q, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return
}

// -----

func.func @attention_result_shape(%q: tensor<1x64xbf16>, %k: tensor<1x32xbf16>) {
  %c = mkg.kv_append %k, %k : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  // expected-error @+1 {{'mkg.attention' op result must have shape [1, 64], got [2, 64]}}
  %a = mkg.attention %q, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<2x64xbf16>
  return
}

// -----

func.func @argmax_rank(%logits: tensor<256xf32>) {
  // expected-error @+1 {{'mkg.argmax' op logits must be a static rank-2 tensor, got 'tensor<256xf32>'}}
  %t = mkg.argmax %logits : tensor<256xf32> -> tensor<1xi32>
  return
}

// -----

func.func @argmax_token_dtype(%logits: tensor<1x256xf32>) {
  // expected-error @+1 {{'mkg.argmax' op result must hold i32 values}}
  %t = mkg.argmax %logits : tensor<1x256xf32> -> tensor<1xi64>
  return
}

// -----

func.func @argmax_result_shape(%logits: tensor<2x256xf32>) {
  // expected-error @+1 {{'mkg.argmax' op result must have shape [2], got [1]}}
  %t = mkg.argmax %logits : tensor<2x256xf32> -> tensor<1xi32>
  return
}

// -----

func.func @qkv_x_rank(%h: tensor<64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op x must be a static rank-2 tensor, got 'tensor<64xbf16>'}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wk) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.0e+05 : f32} : (tensor<64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @qkv_heads_not_dividing(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<48x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op num_heads (4) must be a positive multiple of num_kv_heads (3)}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wk) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 3 : i64, theta = 5.0e+05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<48x64xbf16>, tensor<48x64xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @qkv_odd_head_dim(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<60x64xbf16>, %wk: tensor<30x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op head_dim must be positive and even, got 15}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wk) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 15 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.0e+05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<60x64xbf16>, tensor<30x64xbf16>, tensor<30x64xbf16>, tensor<1xi32>) -> (tensor<1x60xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @qkv_norm_weight_shape(%h: tensor<1x64xbf16>, %ln: tensor<32xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op norm weight must have shape [64], got [32]}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wk) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.0e+05 : f32} : (tensor<1x64xbf16>, tensor<32xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @qkv_wq_shape(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<32x64xbf16>, %wk: tensor<32x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op wq must have shape [64, 64], got [32, 64]}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wk) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.0e+05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @qkv_wk_shape(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<64x64xbf16>, %wv: tensor<32x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op wk must have shape [32, 64], got [64, 64]}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wv) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.0e+05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @qkv_wv_shape(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>, %wv: tensor<32x48xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op wv must have shape [32, 64], got [32, 48]}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wv) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.0e+05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x48xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @qkv_positions_shape(%h: tensor<2x64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op positions must have shape [2], got [1]}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wk) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.0e+05 : f32} : (tensor<2x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<1xi32>) -> (tensor<2x64xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @qkv_q_shape(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op q must have shape [1, 64], got [1, 32]}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wk) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.0e+05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<1xi32>) -> (tensor<1x32xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @qkv_bias_shape(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>, %bq: tensor<64xbf16>, %bk: tensor<64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op bk must have shape [32], got [64]}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wk) bias(%bq, %bk, %bk) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.0e+05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64xbf16>, tensor<64xbf16>, tensor<64xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @qkv_qk_norm_shape(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>, %qn: tensor<64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op q_norm must have shape [16], got [64]}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wk) qk_norm(%qn, %qn) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, qk_eps = 1.0e-06 : f32, theta = 5.0e+05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64xbf16>, tensor<64xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @qkv_qk_norm_without_eps(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>, %qn: tensor<16xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op qk_norm needs qk_eps}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wk) qk_norm(%qn, %qn) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.0e+05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<16xbf16>, tensor<16xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @qkv_cache_layer(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op cache type is for layer 1 but the op is layer 0}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wk) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.0e+05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<1>)
  return
}

// -----

func.func @qkv_llama3_scaling_length(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'mkg.qkv' op llama3_scaling must hold [factor, low_freq_factor, high_freq_factor, original_max_position], got 5 values}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wk) positions(%pos) {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, llama3_scaling = array<f32: 8.0, 1.0, 4.0, 8192.0, 1.0>, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.0e+05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  return
}

// -----

func.func @gated_mlp_x_rank(%h: tensor<64xbf16>, %ln: tensor<64xbf16>, %wg: tensor<128x64xbf16>) {
  // expected-error @+1 {{'mkg.gated_mlp' op x must be a static rank-2 tensor, got 'tensor<64xbf16>'}}
  %m = mkg.gated_mlp %h norm(%ln) weights(%wg, %wg) {eps = 1.0e-05 : f32, layer = 0 : i64} : (tensor<64xbf16>, tensor<64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>) -> tensor<1x128xbf16>
  return
}

// -----

func.func @gated_mlp_gate_rank(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wg: tensor<128xbf16>, %wu: tensor<128x64xbf16>) {
  // expected-error @+1 {{'mkg.gated_mlp' op w_gate must be a static rank-2 tensor, got 'tensor<128xbf16>'}}
  %m = mkg.gated_mlp %h norm(%ln) weights(%wg, %wu) {eps = 1.0e-05 : f32, layer = 0 : i64} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<128xbf16>, tensor<128x64xbf16>) -> tensor<1x128xbf16>
  return
}

// -----

func.func @gated_mlp_norm_weight_shape(%h: tensor<1x64xbf16>, %ln: tensor<128xbf16>, %wg: tensor<128x64xbf16>) {
  // expected-error @+1 {{'mkg.gated_mlp' op norm weight must have shape [64], got [128]}}
  %m = mkg.gated_mlp %h norm(%ln) weights(%wg, %wg) {eps = 1.0e-05 : f32, layer = 0 : i64} : (tensor<1x64xbf16>, tensor<128xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>) -> tensor<1x128xbf16>
  return
}

// -----

func.func @gated_mlp_gate_features(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wg: tensor<128x32xbf16>, %wu: tensor<128x64xbf16>) {
  // expected-error @+1 {{'mkg.gated_mlp' op w_gate must have shape [128, 64], got [128, 32]}}
  %m = mkg.gated_mlp %h norm(%ln) weights(%wg, %wu) {eps = 1.0e-05 : f32, layer = 0 : i64} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<128x32xbf16>, tensor<128x64xbf16>) -> tensor<1x128xbf16>
  return
}

// -----

func.func @gated_mlp_up_shape(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wg: tensor<128x64xbf16>, %wu: tensor<96x64xbf16>) {
  // expected-error @+1 {{'mkg.gated_mlp' op w_up must have shape [128, 64], got [96, 64]}}
  %m = mkg.gated_mlp %h norm(%ln) weights(%wg, %wu) {eps = 1.0e-05 : f32, layer = 0 : i64} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<128x64xbf16>, tensor<96x64xbf16>) -> tensor<1x128xbf16>
  return
}

// -----

func.func @gated_mlp_result_shape(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wg: tensor<128x64xbf16>) {
  // expected-error @+1 {{'mkg.gated_mlp' op result must have shape [1, 128], got [1, 64]}}
  %m = mkg.gated_mlp %h norm(%ln) weights(%wg, %wg) {eps = 1.0e-05 : f32, layer = 0 : i64} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>) -> tensor<1x64xbf16>
  return
}

// -----

func.func @gated_mlp_without_layer(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>, %wg: tensor<128x64xbf16>) {
  // expected-error @+1 {{'mkg.gated_mlp' op requires attribute 'layer'}}
  %m = mkg.gated_mlp %h norm(%ln) weights(%wg, %wg) {eps = 1.0e-05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>) -> tensor<1x128xbf16>
  return
}

// -----

func.func @negative_layer(%h: tensor<1x64xbf16>, %ln: tensor<64xbf16>) {
  // expected-error @+1 {{'mkg.rms_norm' op attribute 'layer' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32, layer = -1 : i64} : tensor<1x64xbf16>, tensor<64xbf16>
  return
}

// -----

func.func @kv_append_layer(%k: tensor<1x32xbf16>) {
  // expected-error @+1 {{'mkg.kv_append' op is in layer 1 but its cache is layer 0}}
  %c = mkg.kv_append %k, %k {layer = 1 : i64} : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  return
}

// -----

func.func @attention_layer(%q: tensor<1x64xbf16>, %k: tensor<1x32xbf16>) {
  %c = mkg.kv_append %k, %k : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<2>
  // expected-error @+1 {{'mkg.attention' op is in layer 0 but its cache is layer 2}}
  %a = mkg.attention %q, %c {head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<2> -> tensor<1x64xbf16>
  return
}

// -----

// Program kinds are an enum attribute, not strings.
// expected-error @+1 {{'mkg.program' must be #mkg.program_kind<decode> or <prefill>, got "decode"}}
func.func @string_program_kind(%tokens: tensor<1xi32>, %pos: tensor<1xi32>) attributes {mkg.program = "decode"} {
  return
}

// -----

// expected-error @+2 {{expected ::mk::task::ProgramKind to be one of: decode, prefill}}
// expected-error @+1 {{failed to parse MKG_ProgramKindAttr parameter 'value' which is to be a `::mk::task::ProgramKind`}}
func.func @unknown_program_kind(%tokens: tensor<1xi32>, %pos: tensor<1xi32>) attributes {mkg.program = #mkg.program_kind<train>} {
  return
}

// -----

// expected-error @+1 {{unknown graph-dialect attribute 'mkg.programme'}}
func.func @unknown_attribute(%tokens: tensor<1xi32>, %pos: tensor<1xi32>) attributes {mkg.programme = #mkg.program_kind<decode>} {
  return
}

// -----

func.func @moe_top_k_above_experts(%x: tensor<2x64xbf16>, %wr: tensor<2x64xbf16>, %g: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{'mkg.moe' op top_k (3) must be in [1, num_experts (2)]}}
  %y = mkg.moe %x router(%wr) gate(%g, %g) up(%g, %g) down(%d, %d) {layer = 0 : i64, num_experts = 2 : i64, top_k = 3 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x64xbf16>
  return
}

// -----

func.func @moe_router_shape(%x: tensor<2x64xbf16>, %wr: tensor<3x64xbf16>, %g: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{'mkg.moe' op router must have shape [2, 64], got [3, 64]}}
  %y = mkg.moe %x router(%wr) gate(%g, %g) up(%g, %g) down(%d, %d) {layer = 0 : i64, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<3x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x64xbf16>
  return
}

// -----

func.func @moe_missing_expert(%x: tensor<2x64xbf16>, %wr: tensor<2x64xbf16>, %g: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{'mkg.moe' op has 1 up weights, expected one per expert (2)}}
  %y = mkg.moe %x router(%wr) gate(%g, %g) up(%g) down(%d, %d) {layer = 0 : i64, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x64xbf16>
  return
}

// -----

func.func @moe_down_shape(%x: tensor<2x64xbf16>, %wr: tensor<2x64xbf16>, %g: tensor<32x64xbf16>, %d: tensor<32x64xbf16>) {
  // expected-error @+1 {{'mkg.moe' op down weights must have shape [64, 32], got [32, 64]}}
  %y = mkg.moe %x router(%wr) gate(%g, %g) up(%g, %g) down(%d, %d) {layer = 0 : i64, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>) -> tensor<2x64xbf16>
  return
}

// -----

func.func @moe_experts_differ(%x: tensor<2x64xbf16>, %wr: tensor<2x64xbf16>, %g: tensor<32x64xbf16>, %g2: tensor<16x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{'mkg.moe' op up weight of expert 1 is 'tensor<16x64xbf16>', expert 0's is 'tensor<32x64xbf16>'}}
  %y = mkg.moe %x router(%wr) gate(%g, %g) up(%g, %g2) down(%d, %d) {layer = 0 : i64, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<16x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x64xbf16>
  return
}

// -----

func.func @moe_norm_without_eps(%x: tensor<2x64xbf16>, %ln: tensor<64xbf16>, %wr: tensor<2x64xbf16>, %g: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{'mkg.moe' op a norm prologue needs an eps, and eps needs a norm}}
  %y = mkg.moe %x router(%wr) gate(%g, %g) up(%g, %g) down(%d, %d) norm(%ln) {layer = 0 : i64, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64xbf16>) -> tensor<2x64xbf16>
  return
}

// -----

func.func @moe_residual_shape(%x: tensor<2x64xbf16>, %r: tensor<1x64xbf16>, %wr: tensor<2x64xbf16>, %g: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{'mkg.moe' op residual must have shape [2, 64], got [1, 64]}}
  %y = mkg.moe %x router(%wr) gate(%g, %g) up(%g, %g) down(%d, %d) residual(%r) {layer = 0 : i64, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<1x64xbf16>) -> tensor<2x64xbf16>
  return
}

// -----

func.func @moe_without_layer(%x: tensor<2x64xbf16>, %wr: tensor<2x64xbf16>, %g: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{'mkg.moe' op requires attribute 'layer'}}
  %y = mkg.moe %x router(%wr) gate(%g, %g) up(%g, %g) down(%d, %d) {num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x64xbf16>
  return
}

// -----

func.func @weight_shard_incomplete() {
  // expected-error @+1 {{'mkg.weight' op shard_dim, shard_parts and shard_replicas come together}}
  %w = mkg.weight "w" {shard_dim = 0 : i64, shard_parts = 2 : i64} : tensor<32x64xbf16>
  return
}

// -----

func.func @weight_shard_dim() {
  // expected-error @+1 {{'mkg.weight' op shard_dim 1 is not a dimension of 'tensor<64xbf16>'}}
  %w = mkg.weight "w" {shard_dim = 1 : i64, shard_parts = 2 : i64, shard_replicas = 1 : i64} : tensor<64xbf16>
  return
}

// -----

func.func @weight_shard_one_part() {
  // expected-error @+1 {{'mkg.weight' op a sharded weight has shard_parts >= 2 and shard_replicas >= 1, got 1 and 1}}
  %w = mkg.weight "w" {shard_dim = 0 : i64, shard_parts = 1 : i64, shard_replicas = 1 : i64} : tensor<64xbf16>
  return
}

// -----

func.func @all_reduce_one_rank(%p: tensor<1x64xbf16>) {
  // expected-error @+1 {{'mkg.all_reduce' op ranks must be at least 2, got 1}}
  %y = mkg.all_reduce %p {ranks = 1 : i64} : tensor<1x64xbf16>
  return
}

// -----

func.func @all_reduce_residual(%p: tensor<1x64xbf16>, %r: tensor<1x32xbf16>) {
  // expected-error @+1 {{'mkg.all_reduce' op residual is 'tensor<1x32xbf16>' but partial is 'tensor<1x64xbf16>'}}
  %y = mkg.all_reduce %p residual(%r : tensor<1x32xbf16>) {ranks = 2 : i64} : tensor<1x64xbf16>
  return
}

// -----

func.func @all_gather_shape(%l: tensor<1x128xf32>) {
  // expected-error @+1 {{'mkg.all_gather' op result must have shape [1, 256], got [1, 128]}}
  %y = mkg.all_gather %l {ranks = 2 : i64} : tensor<1x128xf32> -> tensor<1x128xf32>
  return
}

// -----

func.func @all_gather_type(%l: tensor<1x128xf32>) {
  // expected-error @+1 {{'mkg.all_gather' op result element type 'bf16' differs from local's 'f32'}}
  %y = mkg.all_gather %l {ranks = 2 : i64} : tensor<1x128xf32> -> tensor<1x256xbf16>
  return
}
