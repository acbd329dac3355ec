// RUN: mk-opt %s -split-input-file -verify-diagnostics -mk-plan-memory

// Every activation of a program must be written by one of its tasks.
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
// expected-error @+1 {{'mkt.tensor' op mk-plan-memory: activation is never written in p}}
mkt.tensor @orphan activation tensor<2x64xbf16> {program = @p}
mkt.program @p prefill rows(2) {
  mkt.event @done count(1)
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
      operands = [@tokens, @w, @h], reads = [#mkt.box<@orphan [0, 0] to [2, 64]>],
      writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [], signals = [@done]}
}

// -----

mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p prefill rows(2) {
  mkt.event @done count(1)
  // expected-error @+1 {{'mkt.task' op mk-plan-memory: run mk-schedule first (no order)}}
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @h], reads = [],
      writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [], signals = [@done]}
}

// -----

// Liveness needs the dependency graph: a wait on an event no task signals has none.
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p prefill rows(2) {
  mkt.event @done count(1)
  mkt.event @never count(1)
  // expected-error @+1 {{'mkt.task' op waits on @never, which no task signals}}
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
      operands = [@tokens, @w, @h], reads = [],
      writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [#mkt.wait<@never, 1>], signals = [@done]}
}

// -----

mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
// expected-error @+1 {{'mkt.program' op mk-plan-memory: the task graph has a cycle}}
mkt.program @p prefill rows(2) {
  mkt.event @ev.a count(1)
  mkt.event @ev.b count(1)
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 0 : i64,
      operands = [@tokens, @w, @h], reads = [],
      writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.b, 1>], signals = [@ev.a]}
  mkt.task @b embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64, order = 1 : i64,
      operands = [@tokens, @w, @h], reads = [],
      writes = [#mkt.box<@h [0, 0] to [2, 64]>], waits = [#mkt.wait<@ev.a, 1>], signals = [@ev.b]}
}
