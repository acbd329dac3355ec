// RUN: mk-opt %s -mk-tile="target=host max-seq-len=64" | FileCheck %s

// Tasks take their layer from the graph op's `layer` attribute, not from the op's
// place in the function: this program has no mkg.qkv before its MLP block, whose ops
// are in layer 5 (hidden 64, intermediate 128, vocab 256, batch 2).

// CHECK-DAG: mkt.tensor @decode.l5.mlp activation tensor<2x128xbf16> {program = @decode}
// CHECK-DAG: mkt.tensor @decode.l5.h_mlp activation tensor<2x64xbf16> {program = @decode}
// CHECK-LABEL: mkt.program @decode decode rows(2) {
// CHECK-NEXT: mkt.task @embedding.0 embedding tile
// CHECK-NEXT: mkt.task @l5.gate_up.0 gate_up layer(5) tile [0, 2, 0, 32, 0, 0]
// CHECK-SAME: operands = [@decode.h0, @w.ln, @w.wg, @w.wu, @decode.l5.mlp]
// CHECK-NEXT: mkt.task @l5.gate_up.1 gate_up layer(5)
// CHECK-NEXT: mkt.task @l5.gate_up.2 gate_up layer(5)
// CHECK-NEXT: mkt.task @l5.gate_up.3 gate_up layer(5)
// CHECK-NEXT: mkt.task @l5.down_proj.0 down_proj layer(5) tile [0, 2, 0, 32, 0, 0]
// CHECK-SAME: operands = [@decode.l5.mlp, @w.wd, @decode.h0, @decode.l5.h_mlp]
// CHECK-NEXT: mkt.task @l5.down_proj.1 down_proj layer(5)
// CHECK-NEXT: mkt.task @lm_head.0 lm_head tile
func.func @decode(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2xi32> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "emb" : tensor<256x64xbf16>
  %h0 = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %wg = mkg.weight "wg" : tensor<128x64xbf16>
  %wu = mkg.weight "wu" : tensor<128x64xbf16>
  %m = mkg.gated_mlp %h0 norm(%ln) weights(%wg, %wu) {eps = 1.0e-05 : f32, layer = 5 : i64} : (tensor<2x64xbf16>, tensor<64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>) -> tensor<2x128xbf16>
  %wd = mkg.weight "wd" : tensor<64x128xbf16>
  %h1 = mkg.linear %m, %wd residual(%h0 : tensor<2x64xbf16>) {layer = 5 : i64} : tensor<2x128xbf16>, tensor<64x128xbf16> -> tensor<2x64xbf16>
  %fn = mkg.weight "norm" : tensor<64xbf16>
  %logits = mkg.linear %h1, %emb norm(%fn : tensor<64xbf16>) {eps = 1.0e-05 : f32} : tensor<2x64xbf16>, tensor<256x64xbf16> -> tensor<2x256xf32>
  %next = mkg.argmax %logits : tensor<2x256xf32> -> tensor<2xi32>
  return %next : tensor<2xi32>
}
