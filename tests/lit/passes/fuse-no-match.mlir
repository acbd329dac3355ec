// RUN: mk-opt %s -mk-fuse | FileCheck %s
// RUN: mk-opt %s -mk-fuse | FileCheck %s --check-prefix=UNFUSED

// Near misses of the mkg.qkv, mkg.gated_mlp and mkg.moe patterns: the block is not formed, and
// the projections fall back to the norm prologue alone. UNFUSED-LABEL blocks span whole
// functions, so each UNFUSED-NOT covers the entire function body.

// CHECK-LABEL: func.func @head_norm_on_q_only
// CHECK: %[[QN:.+]] = mkg.head_norm
// CHECK: mkg.rope %[[QN]]
// CHECK: mkg.kv_append
// UNFUSED-LABEL: func.func @head_norm_on_q_only
// UNFUSED-NOT: mkg.qkv
func.func @head_norm_on_q_only(%h: tensor<1x64xbf16>, %pos: tensor<1xi32>) -> tensor<1x64xbf16> {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-06 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wq = mkg.weight "wq" : tensor<64x64xbf16>
  %wk = mkg.weight "wk" : tensor<32x64xbf16>
  %wv = mkg.weight "wv" : tensor<32x64xbf16>
  %wqn = mkg.weight "q_norm" : tensor<16xbf16>
  %q = mkg.linear %n, %wq : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %k = mkg.linear %n, %wk : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %v = mkg.linear %n, %wv : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %qn = mkg.head_norm %q, %wqn {head_dim = 16 : i64, eps = 1.0e-06 : f32} : tensor<1x64xbf16>, tensor<16xbf16>
  %qr = mkg.rope %qn, %pos {head_dim = 16 : i64, theta = 1.0e+06 : f32} : tensor<1x64xbf16>, tensor<1xi32>
  %kr = mkg.rope %k, %pos {head_dim = 16 : i64, theta = 1.0e+06 : f32} : tensor<1x32xbf16>, tensor<1xi32>
  %c = mkg.kv_append %kr, %v : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  %a = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return %a : tensor<1x64xbf16>
}

// CHECK-LABEL: func.func @bias_on_q_only
// CHECK-SAME: (%[[H:.+]]: tensor<1x64xbf16>
// CHECK: %[[LN:.+]] = mkg.weight "ln"
// CHECK: %[[BQ:.+]] = mkg.weight "bq"
// CHECK: mkg.linear %[[H]], %{{.+}} norm(%[[LN]] : tensor<64xbf16>) bias(%[[BQ]] : tensor<64xbf16>) {eps = 9.99999997E-7 : f32}
// CHECK: mkg.kv_append
// UNFUSED-LABEL: func.func @bias_on_q_only
// UNFUSED-NOT: mkg.qkv
// UNFUSED-NOT: mkg.rms_norm
func.func @bias_on_q_only(%h: tensor<1x64xbf16>, %pos: tensor<1xi32>) -> tensor<1x64xbf16> {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-06 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wq = mkg.weight "wq" : tensor<64x64xbf16>
  %bq = mkg.weight "bq" : tensor<64xbf16>
  %wk = mkg.weight "wk" : tensor<32x64xbf16>
  %wv = mkg.weight "wv" : tensor<32x64xbf16>
  %q = mkg.linear %n, %wq bias(%bq : tensor<64xbf16>) : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %k = mkg.linear %n, %wk : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %v = mkg.linear %n, %wv : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %qr = mkg.rope %q, %pos {head_dim = 16 : i64, theta = 1.0e+06 : f32} : tensor<1x64xbf16>, tensor<1xi32>
  %kr = mkg.rope %k, %pos {head_dim = 16 : i64, theta = 1.0e+06 : f32} : tensor<1x32xbf16>, tensor<1xi32>
  %c = mkg.kv_append %kr, %v : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  %a = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return %a : tensor<1x64xbf16>
}

// q and k are rotated at different positions.
// CHECK-LABEL: func.func @rope_positions_differ
// CHECK-COUNT-2: mkg.rope
// CHECK: mkg.kv_append
// UNFUSED-LABEL: func.func @rope_positions_differ
// UNFUSED-NOT: mkg.qkv
func.func @rope_positions_differ(%h: tensor<1x64xbf16>, %qpos: tensor<1xi32>, %kpos: tensor<1xi32>) -> tensor<1x64xbf16> {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wq = mkg.weight "wq" : tensor<64x64xbf16>
  %wk = mkg.weight "wk" : tensor<32x64xbf16>
  %wv = mkg.weight "wv" : tensor<32x64xbf16>
  %q = mkg.linear %n, %wq : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %k = mkg.linear %n, %wk : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %v = mkg.linear %n, %wv : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %qr = mkg.rope %q, %qpos {head_dim = 16 : i64, theta = 5.0e+05 : f32} : tensor<1x64xbf16>, tensor<1xi32>
  %kr = mkg.rope %k, %kpos {head_dim = 16 : i64, theta = 5.0e+05 : f32} : tensor<1x32xbf16>, tensor<1xi32>
  %c = mkg.kv_append %kr, %v : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  %a = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return %a : tensor<1x64xbf16>
}

// RoPE rotates 8-wide slices but attention reads 16-wide heads.
// CHECK-LABEL: func.func @rope_head_dim_differs_from_attention
// CHECK: mkg.rope %{{.+}} {head_dim = 8 : i64
// UNFUSED-LABEL: func.func @rope_head_dim_differs_from_attention
// UNFUSED-NOT: mkg.qkv
func.func @rope_head_dim_differs_from_attention(%h: tensor<1x64xbf16>, %pos: tensor<1xi32>) -> tensor<1x64xbf16> {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wq = mkg.weight "wq" : tensor<64x64xbf16>
  %wk = mkg.weight "wk" : tensor<32x64xbf16>
  %wv = mkg.weight "wv" : tensor<32x64xbf16>
  %q = mkg.linear %n, %wq : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %k = mkg.linear %n, %wk : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %v = mkg.linear %n, %wv : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %qr = mkg.rope %q, %pos {head_dim = 8 : i64, theta = 5.0e+05 : f32} : tensor<1x64xbf16>, tensor<1xi32>
  %kr = mkg.rope %k, %pos {head_dim = 8 : i64, theta = 5.0e+05 : f32} : tensor<1x32xbf16>, tensor<1xi32>
  %c = mkg.kv_append %kr, %v : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  %a = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return %a : tensor<1x64xbf16>
}

// A second attention reads the same cache: erasing the append would leave it without
// a writer, so neither attention is fused.
// CHECK-LABEL: func.func @cache_read_twice
// CHECK: %[[C:.+]] = mkg.kv_append
// CHECK: mkg.attention %{{.+}}, %[[C]]
// CHECK: mkg.attention %{{.+}}, %[[C]]
// UNFUSED-LABEL: func.func @cache_read_twice
// UNFUSED-NOT: mkg.qkv
func.func @cache_read_twice(%h: tensor<1x64xbf16>, %pos: tensor<1xi32>) -> (tensor<1x64xbf16>, tensor<1x64xbf16>) {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wq = mkg.weight "wq" : tensor<64x64xbf16>
  %wk = mkg.weight "wk" : tensor<32x64xbf16>
  %wv = mkg.weight "wv" : tensor<32x64xbf16>
  %q = mkg.linear %n, %wq : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %k = mkg.linear %n, %wk : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %v = mkg.linear %n, %wv : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %qr = mkg.rope %q, %pos {head_dim = 16 : i64, theta = 5.0e+05 : f32} : tensor<1x64xbf16>, tensor<1xi32>
  %kr = mkg.rope %k, %pos {head_dim = 16 : i64, theta = 5.0e+05 : f32} : tensor<1x32xbf16>, tensor<1xi32>
  %c = mkg.kv_append %kr, %v : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  %a = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  %b = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, sliding_window = 8 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return %a, %b : tensor<1x64xbf16>, tensor<1x64xbf16>
}

// Gate and up normalize with different weights: no mkg.gated_mlp, each projection
// takes its own norm prologue.
// CHECK-LABEL: func.func @gate_up_different_norms
// CHECK-SAME: (%[[H:.+]]: tensor<1x64xbf16>)
// CHECK: %[[LNG:.+]] = mkg.weight "ln_gate"
// CHECK: %[[LNU:.+]] = mkg.weight "ln_up"
// CHECK: %[[G:.+]] = mkg.linear %[[H]], %{{.+}} norm(%[[LNG]] : tensor<64xbf16>)
// CHECK: %[[U:.+]] = mkg.linear %[[H]], %{{.+}} norm(%[[LNU]] : tensor<64xbf16>)
// CHECK: %[[M:.+]] = mkg.silu_mul %[[G]], %[[U]]
// CHECK: return %[[M]]
// UNFUSED-LABEL: func.func @gate_up_different_norms
// UNFUSED-NOT: mkg.gated_mlp
// UNFUSED-NOT: mkg.rms_norm
func.func @gate_up_different_norms(%h: tensor<1x64xbf16>) -> tensor<1x128xbf16> {
  %lng = mkg.weight "ln_gate" : tensor<64xbf16>
  %lnu = mkg.weight "ln_up" : tensor<64xbf16>
  %ng = mkg.rms_norm %h, %lng {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %nu = mkg.rms_norm %h, %lnu {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wg = mkg.weight "wg" : tensor<128x64xbf16>
  %wu = mkg.weight "wu" : tensor<128x64xbf16>
  %g = mkg.linear %ng, %wg : tensor<1x64xbf16>, tensor<128x64xbf16> -> tensor<1x128xbf16>
  %u = mkg.linear %nu, %wu : tensor<1x64xbf16>, tensor<128x64xbf16> -> tensor<1x128xbf16>
  %m = mkg.silu_mul %g, %u {layer = 0 : i64} : tensor<1x128xbf16>
  return %m : tensor<1x128xbf16>
}

// mkg.gated_mlp has no bias operands.
// CHECK-LABEL: func.func @gate_with_bias
// CHECK-SAME: (%[[H:.+]]: tensor<1x64xbf16>)
// CHECK: %[[LN:.+]] = mkg.weight "ln"
// CHECK: %[[BG:.+]] = mkg.weight "bg"
// CHECK: %[[G:.+]] = mkg.linear %[[H]], %{{.+}} norm(%[[LN]] : tensor<64xbf16>) bias(%[[BG]] : tensor<128xbf16>)
// CHECK: %[[U:.+]] = mkg.linear %[[H]], %{{.+}} norm(%[[LN]] : tensor<64xbf16>)
// CHECK: mkg.silu_mul %[[G]], %[[U]]
// UNFUSED-LABEL: func.func @gate_with_bias
// UNFUSED-NOT: mkg.gated_mlp
func.func @gate_with_bias(%h: tensor<1x64xbf16>) -> tensor<1x128xbf16> {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wg = mkg.weight "wg" : tensor<128x64xbf16>
  %bg = mkg.weight "bg" : tensor<128xbf16>
  %wu = mkg.weight "wu" : tensor<128x64xbf16>
  %g = mkg.linear %n, %wg bias(%bg : tensor<128xbf16>) : tensor<1x64xbf16>, tensor<128x64xbf16> -> tensor<1x128xbf16>
  %u = mkg.linear %n, %wu : tensor<1x64xbf16>, tensor<128x64xbf16> -> tensor<1x128xbf16>
  %m = mkg.silu_mul %g, %u {layer = 0 : i64} : tensor<1x128xbf16>
  return %m : tensor<1x128xbf16>
}

// A gated MLP block none of whose ops names its layer: mkg.gated_mlp needs one.
// CHECK-LABEL: func.func @gated_mlp_without_layer
// CHECK: mkg.linear
// CHECK-SAME: norm(
// CHECK: mkg.silu_mul
// UNFUSED-LABEL: func.func @gated_mlp_without_layer
// UNFUSED-NOT: mkg.gated_mlp
func.func @gated_mlp_without_layer(%h: tensor<1x64xbf16>) -> tensor<1x128xbf16> {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wg = mkg.weight "wg" : tensor<128x64xbf16>
  %wu = mkg.weight "wu" : tensor<128x64xbf16>
  %g = mkg.linear %n, %wg : tensor<1x64xbf16>, tensor<128x64xbf16> -> tensor<1x128xbf16>
  %u = mkg.linear %n, %wu : tensor<1x64xbf16>, tensor<128x64xbf16> -> tensor<1x128xbf16>
  %m = mkg.silu_mul %g, %u : tensor<1x128xbf16>
  return %m : tensor<1x128xbf16>
}

// Ops of different layers never fuse: the up projection is in layer 1, the rest of
// the MLP block in layer 0; the gate projection still takes its (layer 0) norm.
// CHECK-LABEL: func.func @gated_mlp_across_layers
// CHECK: mkg.linear {{.*}} norm({{.*}} {eps = 9.99999974E-6 : f32, layer = 0 : i64}
// CHECK: mkg.linear {{.*}} {layer = 1 : i64}
// CHECK: mkg.silu_mul
// UNFUSED-LABEL: func.func @gated_mlp_across_layers
// UNFUSED-NOT: mkg.gated_mlp
func.func @gated_mlp_across_layers(%h: tensor<1x64xbf16>) -> tensor<1x128xbf16> {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32, layer = 0 : i64} : tensor<1x64xbf16>, tensor<64xbf16>
  %wg = mkg.weight "wg" : tensor<128x64xbf16>
  %wu = mkg.weight "wu" : tensor<128x64xbf16>
  %g = mkg.linear %n, %wg {layer = 0 : i64} : tensor<1x64xbf16>, tensor<128x64xbf16> -> tensor<1x128xbf16>
  %u = mkg.linear %n, %wu {layer = 1 : i64} : tensor<1x64xbf16>, tensor<128x64xbf16> -> tensor<1x128xbf16>
  %m = mkg.silu_mul %g, %u {layer = 0 : i64} : tensor<1x128xbf16>
  return %m : tensor<1x128xbf16>
}

// The v projection says layer 1 but the cache is layer 0's: no mkg.qkv.
// CHECK-LABEL: func.func @qkv_projection_in_another_layer
// CHECK: mkg.kv_append
// UNFUSED-LABEL: func.func @qkv_projection_in_another_layer
// UNFUSED-NOT: mkg.qkv
func.func @qkv_projection_in_another_layer(%h: tensor<1x64xbf16>, %pos: tensor<1xi32>) -> tensor<1x64xbf16> {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-06 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wq = mkg.weight "wq" : tensor<64x64xbf16>
  %wk = mkg.weight "wk" : tensor<32x64xbf16>
  %wv = mkg.weight "wv" : tensor<32x64xbf16>
  %q = mkg.linear %n, %wq : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %k = mkg.linear %n, %wk : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %v = mkg.linear %n, %wv {layer = 1 : i64} : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %qr = mkg.rope %q, %pos {head_dim = 16 : i64, theta = 1.0e+06 : f32} : tensor<1x64xbf16>, tensor<1xi32>
  %kr = mkg.rope %k, %pos {head_dim = 16 : i64, theta = 1.0e+06 : f32} : tensor<1x32xbf16>, tensor<1xi32>
  %c = mkg.kv_append %kr, %v : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  %a = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return %a : tensor<1x64xbf16>
}

// A residual add of another layer stays an add.
// CHECK-LABEL: func.func @residual_in_another_layer
// CHECK: mkg.add
// UNFUSED-LABEL: func.func @residual_in_another_layer
// UNFUSED-NOT: residual(
func.func @residual_in_another_layer(%x: tensor<1x64xbf16>, %r: tensor<1x64xbf16>) -> tensor<1x64xbf16> {
  %w = mkg.weight "w" : tensor<64x64xbf16>
  %y = mkg.linear %x, %w {layer = 0 : i64} : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %s = mkg.add %r, %y {layer = 1 : i64} : tensor<1x64xbf16>
  return %s : tensor<1x64xbf16>
}

// Near misses of the mkg.moe prologue and epilogue: a norm or an add of another layer
// stays, and so does an add of a block whose result has another reader.
// CHECK-LABEL: func.func @moe_norm_and_add_in_another_layer
// CHECK: %[[N:.+]] = mkg.rms_norm
// CHECK: %[[M:.+]] = mkg.moe %[[N]]
// CHECK-NOT: norm(
// CHECK-NOT: residual(
// CHECK: mkg.add %{{.+}}, %[[M]] {layer = 1 : i64}
// UNFUSED-LABEL: func.func @moe_norm_and_add_in_another_layer
// UNFUSED-NOT: residual(
func.func @moe_norm_and_add_in_another_layer(%h: tensor<2x64xbf16>, %wr: tensor<2x64xbf16>, %g: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) -> tensor<2x64xbf16> {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32, layer = 1 : i64} : tensor<2x64xbf16>, tensor<64xbf16>
  %m = mkg.moe %n router(%wr) gate(%g, %g) up(%g, %g) down(%d, %d) {layer = 0 : i64, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x64xbf16>
  %y = mkg.add %h, %m {layer = 1 : i64} : tensor<2x64xbf16>
  return %y : tensor<2x64xbf16>
}

// CHECK-LABEL: func.func @moe_result_read_twice
// CHECK: %[[M:.+]] = mkg.moe %{{.+}} norm(
// CHECK-NOT: residual(
// CHECK: mkg.add %{{.+}}, %[[M]]
// CHECK: mkg.add %[[M]], %[[M]]
func.func @moe_result_read_twice(%h: tensor<2x64xbf16>, %wr: tensor<2x64xbf16>, %g: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) -> tensor<2x64xbf16> {
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32, layer = 0 : i64} : tensor<2x64xbf16>, tensor<64xbf16>
  %m = mkg.moe %n router(%wr) gate(%g, %g) up(%g, %g) down(%d, %d) {layer = 0 : i64, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x64xbf16>
  %y = mkg.add %h, %m {layer = 0 : i64} : tensor<2x64xbf16>
  %z = mkg.add %m, %m {layer = 0 : i64} : tensor<2x64xbf16>
  %s = mkg.add %y, %z {layer = 0 : i64} : tensor<2x64xbf16>
  return %s : tensor<2x64xbf16>
}
