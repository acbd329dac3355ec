// RUN: mk-opt %s -split-input-file -mk-plan-memory | FileCheck %s

// mk-plan-memory places each program's activations in its arena, first fit in queue
// order, rounding sizes up to 256 bytes. Two activations may share bytes only when
// every task that touches the first is a same-step ancestor of every task that
// writes the second: with a dynamic queue, queue order alone proves nothing.

// A chain a -> b -> c: @x (touched by a, b) is dead before c writes @z, so @z reuses
// @x's bytes; @y is written by b while @x is still read by b, so it may not.
// CHECK-DAG: mkt.tensor @x activation tensor<2x64xbf16> {offset = 0 : i64, program = @chain}
// CHECK-DAG: mkt.tensor @y activation tensor<2x25xbf16> {offset = 256 : i64, program = @chain}
// CHECK-DAG: mkt.tensor @z activation tensor<2x64xbf16> {offset = 0 : i64, program = @chain}
// Tensors of other placements get no offset.
// CHECK-DAG: mkt.tensor @tokens step_state tensor<2xi32>{{$}}
// CHECK-LABEL: mkt.program @chain prefill rows(2) attributes {arena_bytes = 512 : i64} {
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @x activation tensor<2x64xbf16> {program = @chain}
mkt.tensor @y activation tensor<2x25xbf16> {program = @chain}
mkt.tensor @z activation tensor<2x64xbf16> {program = @chain}
mkt.program @chain prefill rows(2) {
  mkt.event @ev.a count(1)
  mkt.event @ev.b count(1)
  mkt.event @done count(1)
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
      operands = [@tokens, @w, @x], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@x [0, 0] to [2, 64]>], waits = [], signals = [@ev.a]}
  mkt.task @b o_proj tile [0, 2, 0, 25, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x [0, 0] to [2, 64]>],
      writes = [#mkt.box<@y [0, 0] to [2, 25]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@ev.b]}
  mkt.task @c o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 2 : i64,
      operands = [@y, @w, @y, @z], reads = [#mkt.box<@y [0, 0] to [2, 25]>],
      writes = [#mkt.box<@z [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.b, 1>], signals = [@done]}
}

// -----

// @a2 is queued after @b1, the last reader of @p, but nothing orders them: a worker
// may run @a2 while another still runs @b1. So @q gets bytes of its own although @p
// looks dead in queue order; @r (written by @b1, which reads @p) does too.
// CHECK-DAG: mkt.tensor @p activation tensor<2x64xbf16> {offset = 0 : i64, program = @parallel}
// CHECK-DAG: mkt.tensor @r activation tensor<2x64xbf16> {offset = 256 : i64, program = @parallel}
// CHECK-DAG: mkt.tensor @q activation tensor<2x64xbf16> {offset = 512 : i64, program = @parallel}
// Only the program's own activations share its arena; another program's start at 0.
// CHECK-DAG: mkt.tensor @other activation tensor<2x64xbf16> {offset = 0 : i64, program = @second}
// CHECK-LABEL: mkt.program @parallel prefill rows(2) attributes {arena_bytes = 768 : i64} {
// CHECK-LABEL: mkt.program @second prefill rows(2) attributes {arena_bytes = 256 : i64} {
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @p activation tensor<2x64xbf16> {program = @parallel}
mkt.tensor @q activation tensor<2x64xbf16> {program = @parallel}
mkt.tensor @r activation tensor<2x64xbf16> {program = @parallel}
mkt.tensor @other activation tensor<2x64xbf16> {program = @second}
mkt.program @parallel prefill rows(2) {
  mkt.event @ev.a1 count(1)
  mkt.event @done count(2)
  mkt.task @a1 embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
      operands = [@tokens, @w, @p], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@p [0, 0] to [2, 64]>], waits = [], signals = [@ev.a1]}
  mkt.task @b1 o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
      operands = [@p, @w, @p, @r], reads = [#mkt.box<@p [0, 0] to [2, 64]>],
      writes = [#mkt.box<@r [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a1, 1>], signals = [@done]}
  mkt.task @a2 embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 2 : i64,
      operands = [@tokens, @w, @q], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@q [0, 0] to [2, 64]>], waits = [], signals = [@done]}
}
mkt.program @second prefill rows(2) {
  mkt.event @done count(1)
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
      operands = [@tokens, @w, @other], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@other [0, 0] to [2, 64]>], waits = [], signals = [@done]}
}

// -----

// A diamond listed bottom-first: the DAG (from the waits) decides, not the body order.
// @bottom writes @z after @l and @r, the last readers of @x, are done: @z reuses @x's
// bytes. @y, written by @l and @r while they read @x, may not.
// CHECK-DAG: mkt.tensor @x activation tensor<2x64xbf16> {offset = 0 : i64, program = @diamond}
// CHECK-DAG: mkt.tensor @y activation tensor<2x64xbf16> {offset = 256 : i64, program = @diamond}
// CHECK-DAG: mkt.tensor @z activation tensor<2x64xbf16> {offset = 0 : i64, program = @diamond}
// CHECK-LABEL: mkt.program @diamond prefill rows(2) attributes {arena_bytes = 512 : i64} {
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @x activation tensor<2x64xbf16> {program = @diamond}
mkt.tensor @y activation tensor<2x64xbf16> {program = @diamond}
mkt.tensor @z activation tensor<2x64xbf16> {program = @diamond}
mkt.program @diamond prefill rows(2) {
  mkt.event @ev.top count(1)
  mkt.event @ev.sides count(2)
  mkt.event @done count(1)
  mkt.task @bottom o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 3 : i64,
      operands = [@y, @w, @y, @z], reads = [#mkt.box<@y [0, 0] to [2, 64]>],
      writes = [#mkt.box<@z [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.sides, 2>], signals = [@done]}
  mkt.task @r o_proj tile [0, 2, 32, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 2 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x [0, 0] to [2, 64]>],
      writes = [#mkt.box<@y [0, 32] to [2, 64]>], waits = [#mkt.wait<@ev.top, 1>], signals = [@ev.sides]}
  mkt.task @top embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
      operands = [@tokens, @w, @x], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@x [0, 0] to [2, 64]>], waits = [], signals = [@ev.top]}
  mkt.task @l o_proj tile [0, 2, 0, 32, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x [0, 0] to [2, 64]>],
      writes = [#mkt.box<@y [0, 0] to [2, 32]>], waits = [#mkt.wait<@ev.top, 1>], signals = [@ev.sides]}
}
