// RUN: mk-opt %s | mk-opt | FileCheck %s
// RUN: mk-opt %s -mlir-print-op-generic | mk-opt | FileCheck %s

// Every mkt construct parses, prints and re-parses: tensors of each placement, both
// program kinds, events, and tasks with and without their optional parts.

// CHECK-LABEL: module
// CHECK: mkt.tensor @w.embed weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
// CHECK: mkt.tensor @w.q weight tensor<64x64xbf16> {weight_name = "model.layers.0.self_attn.q_proj.weight"}
// CHECK: mkt.tensor @kv.l0.k kv_cache tensor<8x16x2x16xbf16> {layer = 0 : i64}
// CHECK: mkt.tensor @decode.tokens step_state tensor<2xi32>
// CHECK: mkt.tensor @decode.positions step_state tensor<2xi32>
// CHECK: mkt.tensor @decode.kv_slots step_state tensor<2xi32>
// CHECK: mkt.tensor @decode.block_table step_state tensor<2x4xi32>
// CHECK: mkt.tensor @decode.h0 activation tensor<2x64xbf16> {offset = 256 : i64, program = @decode}
// CHECK: mkt.tensor @decode.q activation tensor<2x64xbf16> {program = @decode}
// CHECK: mkt.tensor @decode.partial activation tensor<2x4x2xf32> {program = @decode}
// CHECK: mkt.tensor @decode.half activation tensor<2x64xf16> {program = @decode}
// CHECK: mkt.tensor @prefill.tokens step_state tensor<4xi32>
// CHECK: mkt.tensor @prefill.h0 activation tensor<4x64xbf16> {program = @prefill}
mkt.tensor @w.embed weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
mkt.tensor @w.q weight tensor<64x64xbf16> {weight_name = "model.layers.0.self_attn.q_proj.weight"}
mkt.tensor @kv.l0.k kv_cache tensor<8x16x2x16xbf16> {layer = 0 : i64}
mkt.tensor @decode.tokens step_state tensor<2xi32>
mkt.tensor @decode.positions step_state tensor<2xi32>
mkt.tensor @decode.kv_slots step_state tensor<2xi32>
mkt.tensor @decode.block_table step_state tensor<2x4xi32>
mkt.tensor @decode.h0 activation tensor<2x64xbf16> {offset = 256 : i64, program = @decode}
mkt.tensor @decode.q activation tensor<2x64xbf16> {program = @decode}
mkt.tensor @decode.partial activation tensor<2x4x2xf32> {program = @decode}
mkt.tensor @decode.half activation tensor<2x64xf16> {program = @decode}
mkt.tensor @prefill.tokens step_state tensor<4xi32>
mkt.tensor @prefill.h0 activation tensor<4x64xbf16> {program = @prefill}

// A scheduled decode program: events, waits (same step and cross-step), signals
// (one and two events) and queue order.

// CHECK-LABEL: mkt.program @decode decode rows(2) attributes {arena_bytes = 1024 : i64} {
// CHECK-NEXT: mkt.event @ev.emb count(1)
// CHECK-NEXT: mkt.event @ev.q count(2)
// CHECK-NEXT: mkt.event @done count(2)
// CHECK-NEXT: mkt.task @emb embedding tile [0, 2, 0, 64, 0, 0]
// CHECK-SAME: cost_bytes = 512 : i64, cost_flops = 0 : i64
// CHECK-SAME: operands = [@decode.tokens, @w.embed, @decode.h0], order = 0 : i64
// CHECK-SAME: reads = [#mkt.box<@decode.tokens[0] to[2]>, #mkt.box<@w.embed[0, 0] to[256, 64]>]
// CHECK-SAME: signals = [@ev.emb], waits = [#mkt.wait<@done, 2, back = 1>]
// CHECK-SAME: writes = [#mkt.box<@decode.h0[0, 0] to[2, 64]>]
// CHECK-NEXT: mkt.task @q0 qkv layer(0) tile [0, 2, 0, 2, 0, 0]
// CHECK-SAME: aux = array<i64: 0>
// CHECK-SAME: flags = 3 : i64
// CHECK-SAME: operands = [@decode.h0, @w.embed, @w.q, unit, unit, @decode.q, @decode.positions, @decode.kv_slots, @decode.block_table]
// CHECK-SAME: order = 1 : i64
// CHECK-SAME: signals = [@ev.q], waits = [#mkt.wait<@ev.emb, 1>]
// CHECK-SAME: writes = [#mkt.box<@decode.q[0, 0] to[2, 32]>]
// CHECK-NEXT: mkt.task @k0 qkv layer(0) tile [0, 2, 0, 1, 0, 0]
// CHECK-SAME: writes = [#mkt.box<@kv.l0.k[0, 0, 0, 0] to[8, 16, 1, 16]>]
// CHECK-NEXT: mkt.task @attn attn_decode layer(0) tile [0, 2, 0, 1, 0, 64]
// CHECK-SAME: aux = array<i64: 0, 4096>
// CHECK-SAME: signals = [@done, @ev.q]
// CHECK-SAME: waits = [#mkt.wait<@ev.q, 2>, #mkt.wait<@ev.emb, 1>]
// CHECK-NEXT: mkt.task @argmax argmax tile [0, 2, 0, 4, 0, 0]
// CHECK-SAME: aux = array<i64: 4>
// CHECK-SAME: writes = [#mkt.box<@decode.tokens[0] to[2]>]}{{$}}
// CHECK-NEXT: }
mkt.program @decode decode rows(2) attributes {arena_bytes = 1024 : i64} {
  mkt.event @ev.emb count(1)
  mkt.event @ev.q count(2)
  mkt.event @done count(2)
  mkt.task @emb embedding tile [0, 2, 0, 64, 0, 0] {
    cost_bytes = 512 : i64, cost_flops = 0 : i64,
    operands = [@decode.tokens, @w.embed, @decode.h0], order = 0 : i64,
    reads = [#mkt.box<@decode.tokens [0] to [2]>, #mkt.box<@w.embed [0, 0] to [256, 64]>],
    signals = [@ev.emb], waits = [#mkt.wait<@done, 2, back = 1>],
    writes = [#mkt.box<@decode.h0 [0, 0] to [2, 64]>]}
  mkt.task @q0 qkv layer(0) tile [0, 2, 0, 2, 0, 0] {
    aux = array<i64: 0>, flags = 3 : i64, cost_bytes = 4480 : i64, cost_flops = 8192 : i64,
    operands = [@decode.h0, @w.embed, @w.q, unit, unit, @decode.q, @decode.positions, @decode.kv_slots, @decode.block_table],
    order = 1 : i64,
    reads = [#mkt.box<@decode.h0 [0, 0] to [2, 64]>, #mkt.box<@w.q [0, 0] to [32, 64]>],
    signals = [@ev.q], waits = [#mkt.wait<@ev.emb, 1>],
    writes = [#mkt.box<@decode.q [0, 0] to [2, 32]>]}
  mkt.task @k0 qkv layer(0) tile [0, 2, 0, 1, 0, 0] {
    aux = array<i64: 1>, cost_bytes = 2368 : i64, cost_flops = 4096 : i64,
    operands = [@decode.h0, @w.embed, @w.q, unit, unit, @kv.l0.k, @decode.positions, @decode.kv_slots, @decode.block_table],
    order = 2 : i64,
    reads = [#mkt.box<@decode.h0 [0, 0] to [2, 64]>],
    signals = [@ev.q], waits = [#mkt.wait<@ev.emb, 1>],
    writes = [#mkt.box<@kv.l0.k [0, 0, 0, 0] to [8, 16, 1, 16]>]}
  mkt.task @attn attn_decode layer(0) tile [0, 2, 0, 1, 0, 64] {
    aux = array<i64: 0, 4096>, flags = 4 : i64, cost_bytes = 8192 : i64, cost_flops = 16384 : i64,
    operands = [@decode.q, @kv.l0.k, @kv.l0.k, @decode.tokens, @decode.positions, @decode.partial, @decode.partial],
    order = 3 : i64,
    reads = [#mkt.box<@decode.q [0, 0] to [2, 32]>, #mkt.box<@kv.l0.k [0, 0, 0, 0] to [8, 16, 1, 16]>],
    signals = [@done, @ev.q], waits = [#mkt.wait<@ev.q, 2>, #mkt.wait<@ev.emb, 1>],
    writes = [#mkt.box<@decode.partial [0, 0, 0] to [2, 4, 2]>]}
  mkt.task @argmax argmax tile [0, 2, 0, 4, 0, 0] {
    aux = array<i64: 4>, cost_bytes = 72 : i64, cost_flops = 8 : i64,
    operands = [@decode.partial, @decode.tokens], order = 4 : i64,
    reads = [#mkt.box<@decode.partial [0, 0, 0] to [2, 4, 2]>],
    signals = [@done], waits = [#mkt.wait<@ev.q, 2>],
    writes = [#mkt.box<@decode.tokens [0] to [2]>]}
}

// A prefill program straight out of mk-tile: no events, no waits, signals or order,
// no arena size; an empty box (lo == hi) is allowed.

// CHECK-LABEL: mkt.program @prefill prefill rows(4) {
// CHECK-NEXT: mkt.task @emb embedding tile [0, 4, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, operands = [@prefill.tokens, @w.embed, @prefill.h0], reads = [#mkt.box<@prefill.tokens[0] to[4]>, #mkt.box<@w.embed[0, 0] to[0, 64]>], writes = [#mkt.box<@prefill.h0[0, 0] to[4, 64]>]}{{$}}
// CHECK-NEXT: }
mkt.program @prefill prefill rows(4) {
  mkt.task @emb embedding tile [0, 4, 0, 64, 0, 0] {
    cost_bytes = 0 : i64, cost_flops = 0 : i64,
    operands = [@prefill.tokens, @w.embed, @prefill.h0],
    reads = [#mkt.box<@prefill.tokens [0] to [4]>, #mkt.box<@w.embed [0, 0] to [0, 64]>],
    writes = [#mkt.box<@prefill.h0 [0, 0] to [4, 64]>]}
}
