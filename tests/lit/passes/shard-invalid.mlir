// RUN: mk-opt %s -split-input-file -mk-shard=ranks=3 -verify-diagnostics

// What mk-shard refuses: shapes 3 ranks do not divide, KV heads that are neither a
// multiple nor a divisor of the ranks, ops it has no tensor-parallel form for, and a
// graph that is already sharded.

func.func @heads(%h: tensor<1x64xbf16>, %pos: tensor<1xi32>) -> tensor<1x64xbf16>
    attributes {mkg.program = #mkg.program_kind<decode>} {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %wq = mkg.weight "q" : tensor<64x64xbf16>
  %wk = mkg.weight "k" : tensor<32x64xbf16>
  %wv = mkg.weight "v" : tensor<32x64xbf16>
  // expected-error @+1 {{'mkg.qkv' op mk-shard: num_heads (4) is not divisible by 3 ranks}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wv) positions(%pos)
      {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64,
       num_kv_heads = 2 : i64, theta = 1.0e+04 : f32}
      : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>,
         tensor<32x64xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  return %q : tensor<1x64xbf16>
}

// -----

func.func @kv_heads(%h: tensor<1x96xbf16>, %pos: tensor<1xi32>) -> tensor<1x96xbf16>
    attributes {mkg.program = #mkg.program_kind<decode>} {
  %ln = mkg.weight "ln" : tensor<96xbf16>
  %wq = mkg.weight "q" : tensor<96x96xbf16>
  %wk = mkg.weight "k" : tensor<32x96xbf16>
  %wv = mkg.weight "v" : tensor<32x96xbf16>
  // expected-error @+1 {{'mkg.qkv' op mk-shard: num_kv_heads (4) must be a multiple or a divisor of 3 ranks}}
  %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wv) positions(%pos)
      {eps = 1.0e-05 : f32, head_dim = 8 : i64, layer = 0 : i64, num_heads = 12 : i64,
       num_kv_heads = 4 : i64, theta = 1.0e+04 : f32}
      : (tensor<1x96xbf16>, tensor<96xbf16>, tensor<96x96xbf16>, tensor<32x96xbf16>,
         tensor<32x96xbf16>, tensor<1xi32>) -> (tensor<1x96xbf16>, !mkg.kv_cache<0>)
  return %q : tensor<1x96xbf16>
}

// -----

func.func @intermediate(%h: tensor<1x64xbf16>) -> tensor<1x128xbf16>
    attributes {mkg.program = #mkg.program_kind<decode>} {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %wg = mkg.weight "gate" : tensor<128x64xbf16>
  %wu = mkg.weight "up" : tensor<128x64xbf16>
  // expected-error @+1 {{'mkg.gated_mlp' op mk-shard: the gate weight 'gate' has 128 in dimension 0, not divisible into 3 parts}}
  %m = mkg.gated_mlp %h norm(%ln) weights(%wg, %wu) {eps = 1.0e-05 : f32, layer = 0 : i64}
      : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>) -> tensor<1x128xbf16>
  return %m : tensor<1x128xbf16>
}

// -----

// A residual projection of an input that is not split over the ranks.
func.func @projection_input(%h: tensor<1x66xbf16>) -> tensor<1x66xbf16>
    attributes {mkg.program = #mkg.program_kind<decode>} {
  %w = mkg.weight "o" : tensor<66x66xbf16>
  // expected-error @+1 {{'mkg.linear' op mk-shard: a projection must be the LM head (feeding the argmax) or follow attention or the gated MLP (O/down projection); run mk-fuse first}}
  %y = mkg.linear %h, %w residual(%h : tensor<1x66xbf16>) {layer = 0 : i64}
      : tensor<1x66xbf16>, tensor<66x66xbf16> -> tensor<1x66xbf16>
  return %y : tensor<1x66xbf16>
}

// -----

func.func @unfused(%h: tensor<1x66xbf16>) -> tensor<1x66xbf16>
    attributes {mkg.program = #mkg.program_kind<decode>} {
  %w = mkg.weight "ln" : tensor<66xbf16>
  // expected-error @+1 {{'mkg.rms_norm' op mk-shard: no tensor-parallel form for this op; fused graphs only (run mk-fuse first)}}
  %n = mkg.rms_norm %h, %w {eps = 1.0e-05 : f32} : tensor<1x66xbf16>, tensor<66xbf16>
  return %n : tensor<1x66xbf16>
}

// -----

func.func @sharded(%p: tensor<1x66xbf16>) -> tensor<1x66xbf16>
    attributes {mkg.program = #mkg.program_kind<decode>} {
  // expected-error @+1 {{'mkg.all_reduce' op mk-shard: the graph is already sharded}}
  %y = mkg.all_reduce %p {ranks = 3 : i64} : tensor<1x66xbf16>
  return %y : tensor<1x66xbf16>
}

// -----

// Functions without mkg.program are not programs: left alone.
func.func @helper(%h: tensor<1x64xbf16>) -> tensor<1x64xbf16> {
  %w = mkg.weight "ln" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %w {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  return %n : tensor<1x64xbf16>
}
