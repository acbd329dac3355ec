// RUN: mk-opt %s -mk-fuse | FileCheck %s
// RUN: mk-opt %s -mk-fuse | FileCheck %s --check-prefix=REMOVED

// REMOVED-LABEL blocks span whole functions, so each REMOVED-NOT below covers the
// entire fused function body rather than the gap between two CHECK lines.

// One Llama layer + final norm + LM head, as the graph builder emits it (decode,
// batch 1, hidden 64, 4 heads, 2 kv heads, head_dim 16, intermediate 128): every op
// of the layer in layer 0, and the fused ops too.

// CHECK-LABEL: func.func @llama_layer
// CHECK-SAME: (%[[TOKENS:.+]]: tensor<1xi32>, %[[POS:.+]]: tensor<1xi32>)
// CHECK: %[[EMB:.+]] = mkg.weight "model.embed_tokens.weight"
// CHECK: %[[H0:.+]] = mkg.embedding %[[TOKENS]], %[[EMB]]
// CHECK: %[[LN:.+]] = mkg.weight "model.layers.0.input_layernorm.weight"
// CHECK: %[[WQ:.+]] = mkg.weight "model.layers.0.self_attn.q_proj.weight"
// CHECK: %[[WK:.+]] = mkg.weight "model.layers.0.self_attn.k_proj.weight"
// CHECK: %[[WV:.+]] = mkg.weight "model.layers.0.self_attn.v_proj.weight"
// CHECK: %[[Q:.+]], %[[CACHE:.+]] = mkg.qkv %[[H0]] norm(%[[LN]]) weights(%[[WQ]], %[[WK]], %[[WV]]) positions(%[[POS]])
// CHECK-SAME: eps = 9.99999974E-6 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.000000e+05 : f32}
// CHECK-SAME: -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
// CHECK: %[[A:.+]] = mkg.attention %[[Q]], %[[CACHE]] {head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64}
// CHECK: %[[WO:.+]] = mkg.weight "model.layers.0.self_attn.o_proj.weight"
// CHECK: %[[H1:.+]] = mkg.linear %[[A]], %[[WO]] residual(%[[H0]] : tensor<1x64xbf16>) {layer = 0 : i64} : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
// CHECK: %[[PLN:.+]] = mkg.weight "model.layers.0.post_attention_layernorm.weight"
// CHECK: %[[WG:.+]] = mkg.weight "model.layers.0.mlp.gate_proj.weight"
// CHECK: %[[WU:.+]] = mkg.weight "model.layers.0.mlp.up_proj.weight"
// CHECK: %[[M:.+]] = mkg.gated_mlp %[[H1]] norm(%[[PLN]]) weights(%[[WG]], %[[WU]]) {eps = 9.99999974E-6 : f32, layer = 0 : i64}
// CHECK-SAME: -> tensor<1x128xbf16>
// CHECK: %[[WD:.+]] = mkg.weight "model.layers.0.mlp.down_proj.weight"
// CHECK: %[[H2:.+]] = mkg.linear %[[M]], %[[WD]] residual(%[[H1]] : tensor<1x64xbf16>) {layer = 0 : i64} : tensor<1x128xbf16>, tensor<64x128xbf16> -> tensor<1x64xbf16>
// CHECK: %[[FN:.+]] = mkg.weight "model.norm.weight"
// CHECK: %[[WLM:.+]] = mkg.weight "lm_head.weight"
// CHECK: %[[LOGITS:.+]] = mkg.linear %[[H2]], %[[WLM]] norm(%[[FN]] : tensor<64xbf16>) {eps = 9.99999974E-6 : f32} : tensor<1x64xbf16>, tensor<256x64xbf16> -> tensor<1x256xf32>
// CHECK: %[[T:.+]] = mkg.argmax %[[LOGITS]]
// CHECK: return %[[T]]

// REMOVED-LABEL: func.func @llama_layer
// REMOVED-NOT: mkg.rms_norm
// REMOVED-NOT: mkg.rope
// REMOVED-NOT: mkg.kv_append
// REMOVED-NOT: mkg.add
// REMOVED-NOT: mkg.silu_mul
func.func @llama_layer(%tokens: tensor<1xi32>, %pos: tensor<1xi32>) -> tensor<1xi32> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h0 = mkg.embedding %tokens, %emb : (tensor<1xi32>, tensor<256x64xbf16>) -> tensor<1x64xbf16>
  %ln = mkg.weight "model.layers.0.input_layernorm.weight" : tensor<64xbf16>
  %n = mkg.rms_norm %h0, %ln {eps = 1.0e-05 : f32, layer = 0 : i64} : tensor<1x64xbf16>, tensor<64xbf16>
  %wq = mkg.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
  %wk = mkg.weight "model.layers.0.self_attn.k_proj.weight" : tensor<32x64xbf16>
  %wv = mkg.weight "model.layers.0.self_attn.v_proj.weight" : tensor<32x64xbf16>
  %q = mkg.linear %n, %wq {layer = 0 : i64} : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %k = mkg.linear %n, %wk {layer = 0 : i64} : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %v = mkg.linear %n, %wv {layer = 0 : i64} : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %qr = mkg.rope %q, %pos {head_dim = 16 : i64, theta = 5.0e+05 : f32, layer = 0 : i64} : tensor<1x64xbf16>, tensor<1xi32>
  %kr = mkg.rope %k, %pos {head_dim = 16 : i64, theta = 5.0e+05 : f32, layer = 0 : i64} : tensor<1x32xbf16>, tensor<1xi32>
  %c = mkg.kv_append %kr, %v {layer = 0 : i64} : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  %a = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, layer = 0 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  %wo = mkg.weight "model.layers.0.self_attn.o_proj.weight" : tensor<64x64xbf16>
  %o = mkg.linear %a, %wo {layer = 0 : i64} : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %h1 = mkg.add %h0, %o {layer = 0 : i64} : tensor<1x64xbf16>
  %pln = mkg.weight "model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
  %n2 = mkg.rms_norm %h1, %pln {eps = 1.0e-05 : f32, layer = 0 : i64} : tensor<1x64xbf16>, tensor<64xbf16>
  %wg = mkg.weight "model.layers.0.mlp.gate_proj.weight" : tensor<128x64xbf16>
  %wu = mkg.weight "model.layers.0.mlp.up_proj.weight" : tensor<128x64xbf16>
  %g = mkg.linear %n2, %wg {layer = 0 : i64} : tensor<1x64xbf16>, tensor<128x64xbf16> -> tensor<1x128xbf16>
  %u = mkg.linear %n2, %wu {layer = 0 : i64} : tensor<1x64xbf16>, tensor<128x64xbf16> -> tensor<1x128xbf16>
  %m = mkg.silu_mul %g, %u {layer = 0 : i64} : tensor<1x128xbf16>
  %wd = mkg.weight "model.layers.0.mlp.down_proj.weight" : tensor<64x128xbf16>
  %d = mkg.linear %m, %wd {layer = 0 : i64} : tensor<1x128xbf16>, tensor<64x128xbf16> -> tensor<1x64xbf16>
  %h2 = mkg.add %h1, %d {layer = 0 : i64} : tensor<1x64xbf16>
  %fn = mkg.weight "model.norm.weight" : tensor<64xbf16>
  %nf = mkg.rms_norm %h2, %fn {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wlm = mkg.weight "lm_head.weight" : tensor<256x64xbf16>
  %logits = mkg.linear %nf, %wlm : tensor<1x64xbf16>, tensor<256x64xbf16> -> tensor<1x256xf32>
  %t = mkg.argmax %logits : tensor<1x256xf32> -> tensor<1xi32>
  return %t : tensor<1xi32>
}

// Qwen2: q/k/v biases go into mkg.qkv; a prefill chunk of 4 rows in layer 3.

// CHECK-LABEL: func.func @qwen2_bias
// CHECK-SAME: (%[[H:.+]]: tensor<4x64xbf16>, %[[POS:.+]]: tensor<4xi32>)
// CHECK-DAG: %[[LN:.+]] = mkg.weight "model.layers.3.input_layernorm.weight"
// CHECK-DAG: %[[WQ:.+]] = mkg.weight "model.layers.3.self_attn.q_proj.weight"
// CHECK-DAG: %[[WK:.+]] = mkg.weight "model.layers.3.self_attn.k_proj.weight"
// CHECK-DAG: %[[WV:.+]] = mkg.weight "model.layers.3.self_attn.v_proj.weight"
// CHECK-DAG: %[[BQ:.+]] = mkg.weight "model.layers.3.self_attn.q_proj.bias"
// CHECK-DAG: %[[BK:.+]] = mkg.weight "model.layers.3.self_attn.k_proj.bias"
// CHECK-DAG: %[[BV:.+]] = mkg.weight "model.layers.3.self_attn.v_proj.bias"
// CHECK: %[[Q:.+]], %[[CACHE:.+]] = mkg.qkv %[[H]] norm(%[[LN]]) weights(%[[WQ]], %[[WK]], %[[WV]]) bias(%[[BQ]], %[[BK]], %[[BV]]) positions(%[[POS]])
// CHECK-SAME: eps = 9.99999997E-7 : f32, head_dim = 16 : i64, layer = 3 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 1.000000e+06 : f32}
// CHECK-SAME: -> (tensor<4x64xbf16>, !mkg.kv_cache<3>)
// CHECK: %[[A:.+]] = mkg.attention %[[Q]], %[[CACHE]]
// CHECK: return %[[A]]

// REMOVED-LABEL: func.func @qwen2_bias
// REMOVED-NOT: mkg.rms_norm
// REMOVED-NOT: mkg.linear
// REMOVED-NOT: mkg.rope
// REMOVED-NOT: mkg.kv_append
func.func @qwen2_bias(%h: tensor<4x64xbf16>, %pos: tensor<4xi32>) -> tensor<4x64xbf16> attributes {mkg.program = #mkg.program_kind<prefill>} {
  %ln = mkg.weight "model.layers.3.input_layernorm.weight" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-06 : f32} : tensor<4x64xbf16>, tensor<64xbf16>
  %wq = mkg.weight "model.layers.3.self_attn.q_proj.weight" : tensor<64x64xbf16>
  %bq = mkg.weight "model.layers.3.self_attn.q_proj.bias" : tensor<64xbf16>
  %wk = mkg.weight "model.layers.3.self_attn.k_proj.weight" : tensor<32x64xbf16>
  %bk = mkg.weight "model.layers.3.self_attn.k_proj.bias" : tensor<32xbf16>
  %wv = mkg.weight "model.layers.3.self_attn.v_proj.weight" : tensor<32x64xbf16>
  %bv = mkg.weight "model.layers.3.self_attn.v_proj.bias" : tensor<32xbf16>
  %q = mkg.linear %n, %wq bias(%bq : tensor<64xbf16>) : tensor<4x64xbf16>, tensor<64x64xbf16> -> tensor<4x64xbf16>
  %k = mkg.linear %n, %wk bias(%bk : tensor<32xbf16>) : tensor<4x64xbf16>, tensor<32x64xbf16> -> tensor<4x32xbf16>
  %v = mkg.linear %n, %wv bias(%bv : tensor<32xbf16>) : tensor<4x64xbf16>, tensor<32x64xbf16> -> tensor<4x32xbf16>
  %qr = mkg.rope %q, %pos {head_dim = 16 : i64, theta = 1.0e+06 : f32} : tensor<4x64xbf16>, tensor<4xi32>
  %kr = mkg.rope %k, %pos {head_dim = 16 : i64, theta = 1.0e+06 : f32} : tensor<4x32xbf16>, tensor<4xi32>
  %c = mkg.kv_append %kr, %v : tensor<4x32xbf16>, tensor<4x32xbf16> -> !mkg.kv_cache<3>
  %a = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<4x64xbf16>, !mkg.kv_cache<3> -> tensor<4x64xbf16>
  return %a : tensor<4x64xbf16>
}

// Qwen3: per-head QK-norm before RoPE becomes qk_norm(...) with qk_eps.

// CHECK-LABEL: func.func @qwen3_head_norm
// CHECK-SAME: (%[[H:.+]]: tensor<1x64xbf16>, %[[POS:.+]]: tensor<1xi32>)
// CHECK-DAG: %[[QN:.+]] = mkg.weight "model.layers.0.self_attn.q_norm.weight"
// CHECK-DAG: %[[KN:.+]] = mkg.weight "model.layers.0.self_attn.k_norm.weight"
// CHECK: %[[Q:.+]], %[[CACHE:.+]] = mkg.qkv %[[H]] norm(%{{.+}}) weights(%{{.+}}, %{{.+}}, %{{.+}}) qk_norm(%[[QN]], %[[KN]]) positions(%[[POS]])
// CHECK-SAME: eps = 9.99999997E-7 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, qk_eps = 9.99999997E-7 : f32, theta = 1.000000e+06 : f32}
// CHECK: %[[A:.+]] = mkg.attention %[[Q]], %[[CACHE]]
// CHECK: return %[[A]]

// REMOVED-LABEL: func.func @qwen3_head_norm
// REMOVED-NOT: mkg.rms_norm
// REMOVED-NOT: mkg.linear
// REMOVED-NOT: mkg.head_norm
// REMOVED-NOT: mkg.rope
// REMOVED-NOT: mkg.kv_append
func.func @qwen3_head_norm(%h: tensor<1x64xbf16>, %pos: tensor<1xi32>) -> tensor<1x64xbf16> attributes {mkg.program = #mkg.program_kind<decode>} {
  %ln = mkg.weight "model.layers.0.input_layernorm.weight" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-06 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wq = mkg.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
  %wk = mkg.weight "model.layers.0.self_attn.k_proj.weight" : tensor<32x64xbf16>
  %wv = mkg.weight "model.layers.0.self_attn.v_proj.weight" : tensor<32x64xbf16>
  %wqn = mkg.weight "model.layers.0.self_attn.q_norm.weight" : tensor<16xbf16>
  %wkn = mkg.weight "model.layers.0.self_attn.k_norm.weight" : tensor<16xbf16>
  %q = mkg.linear %n, %wq : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %k = mkg.linear %n, %wk : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %v = mkg.linear %n, %wv : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %qn = mkg.head_norm %q, %wqn {head_dim = 16 : i64, eps = 1.0e-06 : f32} : tensor<1x64xbf16>, tensor<16xbf16>
  %kn = mkg.head_norm %k, %wkn {head_dim = 16 : i64, eps = 1.0e-06 : f32} : tensor<1x32xbf16>, tensor<16xbf16>
  %qr = mkg.rope %qn, %pos {head_dim = 16 : i64, theta = 1.0e+06 : f32} : tensor<1x64xbf16>, tensor<1xi32>
  %kr = mkg.rope %kn, %pos {head_dim = 16 : i64, theta = 1.0e+06 : f32} : tensor<1x32xbf16>, tensor<1xi32>
  %c = mkg.kv_append %kr, %v : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  %a = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return %a : tensor<1x64xbf16>
}

// Interleaved RoPE and Llama 3 frequency scaling are carried over from the ropes.

// CHECK-LABEL: func.func @interleaved_llama3_rope
// CHECK: mkg.qkv
// CHECK-SAME: interleaved
// CHECK-SAME: llama3_scaling = array<f32: 8.000000e+00, 1.000000e+00, 4.000000e+00, 8.192000e+03>
// CHECK-SAME: theta = 5.000000e+05 : f32

// REMOVED-LABEL: func.func @interleaved_llama3_rope
// REMOVED-NOT: mkg.rope
func.func @interleaved_llama3_rope(%h: tensor<1x64xbf16>, %pos: tensor<1xi32>) -> tensor<1x64xbf16> attributes {mkg.program = #mkg.program_kind<decode>} {
  %ln = mkg.weight "model.layers.0.input_layernorm.weight" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wq = mkg.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
  %wk = mkg.weight "model.layers.0.self_attn.k_proj.weight" : tensor<32x64xbf16>
  %wv = mkg.weight "model.layers.0.self_attn.v_proj.weight" : tensor<32x64xbf16>
  %q = mkg.linear %n, %wq : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %k = mkg.linear %n, %wk : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %v = mkg.linear %n, %wv : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %qr = mkg.rope %q, %pos {head_dim = 16 : i64, interleaved, llama3_scaling = array<f32: 8.0, 1.0, 4.0, 8192.0>, theta = 5.0e+05 : f32} : tensor<1x64xbf16>, tensor<1xi32>
  %kr = mkg.rope %k, %pos {head_dim = 16 : i64, interleaved, llama3_scaling = array<f32: 8.0, 1.0, 4.0, 8192.0>, theta = 5.0e+05 : f32} : tensor<1x32xbf16>, tensor<1xi32>
  %c = mkg.kv_append %kr, %v : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  %a = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  return %a : tensor<1x64xbf16>
}

// q and k ropes disagree on theta: no mkg.qkv, the ropes and the append stay, but the
// projections still take the norm prologue and the O projection the residual.

// CHECK-LABEL: func.func @rope_theta_mismatch
// CHECK-SAME: (%[[H:.+]]: tensor<1x64xbf16>, %[[POS:.+]]: tensor<1xi32>)
// CHECK: %[[LN:.+]] = mkg.weight "model.layers.0.input_layernorm.weight"
// CHECK: %[[WQ:.+]] = mkg.weight "model.layers.0.self_attn.q_proj.weight"
// CHECK: %[[WK:.+]] = mkg.weight "model.layers.0.self_attn.k_proj.weight"
// CHECK: %[[WV:.+]] = mkg.weight "model.layers.0.self_attn.v_proj.weight"
// CHECK: %[[Q:.+]] = mkg.linear %[[H]], %[[WQ]] norm(%[[LN]] : tensor<64xbf16>) {eps = 9.99999974E-6 : f32}
// CHECK: %[[K:.+]] = mkg.linear %[[H]], %[[WK]] norm(%[[LN]] : tensor<64xbf16>) {eps = 9.99999974E-6 : f32}
// CHECK: %[[V:.+]] = mkg.linear %[[H]], %[[WV]] norm(%[[LN]] : tensor<64xbf16>) {eps = 9.99999974E-6 : f32}
// CHECK: %[[QR:.+]] = mkg.rope %[[Q]], %[[POS]] {head_dim = 16 : i64, theta = 5.000000e+05 : f32}
// CHECK: %[[KR:.+]] = mkg.rope %[[K]], %[[POS]] {head_dim = 16 : i64, theta = 1.000000e+04 : f32}
// CHECK: %[[CACHE:.+]] = mkg.kv_append %[[KR]], %[[V]]
// CHECK: %[[A:.+]] = mkg.attention %[[QR]], %[[CACHE]]
// CHECK: %[[WO:.+]] = mkg.weight "model.layers.0.self_attn.o_proj.weight"
// CHECK: %[[O:.+]] = mkg.linear %[[A]], %[[WO]] residual(%[[H]] : tensor<1x64xbf16>)
// CHECK: return %[[O]]

// REMOVED-LABEL: func.func @rope_theta_mismatch
// REMOVED-NOT: mkg.qkv
// REMOVED-NOT: mkg.rms_norm
// REMOVED-NOT: mkg.add
func.func @rope_theta_mismatch(%h: tensor<1x64xbf16>, %pos: tensor<1xi32>) -> tensor<1x64xbf16> attributes {mkg.program = #mkg.program_kind<decode>} {
  %ln = mkg.weight "model.layers.0.input_layernorm.weight" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
  %wq = mkg.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
  %wk = mkg.weight "model.layers.0.self_attn.k_proj.weight" : tensor<32x64xbf16>
  %wv = mkg.weight "model.layers.0.self_attn.v_proj.weight" : tensor<32x64xbf16>
  %q = mkg.linear %n, %wq : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %k = mkg.linear %n, %wk : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %v = mkg.linear %n, %wv : tensor<1x64xbf16>, tensor<32x64xbf16> -> tensor<1x32xbf16>
  %qr = mkg.rope %q, %pos {head_dim = 16 : i64, theta = 5.0e+05 : f32} : tensor<1x64xbf16>, tensor<1xi32>
  %kr = mkg.rope %k, %pos {head_dim = 16 : i64, theta = 1.0e+04 : f32} : tensor<1x32xbf16>, tensor<1xi32>
  %c = mkg.kv_append %kr, %v : tensor<1x32xbf16>, tensor<1x32xbf16> -> !mkg.kv_cache<0>
  %a = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  %wo = mkg.weight "model.layers.0.self_attn.o_proj.weight" : tensor<64x64xbf16>
  %o = mkg.linear %a, %wo : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %h1 = mkg.add %h, %o : tensor<1x64xbf16>
  return %h1 : tensor<1x64xbf16>
}

// Both addends are single-use projections: the right one (the builders' `residual +
// projection` order) takes the left one as its residual.

// CHECK-LABEL: func.func @add_of_two_projections
// CHECK-SAME: (%[[X:.+]]: tensor<1x64xbf16>)
// CHECK: %[[WA:.+]] = mkg.weight "wa"
// CHECK: %[[WB:.+]] = mkg.weight "wb"
// CHECK: %[[A:.+]] = mkg.linear %[[X]], %[[WA]] : tensor<1x64xbf16>
// CHECK: %[[B:.+]] = mkg.linear %[[X]], %[[WB]] residual(%[[A]] : tensor<1x64xbf16>)
// CHECK: return %[[B]]

// REMOVED-LABEL: func.func @add_of_two_projections
// REMOVED-NOT: mkg.add
func.func @add_of_two_projections(%x: tensor<1x64xbf16>) -> tensor<1x64xbf16> {
  %wa = mkg.weight "wa" : tensor<64x64xbf16>
  %wb = mkg.weight "wb" : tensor<64x64xbf16>
  %a = mkg.linear %x, %wa : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %b = mkg.linear %x, %wb : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %s = mkg.add %a, %b : tensor<1x64xbf16>
  return %s : tensor<1x64xbf16>
}

// A projection of a value that is not an rms_norm keeps its input, and an add whose
// projection has another user keeps the add: the projection's result must survive.

// CHECK-LABEL: func.func @linear_without_norm_left_alone
// CHECK-SAME: (%[[X:.+]]: tensor<1x64xbf16>, %[[R:.+]]: tensor<1x64xbf16>)
// CHECK: %[[W:.+]] = mkg.weight "w"
// CHECK: %[[Y:.+]] = mkg.linear %[[X]], %[[W]] : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
// CHECK: %[[S:.+]] = mkg.add %[[R]], %[[Y]]
// CHECK: return %[[S]], %[[Y]]

// Ends the previous REMOVED block.
// REMOVED-LABEL: func.func @linear_without_norm_left_alone
func.func @linear_without_norm_left_alone(%x: tensor<1x64xbf16>, %r: tensor<1x64xbf16>) -> (tensor<1x64xbf16>, tensor<1x64xbf16>) {
  %w = mkg.weight "w" : tensor<64x64xbf16>
  %y = mkg.linear %x, %w : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %s = mkg.add %r, %y : tensor<1x64xbf16>
  return %s, %y : tensor<1x64xbf16>, tensor<1x64xbf16>
}

// The MLP half of a mixture-of-experts layer as the builder emits it (2 experts of
// intermediate 32, top-1): the norm becomes the block's prologue and the residual add
// its epilogue, whichever side of the add the block is on.
// CHECK-LABEL: func.func @moe_layer
// CHECK-SAME: (%[[H:[^:]+]]: tensor<2x64xbf16>)
// CHECK: %[[PLN:.+]] = mkg.weight "model.layers.4.post_attention_layernorm.weight"
// CHECK: %[[WR:.+]] = mkg.weight "model.layers.4.mlp.gate.weight"
// CHECK: %[[Y:.+]] = mkg.moe %[[H]] router(%[[WR]]) gate(%[[G0:.+]], %[[G1:.+]]) up(%[[U0:.+]], %[[U1:.+]]) down(%[[D0:.+]], %[[D1:.+]]) norm(%[[PLN]]) residual(%[[H]]) {eps = 9.99999997E-7 : f32, layer = 4 : i64, norm_topk_prob, num_experts = 2 : i64, top_k = 1 : i64}
// CHECK: %[[Z:.+]] = mkg.moe %[[Y]] router(%[[WR]]) gate(%[[G0]], %[[G1]]) up(%[[U0]], %[[U1]]) down(%[[D0]], %[[D1]]) norm(%[[PLN]]) residual(%[[Y]]) {eps = 9.99999997E-7 : f32, layer = 4 : i64, num_experts = 2 : i64, top_k = 2 : i64}
// CHECK: return %[[Z]]
// REMOVED-LABEL: func.func @moe_layer
// REMOVED-NOT: mkg.rms_norm
// REMOVED-NOT: mkg.add
func.func @moe_layer(%h: tensor<2x64xbf16>) -> tensor<2x64xbf16> {
  %pln = mkg.weight "model.layers.4.post_attention_layernorm.weight" : tensor<64xbf16>
  %n = mkg.rms_norm %h, %pln {eps = 1.0e-06 : f32, layer = 4 : i64} : tensor<2x64xbf16>, tensor<64xbf16>
  %wr = mkg.weight "model.layers.4.mlp.gate.weight" : tensor<2x64xbf16>
  %g0 = mkg.weight "model.layers.4.mlp.experts.0.gate_proj.weight" : tensor<32x64xbf16>
  %g1 = mkg.weight "model.layers.4.mlp.experts.1.gate_proj.weight" : tensor<32x64xbf16>
  %u0 = mkg.weight "model.layers.4.mlp.experts.0.up_proj.weight" : tensor<32x64xbf16>
  %u1 = mkg.weight "model.layers.4.mlp.experts.1.up_proj.weight" : tensor<32x64xbf16>
  %d0 = mkg.weight "model.layers.4.mlp.experts.0.down_proj.weight" : tensor<64x32xbf16>
  %d1 = mkg.weight "model.layers.4.mlp.experts.1.down_proj.weight" : tensor<64x32xbf16>
  %m = mkg.moe %n router(%wr) gate(%g0, %g1) up(%u0, %u1) down(%d0, %d1)
      {layer = 4 : i64, norm_topk_prob, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x64xbf16>
  %y = mkg.add %h, %m {layer = 4 : i64} : tensor<2x64xbf16>
  %n2 = mkg.rms_norm %y, %pln {eps = 1.0e-06 : f32, layer = 4 : i64} : tensor<2x64xbf16>, tensor<64xbf16>
  %m2 = mkg.moe %n2 router(%wr) gate(%g0, %g1) up(%u0, %u1) down(%d0, %d1)
      {layer = 4 : i64, num_experts = 2 : i64, top_k = 2 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x64xbf16>
  %z = mkg.add %m2, %y {layer = 4 : i64} : tensor<2x64xbf16>
  return %z : tensor<2x64xbf16>
}
