// RUN: mk-opt %s -mk-tile="target=host max-seq-len=64" | FileCheck %s
// RUN: mk-opt %s -mk-tile="target=host max-seq-len=64" -mk-scoreboard -mk-schedule -mk-plan-memory | FileCheck %s --check-prefix=DEPS

// One fused mixture-of-experts layer (hidden 64, 4 experts of intermediate 128, top-2,
// renormalized) between the embedding and a tied LM head, as mk-fuse leaves it: a decode program of 1 row and
// a prefill program of 4. Slots: Smax = min(E, R k) = 2 for decode, 4 for prefill.
// Host tile sizes: gate/up tiles of 32 intermediate columns (4 per slot), down and
// combine tiles of 32 hidden columns (2 per slot).

// The expert groups are consecutive weight tensors in expert order (expert e of a
// group is the first one's id + e); the activations of the layer are per program.
// CHECK:      mkt.tensor @w.model.layers.0.mlp.gate.weight weight tensor<4x64xbf16>
// CHECK-NEXT: mkt.tensor [[G0:@w.model.layers.0.mlp.experts.0.gate_proj.weight]] weight tensor<128x64xbf16>
// CHECK-NEXT: mkt.tensor @w.model.layers.0.mlp.experts.1.gate_proj.weight
// CHECK-NEXT: mkt.tensor @w.model.layers.0.mlp.experts.2.gate_proj.weight
// CHECK-NEXT: mkt.tensor @w.model.layers.0.mlp.experts.3.gate_proj.weight
// CHECK-NEXT: mkt.tensor [[U0:@w.model.layers.0.mlp.experts.0.up_proj.weight]] weight tensor<128x64xbf16>
// CHECK-NEXT: mkt.tensor @w.model.layers.0.mlp.experts.1.up_proj.weight
// CHECK-NEXT: mkt.tensor @w.model.layers.0.mlp.experts.2.up_proj.weight
// CHECK-NEXT: mkt.tensor @w.model.layers.0.mlp.experts.3.up_proj.weight
// CHECK-NEXT: mkt.tensor [[D0:@w.model.layers.0.mlp.experts.0.down_proj.weight]] weight tensor<64x128xbf16>
// CHECK-NEXT: mkt.tensor @w.model.layers.0.mlp.experts.1.down_proj.weight
// CHECK-NEXT: mkt.tensor @w.model.layers.0.mlp.experts.2.down_proj.weight
// CHECK-NEXT: mkt.tensor @w.model.layers.0.mlp.experts.3.down_proj.weight
// routes: 1 + 2 Smax + Smax R + 2 R k = 1 + 4 + 2 + 4 = 11 (decode), 1 + 8 + 16 + 16 = 41.
// CHECK-NEXT: mkt.tensor @decode.l0.moe_xg activation tensor<2x1x64xbf16> {program = @decode}
// CHECK-NEXT: mkt.tensor @decode.l0.moe_routes activation tensor<11xi32> {program = @decode}
// CHECK-NEXT: mkt.tensor @decode.l0.moe_route_weights activation tensor<1x2xf32> {program = @decode}
// CHECK-NEXT: mkt.tensor @decode.l0.moe_act activation tensor<2x1x128xbf16> {program = @decode}
// CHECK-NEXT: mkt.tensor @decode.l0.moe_expert_out activation tensor<2x1x64xbf16> {program = @decode}
// CHECK-NEXT: mkt.tensor @decode.l0.h_mlp activation tensor<1x64xbf16> {program = @decode}
// CHECK:      mkt.tensor @prefill.l0.moe_xg activation tensor<4x4x64xbf16> {program = @prefill}
// CHECK-NEXT: mkt.tensor @prefill.l0.moe_routes activation tensor<41xi32> {program = @prefill}
// CHECK-NEXT: mkt.tensor @prefill.l0.moe_route_weights activation tensor<4x2xf32> {program = @prefill}
// CHECK-NEXT: mkt.tensor @prefill.l0.moe_act activation tensor<4x4x128xbf16> {program = @prefill}
// CHECK-NEXT: mkt.tensor @prefill.l0.moe_expert_out activation tensor<4x4x64xbf16> {program = @prefill}

// The router: every row, every expert (range[1] = [0, E)); it reads the router weight
// and the norm weight whole (its static footprint) and writes the layer's slot list.
// CHECK-LABEL: mkt.program @decode decode rows(1)
// CHECK:      mkt.task @l0.moe_router moe_router layer(0) tile [0, 1, 0, 4, 0, 0]
// CHECK-SAME: operands = [@decode.h0, @w.model.layers.0.post_attention_layernorm.weight, @w.model.layers.0.mlp.gate.weight, @decode.positions, @decode.l0.moe_xg, @decode.l0.moe_routes, @decode.l0.moe_route_weights]
// CHECK-SAME: reads = [#mkt.box<@decode.h0[0, 0] to[1, 64]>, #mkt.box<@w.model.layers.0.post_attention_layernorm.weight[0] to[64]>, #mkt.box<@w.model.layers.0.mlp.gate.weight[0, 0] to[4, 64]>, #mkt.box<@decode.positions[0] to[1]>]
// CHECK-SAME: writes = [#mkt.box<@decode.l0.moe_xg[0, 0, 0] to[2, 1, 64]>, #mkt.box<@decode.l0.moe_routes[0] to[11]>, #mkt.box<@decode.l0.moe_route_weights[0, 0] to[1, 2]>]

// Slot tiles: range[2] is the slot; operands name expert 0 of each group; no weight
// boxes (the expert is known after the router's event).
// CHECK-NEXT: mkt.task @l0.moe_gate_up.s0.0 moe_gate_up layer(0) tile [0, 1, 0, 32, 0, 1]
// CHECK-SAME: operands = [@decode.l0.moe_xg, @decode.l0.moe_routes, [[G0]], [[U0]], @decode.l0.moe_act]
// CHECK-SAME: reads = [#mkt.box<@decode.l0.moe_xg[0, 0, 0] to[1, 1, 64]>, #mkt.box<@decode.l0.moe_routes[0] to[11]>]
// CHECK-SAME: writes = [#mkt.box<@decode.l0.moe_act[0, 0, 0] to[1, 1, 32]>]
// CHECK-NEXT: mkt.task @l0.moe_gate_up.s0.1 moe_gate_up layer(0) tile [0, 1, 32, 64, 0, 1]
// CHECK-NEXT: mkt.task @l0.moe_gate_up.s0.2 moe_gate_up layer(0) tile [0, 1, 64, 96, 0, 1]
// CHECK-NEXT: mkt.task @l0.moe_gate_up.s0.3 moe_gate_up layer(0) tile [0, 1, 96, 128, 0, 1]
// CHECK-SAME: writes = [#mkt.box<@decode.l0.moe_act[0, 0, 96] to[1, 1, 128]>]
// CHECK-NEXT: mkt.task @l0.moe_down.s0.0 moe_down layer(0) tile [0, 1, 0, 32, 0, 1]
// CHECK-SAME: operands = [@decode.l0.moe_act, @decode.l0.moe_routes, [[D0]], @decode.l0.moe_expert_out]
// CHECK-SAME: reads = [#mkt.box<@decode.l0.moe_act[0, 0, 0] to[1, 1, 128]>, #mkt.box<@decode.l0.moe_routes[0] to[11]>]
// CHECK-SAME: writes = [#mkt.box<@decode.l0.moe_expert_out[0, 0, 0] to[1, 1, 32]>]
// CHECK-NEXT: mkt.task @l0.moe_down.s0.1 moe_down layer(0) tile [0, 1, 32, 64, 0, 1]
// CHECK-NEXT: mkt.task @l0.moe_gate_up.s1.0 moe_gate_up layer(0) tile [0, 1, 0, 32, 1, 2]
// CHECK-SAME: reads = [#mkt.box<@decode.l0.moe_xg[1, 0, 0] to[2, 1, 64]>
// CHECK:      mkt.task @l0.moe_down.s1.1 moe_down layer(0) tile [0, 1, 32, 64, 1, 2]
// CHECK-SAME: writes = [#mkt.box<@decode.l0.moe_expert_out[1, 0, 32] to[2, 1, 64]>]

// The combine: hidden columns of every slot's output, the routes and weights, and its
// columns of the residual.
// CHECK-NEXT: mkt.task @l0.moe_combine.0 moe_combine layer(0) tile [0, 1, 0, 32, 0, 0]
// CHECK-SAME: operands = [@decode.l0.moe_expert_out, @decode.l0.moe_routes, @decode.l0.moe_route_weights, @decode.h0, @decode.l0.h_mlp]
// CHECK-SAME: reads = [#mkt.box<@decode.l0.moe_expert_out[0, 0, 0] to[2, 1, 32]>, #mkt.box<@decode.l0.moe_routes[0] to[11]>, #mkt.box<@decode.l0.moe_route_weights[0, 0] to[1, 2]>, #mkt.box<@decode.h0[0, 0] to[1, 32]>]
// CHECK-SAME: writes = [#mkt.box<@decode.l0.h_mlp[0, 0] to[1, 32]>]
// CHECK-NEXT: mkt.task @l0.moe_combine.1 moe_combine layer(0) tile [0, 1, 32, 64, 0, 0]
// CHECK-NEXT: mkt.task @lm_head.0 lm_head

// Prefill: 4 slots of 4 rows each.
// CHECK-LABEL: mkt.program @prefill prefill rows(4)
// CHECK:      mkt.task @l0.moe_router moe_router layer(0) tile [0, 4, 0, 4, 0, 0]
// CHECK:      mkt.task @l0.moe_gate_up.s3.3 moe_gate_up layer(0) tile [0, 4, 96, 128, 3, 4]
// CHECK-SAME: reads = [#mkt.box<@prefill.l0.moe_xg[3, 0, 0] to[4, 4, 64]>, #mkt.box<@prefill.l0.moe_routes[0] to[41]>]
// CHECK:      mkt.task @l0.moe_down.s3.1 moe_down layer(0) tile [0, 4, 32, 64, 3, 4]
// CHECK:      mkt.task @l0.moe_combine.1 moe_combine layer(0) tile [0, 4, 32, 64, 0, 0]
// CHECK-SAME: reads = [#mkt.box<@prefill.l0.moe_expert_out[0, 0, 32] to[4, 4, 64]>

// Dependencies: the slot tiles wait for the router, a slot's down tiles for all of its
// gate/up tiles, and each combine tile for the down tile of its columns in every slot.
// DEPS-LABEL: mkt.program @decode
// DEPS-DAG: mkt.event @ev.l0.moe_router count(1)
// DEPS-DAG: mkt.event @ev.l0.moe_gate_up.s0.0 count(4)
// DEPS-DAG: mkt.event @ev.l0.moe_down.s0.0 count(2)
// DEPS: mkt.task @l0.moe_router {{.*}}signals = [@ev.l0.moe_router]
// DEPS: mkt.task @l0.moe_gate_up.s0.0 {{.*}}signals = [@ev.l0.moe_gate_up.s0.0], waits = [#mkt.wait<@ev.l0.moe_router, 1>]
// DEPS: mkt.task @l0.moe_down.s0.0 {{.*}}signals = [@ev.l0.moe_down.s0.0], waits = [#mkt.wait<@ev.l0.moe_gate_up.s0.0, 4>]
// DEPS: mkt.task @l0.moe_down.s1.0 {{.*}}signals = [@ev.l0.moe_down.s0.0], waits = [#mkt.wait<@ev.l0.moe_gate_up.s1.0, 4>]
// DEPS: mkt.task @l0.moe_combine.0 {{.*}}signals = [@ev.l0.moe_combine.0], waits = [#mkt.wait<@ev.l0.moe_down.s0.0, 2>]

func.func @decode(%tokens: tensor<1xi32>, %pos: tensor<1xi32>) -> tensor<1xi32> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<1xi32>, tensor<256x64xbf16>) -> tensor<1x64xbf16>
  %ln = mkg.weight "model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
  %wr = mkg.weight "model.layers.0.mlp.gate.weight" : tensor<4x64xbf16>
  %g0 = mkg.weight "model.layers.0.mlp.experts.0.gate_proj.weight" : tensor<128x64xbf16>
  %g1 = mkg.weight "model.layers.0.mlp.experts.1.gate_proj.weight" : tensor<128x64xbf16>
  %g2 = mkg.weight "model.layers.0.mlp.experts.2.gate_proj.weight" : tensor<128x64xbf16>
  %g3 = mkg.weight "model.layers.0.mlp.experts.3.gate_proj.weight" : tensor<128x64xbf16>
  %u0 = mkg.weight "model.layers.0.mlp.experts.0.up_proj.weight" : tensor<128x64xbf16>
  %u1 = mkg.weight "model.layers.0.mlp.experts.1.up_proj.weight" : tensor<128x64xbf16>
  %u2 = mkg.weight "model.layers.0.mlp.experts.2.up_proj.weight" : tensor<128x64xbf16>
  %u3 = mkg.weight "model.layers.0.mlp.experts.3.up_proj.weight" : tensor<128x64xbf16>
  %d0 = mkg.weight "model.layers.0.mlp.experts.0.down_proj.weight" : tensor<64x128xbf16>
  %d1 = mkg.weight "model.layers.0.mlp.experts.1.down_proj.weight" : tensor<64x128xbf16>
  %d2 = mkg.weight "model.layers.0.mlp.experts.2.down_proj.weight" : tensor<64x128xbf16>
  %d3 = mkg.weight "model.layers.0.mlp.experts.3.down_proj.weight" : tensor<64x128xbf16>
  %y = mkg.moe %h router(%wr) gate(%g0, %g1, %g2, %g3) up(%u0, %u1, %u2, %u3) down(%d0, %d1, %d2, %d3) norm(%ln) residual(%h)
      {eps = 1.0e-06 : f32, layer = 0 : i64, norm_topk_prob, num_experts = 4 : i64, top_k = 2 : i64}
      : (tensor<1x64xbf16>, tensor<4x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<64x128xbf16>, tensor<64x128xbf16>, tensor<64x128xbf16>, tensor<64x128xbf16>, tensor<64xbf16>, tensor<1x64xbf16>) -> tensor<1x64xbf16>
  %fn = mkg.weight "model.norm.weight" : tensor<64xbf16>
  %logits = mkg.linear %y, %emb norm(%fn : tensor<64xbf16>) {eps = 1.0e-06 : f32} : tensor<1x64xbf16>, tensor<256x64xbf16> -> tensor<1x256xf32>
  %next = mkg.argmax %logits : tensor<1x256xf32> -> tensor<1xi32>
  return %next : tensor<1xi32>
}

func.func @prefill(%tokens: tensor<4xi32>, %pos: tensor<4xi32>) -> tensor<4xi32> attributes {mkg.program = #mkg.program_kind<prefill>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<4xi32>, tensor<256x64xbf16>) -> tensor<4x64xbf16>
  %ln = mkg.weight "model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
  %wr = mkg.weight "model.layers.0.mlp.gate.weight" : tensor<4x64xbf16>
  %g0 = mkg.weight "model.layers.0.mlp.experts.0.gate_proj.weight" : tensor<128x64xbf16>
  %g1 = mkg.weight "model.layers.0.mlp.experts.1.gate_proj.weight" : tensor<128x64xbf16>
  %g2 = mkg.weight "model.layers.0.mlp.experts.2.gate_proj.weight" : tensor<128x64xbf16>
  %g3 = mkg.weight "model.layers.0.mlp.experts.3.gate_proj.weight" : tensor<128x64xbf16>
  %u0 = mkg.weight "model.layers.0.mlp.experts.0.up_proj.weight" : tensor<128x64xbf16>
  %u1 = mkg.weight "model.layers.0.mlp.experts.1.up_proj.weight" : tensor<128x64xbf16>
  %u2 = mkg.weight "model.layers.0.mlp.experts.2.up_proj.weight" : tensor<128x64xbf16>
  %u3 = mkg.weight "model.layers.0.mlp.experts.3.up_proj.weight" : tensor<128x64xbf16>
  %d0 = mkg.weight "model.layers.0.mlp.experts.0.down_proj.weight" : tensor<64x128xbf16>
  %d1 = mkg.weight "model.layers.0.mlp.experts.1.down_proj.weight" : tensor<64x128xbf16>
  %d2 = mkg.weight "model.layers.0.mlp.experts.2.down_proj.weight" : tensor<64x128xbf16>
  %d3 = mkg.weight "model.layers.0.mlp.experts.3.down_proj.weight" : tensor<64x128xbf16>
  %y = mkg.moe %h router(%wr) gate(%g0, %g1, %g2, %g3) up(%u0, %u1, %u2, %u3) down(%d0, %d1, %d2, %d3) norm(%ln) residual(%h)
      {eps = 1.0e-06 : f32, layer = 0 : i64, norm_topk_prob, num_experts = 4 : i64, top_k = 2 : i64}
      : (tensor<4x64xbf16>, tensor<4x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<64x128xbf16>, tensor<64x128xbf16>, tensor<64x128xbf16>, tensor<64x128xbf16>, tensor<64xbf16>, tensor<4x64xbf16>) -> tensor<4x64xbf16>
  %fn = mkg.weight "model.norm.weight" : tensor<64xbf16>
  %logits = mkg.linear %y, %emb norm(%fn : tensor<64xbf16>) {eps = 1.0e-06 : f32} : tensor<4x64xbf16>, tensor<256x64xbf16> -> tensor<4x256xf32>
  %next = mkg.argmax %logits : tensor<4x256xf32> -> tensor<4xi32>
  return %next : tensor<4xi32>
}
