// RUN: mk-opt %s | mk-opt | FileCheck %s
// RUN: mk-opt %s -mlir-print-op-generic | mk-opt | FileCheck %s

// Every mkg op in its plain and fused forms, with and without its optional parts
// (`layer` among them), and both program kinds.

// CHECK-LABEL: func.func @plain_ops
// CHECK-SAME: (%[[TOKENS:.+]]: tensor<2xi32>, %[[POS:.+]]: tensor<2xi32>)
// CHECK-SAME: attributes {mkg.program = #mkg.program_kind<decode>}
func.func @plain_ops(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2xi32> attributes {mkg.program = #mkg.program_kind<decode>} {
  // CHECK: %[[EMB:.+]] = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  // CHECK: %[[H:.+]] = mkg.embedding %[[TOKENS]], %[[EMB]] : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  // CHECK: %[[LN:.+]] = mkg.weight "ln" : tensor<64xbf16>
  %ln = mkg.weight "ln" : tensor<64xbf16>
  // CHECK: %[[N:.+]] = mkg.rms_norm %[[H]], %[[LN]] {eps = 9.99999974E-6 : f32, layer = 7 : i64} : tensor<2x64xbf16>, tensor<64xbf16>
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32, layer = 7 : i64} : tensor<2x64xbf16>, tensor<64xbf16>
  %wq = mkg.weight "wq" : tensor<64x64xbf16>
  %wk = mkg.weight "wk" : tensor<32x64xbf16>
  %bk = mkg.weight "bk" : tensor<32xbf16>
  %wqn = mkg.weight "q_norm" : tensor<16xbf16>
  // CHECK: %[[Q:.+]] = mkg.linear %[[N]], %{{.+}} : tensor<2x64xbf16>, tensor<64x64xbf16> -> tensor<2x64xbf16>
  %q = mkg.linear %n, %wq : tensor<2x64xbf16>, tensor<64x64xbf16> -> tensor<2x64xbf16>
  // CHECK: %[[K:.+]] = mkg.linear %[[N]], %{{.+}} bias(%{{.+}} : tensor<32xbf16>) {layer = 7 : i64} : tensor<2x64xbf16>, tensor<32x64xbf16> -> tensor<2x32xbf16>
  %k = mkg.linear %n, %wk bias(%bk : tensor<32xbf16>) {layer = 7 : i64} : tensor<2x64xbf16>, tensor<32x64xbf16> -> tensor<2x32xbf16>
  // CHECK: %[[QN:.+]] = mkg.head_norm %[[Q]], %{{.+}} {eps = 9.99999997E-7 : f32, head_dim = 16 : i64, layer = 7 : i64} : tensor<2x64xbf16>, tensor<16xbf16>
  %qn = mkg.head_norm %q, %wqn {head_dim = 16 : i64, eps = 1.0e-06 : f32, layer = 7 : i64} : tensor<2x64xbf16>, tensor<16xbf16>
  // CHECK: %[[QR:.+]] = mkg.rope %[[QN]], %[[POS]] {head_dim = 16 : i64, layer = 7 : i64, theta = 1.000000e+04 : f32} : tensor<2x64xbf16>, tensor<2xi32>
  %qr = mkg.rope %qn, %pos {head_dim = 16 : i64, layer = 7 : i64, theta = 1.0e+04 : f32} : tensor<2x64xbf16>, tensor<2xi32>
  // CHECK: %[[KR:.+]] = mkg.rope %[[K]], %[[POS]] {head_dim = 16 : i64, interleaved, llama3_scaling = array<f32: 8.000000e+00, 1.000000e+00, 4.000000e+00, 8.192000e+03>, theta = 5.000000e+05 : f32} : tensor<2x32xbf16>, tensor<2xi32>
  %kr = mkg.rope %k, %pos {head_dim = 16 : i64, interleaved, llama3_scaling = array<f32: 8.0, 1.0, 4.0, 8192.0>, theta = 5.0e+05 : f32} : tensor<2x32xbf16>, tensor<2xi32>
  // CHECK: %[[C:.+]] = mkg.kv_append %[[KR]], %[[K]] {layer = 7 : i64} : tensor<2x32xbf16>, tensor<2x32xbf16> -> {{(!mkg.kv_cache)?}}<7>
  %c = mkg.kv_append %kr, %k {layer = 7 : i64} : tensor<2x32xbf16>, tensor<2x32xbf16> -> !mkg.kv_cache<7>
  // CHECK: %[[A:.+]] = mkg.attention %[[QR]], %[[C]] {head_dim = 16 : i64, layer = 7 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64} : tensor<2x64xbf16>, {{(!mkg.kv_cache)?}}<7> -> tensor<2x64xbf16>
  %a = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, layer = 7 : i64} : tensor<2x64xbf16>, !mkg.kv_cache<7> -> tensor<2x64xbf16>
  // CHECK: %[[AW:.+]] = mkg.attention %[[QR]], %[[C]] {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, sliding_window = 4096 : i64}
  %aw = mkg.attention %qr, %c {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, sliding_window = 4096 : i64} : tensor<2x64xbf16>, !mkg.kv_cache<7> -> tensor<2x64xbf16>
  // CHECK: %[[S:.+]] = mkg.add %[[A]], %[[AW]] {layer = 7 : i64} : tensor<2x64xbf16>
  %s = mkg.add %a, %aw {layer = 7 : i64} : tensor<2x64xbf16>
  // CHECK: %[[M:.+]] = mkg.silu_mul %[[S]], %[[H]] {layer = 7 : i64} : tensor<2x64xbf16>
  %m = mkg.silu_mul %s, %h {layer = 7 : i64} : tensor<2x64xbf16>
  %wlm = mkg.weight "lm_head.weight" : tensor<256x64xbf16>
  // CHECK: %[[L:.+]] = mkg.linear %[[M]], %{{.+}} : tensor<2x64xbf16>, tensor<256x64xbf16> -> tensor<2x256xf32>
  %logits = mkg.linear %m, %wlm : tensor<2x64xbf16>, tensor<256x64xbf16> -> tensor<2x256xf32>
  // CHECK: %[[T:.+]] = mkg.argmax %[[L]] : tensor<2x256xf32> -> tensor<2xi32>
  %t = mkg.argmax %logits : tensor<2x256xf32> -> tensor<2xi32>
  // CHECK: return %[[T]]
  return %t : tensor<2xi32>
}

// CHECK-LABEL: func.func @fused_ops
// CHECK-SAME: (%[[H:.+]]: tensor<1x64xbf16>, %[[POS:.+]]: tensor<1xi32>)
// CHECK-SAME: attributes {mkg.program = #mkg.program_kind<prefill>}
func.func @fused_ops(%h: tensor<1x64xbf16>, %pos: tensor<1xi32>) -> tensor<1x64xbf16> attributes {mkg.program = #mkg.program_kind<prefill>} {
  // CHECK: %[[LN:.+]] = mkg.weight "ln"
  %ln = mkg.weight "ln" : tensor<64xbf16>
  // CHECK: %[[WQ:.+]] = mkg.weight "wq"
  %wq = mkg.weight "wq" : tensor<64x64xbf16>
  // CHECK: %[[WK:.+]] = mkg.weight "wk"
  %wk = mkg.weight "wk" : tensor<32x64xbf16>
  // CHECK: %[[WV:.+]] = mkg.weight "wv"
  %wv = mkg.weight "wv" : tensor<32x64xbf16>
  // CHECK: %[[BQ:.+]] = mkg.weight "bq"
  %bq = mkg.weight "bq" : tensor<64xbf16>
  // CHECK: %[[BK:.+]] = mkg.weight "bk"
  %bk = mkg.weight "bk" : tensor<32xbf16>
  // CHECK: %[[BV:.+]] = mkg.weight "bv"
  %bv = mkg.weight "bv" : tensor<32xbf16>
  // CHECK: %[[QN:.+]] = mkg.weight "q_norm"
  %qn = mkg.weight "q_norm" : tensor<16xbf16>
  // CHECK: %[[KN:.+]] = mkg.weight "k_norm"
  %kn = mkg.weight "k_norm" : tensor<16xbf16>

  // CHECK: %[[Q0:.+]], %[[C0:.+]] = mkg.qkv %[[H]] norm(%[[LN]]) weights(%[[WQ]], %[[WK]], %[[WV]]) positions(%[[POS]]) {eps = 9.99999974E-6 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, theta = 5.000000e+05 : f32} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  %q0, %c0 = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wv) positions(%pos)
      {eps = 1.0e-05 : f32, head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64,
       num_kv_heads = 2 : i64, theta = 5.0e+05 : f32}
      : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<0>)
  // CHECK: %[[Q1:.+]], %[[C1:.+]] = mkg.qkv %[[H]] norm(%[[LN]]) weights(%[[WQ]], %[[WK]], %[[WV]]) bias(%[[BQ]], %[[BK]], %[[BV]]) qk_norm(%[[QN]], %[[KN]]) positions(%[[POS]]) {eps = 9.99999974E-6 : f32, head_dim = 16 : i64, interleaved, layer = 1 : i64, llama3_scaling = array<f32: 8.000000e+00, 1.000000e+00, 4.000000e+00, 8.192000e+03>, num_heads = 4 : i64, num_kv_heads = 2 : i64, qk_eps = 9.99999997E-7 : f32, theta = 5.000000e+05 : f32}
  // CHECK-SAME: -> (tensor<1x64xbf16>, !mkg.kv_cache<1>)
  %q1, %c1 = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wv) bias(%bq, %bk, %bv) qk_norm(%qn, %kn) positions(%pos)
      {eps = 1.0e-05 : f32, head_dim = 16 : i64, interleaved, layer = 1 : i64,
       llama3_scaling = array<f32: 8.0, 1.0, 4.0, 8192.0>, num_heads = 4 : i64,
       num_kv_heads = 2 : i64, qk_eps = 1.0e-06 : f32, theta = 5.0e+05 : f32}
      : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<64x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64xbf16>, tensor<32xbf16>, tensor<32xbf16>, tensor<16xbf16>, tensor<16xbf16>, tensor<1xi32>) -> (tensor<1x64xbf16>, !mkg.kv_cache<1>)
  // CHECK: %[[A0:.+]] = mkg.attention %[[Q0]], %[[C0]]
  %a0 = mkg.attention %q0, %c0 {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<0> -> tensor<1x64xbf16>
  // CHECK: %[[A1:.+]] = mkg.attention %[[Q1]], %[[C1]]
  %a1 = mkg.attention %q1, %c1 {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<1x64xbf16>, !mkg.kv_cache<1> -> tensor<1x64xbf16>

  // CHECK: %[[WO:.+]] = mkg.weight "wo"
  %wo = mkg.weight "wo" : tensor<64x64xbf16>
  // CHECK: %[[BO:.+]] = mkg.weight "bo"
  %bo = mkg.weight "bo" : tensor<64xbf16>
  // CHECK: %[[O:.+]] = mkg.linear %[[A0]], %[[WO]] residual(%[[H]] : tensor<1x64xbf16>) {layer = 0 : i64} : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %o = mkg.linear %a0, %wo residual(%h : tensor<1x64xbf16>) {layer = 0 : i64} : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  // CHECK: %[[P:.+]] = mkg.linear %[[A1]], %[[WO]] norm(%[[LN]] : tensor<64xbf16>) bias(%[[BO]] : tensor<64xbf16>) residual(%[[O]] : tensor<1x64xbf16>) {eps = 9.99999974E-6 : f32} : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
  %p = mkg.linear %a1, %wo norm(%ln : tensor<64xbf16>) bias(%bo : tensor<64xbf16>) residual(%o : tensor<1x64xbf16>) {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>

  // CHECK: %[[WG:.+]] = mkg.weight "wg"
  %wg = mkg.weight "wg" : tensor<128x64xbf16>
  // CHECK: %[[WU:.+]] = mkg.weight "wu"
  %wu = mkg.weight "wu" : tensor<128x64xbf16>
  // CHECK: %[[M:.+]] = mkg.gated_mlp %[[P]] norm(%[[LN]]) weights(%[[WG]], %[[WU]]) {eps = 9.99999974E-6 : f32, layer = 1 : i64} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>) -> tensor<1x128xbf16>
  %m = mkg.gated_mlp %p norm(%ln) weights(%wg, %wu) {eps = 1.0e-05 : f32, layer = 1 : i64} : (tensor<1x64xbf16>, tensor<64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>) -> tensor<1x128xbf16>
  %wd = mkg.weight "wd" : tensor<64x128xbf16>
  // CHECK: %[[D:.+]] = mkg.linear %[[M]], %{{.+}} residual(%[[P]] : tensor<1x64xbf16>)
  %d = mkg.linear %m, %wd residual(%p : tensor<1x64xbf16>) : tensor<1x128xbf16>, tensor<64x128xbf16> -> tensor<1x64xbf16>
  // CHECK: return %[[D]]
  return %d : tensor<1x64xbf16>
}

// The mixture-of-experts block: plain (the builder's form, on the normed input) and
// fused (norm prologue and residual epilogue, what mk-tile lowers). Experts are listed
// in order, one weight of each group per expert.
// CHECK-LABEL: func.func @moe
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x64xbf16>
func.func @moe(%x: tensor<2x64xbf16>, %ln: tensor<64xbf16>, %wr: tensor<2x64xbf16>,
               %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>,
               %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>,
               %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>) -> tensor<2x64xbf16> {
  // CHECK: %[[P:.+]] = mkg.moe %[[X]] router(%{{.+}}) gate(%[[G0:.+]], %[[G1:.+]]) up(%[[U0:.+]], %[[U1:.+]]) down(%[[D0:.+]], %[[D1:.+]]) {layer = 3 : i64, num_experts = 2 : i64, top_k = 1 : i64} : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x64xbf16>
  %p = mkg.moe %x router(%wr) gate(%g0, %g1) up(%u0, %u1) down(%d0, %d1)
      {layer = 3 : i64, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x64xbf16>
  // CHECK: %[[F:.+]] = mkg.moe %[[P]] router(%{{.+}}) gate(%[[G0]], %[[G1]]) up(%[[U0]], %[[U1]]) down(%[[D0]], %[[D1]]) norm(%{{.+}}) residual(%[[P]]) {eps = 9.99999974E-6 : f32, layer = 3 : i64, norm_topk_prob, num_experts = 2 : i64, top_k = 2 : i64}
  // CHECK-SAME: tensor<64xbf16>, tensor<2x64xbf16>) -> tensor<2x64xbf16>
  %f = mkg.moe %p router(%wr) gate(%g0, %g1) up(%u0, %u1) down(%d0, %d1) norm(%ln) residual(%p)
      {eps = 1.0e-05 : f32, layer = 3 : i64, norm_topk_prob, num_experts = 2 : i64, top_k = 2 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64xbf16>, tensor<2x64xbf16>) -> tensor<2x64xbf16>
  // CHECK: mkg.moe %[[F]] {{.*}} residual(%[[X]]) {layer = 0 : i64, num_experts = 2 : i64, top_k = 1 : i64}
  %r = mkg.moe %f router(%wr) gate(%g0, %g1) up(%u0, %u1) down(%d0, %d1) residual(%x)
      {layer = 0 : i64, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<2x64xbf16>) -> tensor<2x64xbf16>
  return %r : tensor<2x64xbf16>
}
