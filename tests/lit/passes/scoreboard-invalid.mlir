// RUN: mk-opt %s -split-input-file -verify-diagnostics -mk-scoreboard

// A task record holds 4 waits. Five producers with five different consumer sets
// need five events, and @t consumes all five.
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @x activation tensor<5x2x64xbf16> {program = @p}
mkt.tensor @y activation tensor<2x64xbf16> {program = @p}
mkt.tensor @c activation tensor<4x2x64xbf16> {program = @p}
mkt.program @p prefill rows(2) {
  mkt.task @p0 embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [], writes = [#mkt.box<@x [0, 0, 0] to [1, 2, 64]>]}
  mkt.task @p1 embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [], writes = [#mkt.box<@x [1, 0, 0] to [2, 2, 64]>]}
  mkt.task @p2 embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [], writes = [#mkt.box<@x [2, 0, 0] to [3, 2, 64]>]}
  mkt.task @p3 embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [], writes = [#mkt.box<@x [3, 0, 0] to [4, 2, 64]>]}
  mkt.task @p4 embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [], writes = [#mkt.box<@x [4, 0, 0] to [5, 2, 64]>]}
  // expected-error @+1 {{'mkt.task' op mk-scoreboard: needs 5 waits; a task record holds 4}}
  mkt.task @t o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x [0, 0, 0] to [5, 2, 64]>],
      writes = [#mkt.box<@y [0, 0] to [2, 64]>]}
  // Each of p0..p3 has one more consumer, so no two producers share a consumer set.
  mkt.task @c0 o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @c], reads = [#mkt.box<@x [0, 0, 0] to [1, 2, 64]>],
      writes = [#mkt.box<@c [0, 0, 0] to [1, 2, 64]>]}
  mkt.task @c1 o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @c], reads = [#mkt.box<@x [1, 0, 0] to [2, 2, 64]>],
      writes = [#mkt.box<@c [1, 0, 0] to [2, 2, 64]>]}
  mkt.task @c2 o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @c], reads = [#mkt.box<@x [2, 0, 0] to [3, 2, 64]>],
      writes = [#mkt.box<@c [2, 0, 0] to [3, 2, 64]>]}
  mkt.task @c3 o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @c], reads = [#mkt.box<@x [3, 0, 0] to [4, 2, 64]>],
      writes = [#mkt.box<@c [3, 0, 0] to [4, 2, 64]>]}
}

// -----

// A decode step must feed the next one: here argmax writes a separate output, so
// no task reads step state that a later task writes.
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @tokens_out step_state tensor<2xi32>
mkt.tensor @h activation tensor<2x64xbf16> {program = @decode}
mkt.tensor @pmax activation tensor<2x1x2xf32> {program = @decode}
// expected-error @+1 {{'mkt.program' op mk-scoreboard: a decode program must feed its next step (no task reads step state that a later task writes)}}
mkt.program @decode decode rows(2) {
  mkt.task @embedding embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
  mkt.task @lm_head lm_head tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @w, @w, @pmax, @pmax], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
      writes = [#mkt.box<@pmax [0, 0, 0] to [2, 1, 2]>]}
  mkt.task @argmax argmax tile [0, 2, 0, 1, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@pmax, @tokens_out], reads = [#mkt.box<@pmax [0, 0, 0] to [2, 1, 2]>],
      writes = [#mkt.box<@tokens_out [0] to [2]>]}
}

// -----

// Counters are never reset, so a decode task that does not wait (transitively) for
// the step's input tokens could run in step s+1 before step s finished and be
// counted for step s.
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @h activation tensor<2x64xbf16> {program = @decode}
mkt.tensor @g activation tensor<2x64xbf16> {program = @decode}
mkt.tensor @pmax activation tensor<2x1x2xf32> {program = @decode}
mkt.program @decode decode rows(2) {
  mkt.task @embedding embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
  // expected-error @+1 {{'mkt.task' op mk-scoreboard: does not depend on the step's input tokens, so it could run ahead into the next step}}
  mkt.task @from_weights gate_up tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@w, @w, @w, @w, @g], reads = [#mkt.box<@w [0, 0] to [64, 64]>],
      writes = [#mkt.box<@g [0, 0] to [2, 64]>]}
  mkt.task @lm_head lm_head tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @w, @w, @pmax, @pmax],
      reads = [#mkt.box<@h [0, 0] to [2, 64]>, #mkt.box<@g [0, 0] to [2, 64]>],
      writes = [#mkt.box<@pmax [0, 0, 0] to [2, 1, 2]>]}
  mkt.task @argmax argmax tile [0, 2, 0, 1, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@pmax, @tokens], reads = [#mkt.box<@pmax [0, 0, 0] to [2, 1, 2]>],
      writes = [#mkt.box<@tokens [0] to [2]>]}
}

// -----

// The other half of step isolation: every decode task must finish before the task
// that writes the next tokens, or step s+1 could start while it still runs.
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @h activation tensor<2x64xbf16> {program = @decode}
mkt.tensor @side activation tensor<2x64xbf16> {program = @decode}
mkt.tensor @pmax activation tensor<2x1x2xf32> {program = @decode}
mkt.program @decode decode rows(2) {
  mkt.task @embedding embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
  // expected-error @+1 {{'mkt.task' op mk-scoreboard: is not an ancestor of argmax, which feeds the next step, so steps could overlap}}
  mkt.task @dead_end o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @w, @h, @side], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
      writes = [#mkt.box<@side [0, 0] to [2, 64]>]}
  mkt.task @lm_head lm_head tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @w, @w, @pmax, @pmax], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
      writes = [#mkt.box<@pmax [0, 0, 0] to [2, 1, 2]>]}
  mkt.task @argmax argmax tile [0, 2, 0, 1, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@pmax, @tokens], reads = [#mkt.box<@pmax [0, 0, 0] to [2, 1, 2]>],
      writes = [#mkt.box<@tokens [0] to [2]>]}
}

// -----

// expected-error @+1 {{'mkt.program' op mk-scoreboard: program has no tasks}}
mkt.program @empty prefill rows(2) {
}

// -----

mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p prefill rows(2) {
  mkt.event @done count(1)
  // expected-error @+1 {{'mkt.task' op mk-scoreboard: program is already scoreboarded}}
  mkt.task @embedding embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>],
      waits = [], signals = [@done]}
}
