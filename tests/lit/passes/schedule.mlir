// RUN: mk-opt %s -mk-schedule | FileCheck %s

// mk-schedule numbers the tasks of each program in queue order (`order`): a
// topological order of the waits/signals graph, list-scheduled by the longest
// remaining critical path. Host target: one worker streams 3125 bytes/us and
// computes 62500 flop/us, so cost_bytes = 3125 is 1 us.

mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @x activation tensor<8x2x64xbf16> {program = @topo}

// The queue follows dependencies, not body order.
// CHECK-LABEL: mkt.program @topo prefill rows(2) attributes {critical_path_us = 3.000000e+00 : f64} {
// CHECK: mkt.task @c {{.*}}order = 2 : i64
// CHECK: mkt.task @b {{.*}}order = 1 : i64
// CHECK: mkt.task @a {{.*}}order = 0 : i64
mkt.program @topo prefill rows(2) {
  mkt.event @ev.a count(1)
  mkt.event @ev.b count(1)
  mkt.event @done count(1)
  mkt.task @c embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 3125 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [#mkt.box<@x [1, 0, 0] to [2, 2, 64]>],
      writes = [#mkt.box<@x [2, 0, 0] to [3, 2, 64]>],
      waits = [#mkt.wait<@ev.b, 1>], signals = [@done]}
  mkt.task @b embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 3125 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [#mkt.box<@x [0, 0, 0] to [1, 2, 64]>],
      writes = [#mkt.box<@x [1, 0, 0] to [2, 2, 64]>],
      waits = [#mkt.wait<@ev.a, 1>], signals = [@ev.b]}
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 3125 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [],
      writes = [#mkt.box<@x [0, 0, 0] to [1, 2, 64]>],
      waits = [], signals = [@ev.a]}
}

// Among ready tasks, the longest remaining path goes first. Three roots of 1 us:
// @light ends there; @head_bytes feeds a 10 us task (cost_bytes); @head_flops feeds a
// 20 us task (cost_flops: cost is the larger of the two). Queue: @head_flops (21 us
// to go), then its successor (20), @head_bytes (11), its successor (10), @light.
// CHECK-LABEL: mkt.program @critical prefill rows(2) attributes {critical_path_us = 2.100000e+01 : f64} {
// CHECK: mkt.task @light {{.*}}order = 4 : i64
// CHECK: mkt.task @head_bytes {{.*}}order = 2 : i64
// CHECK: mkt.task @heavy_bytes {{.*}}order = 3 : i64
// CHECK: mkt.task @head_flops {{.*}}order = 0 : i64
// CHECK: mkt.task @heavy_flops {{.*}}order = 1 : i64
mkt.program @critical prefill rows(2) {
  mkt.event @ev.head_bytes count(1)
  mkt.event @ev.head_flops count(1)
  mkt.event @done count(3)
  mkt.task @light embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 3125 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [], writes = [#mkt.box<@x [0, 0, 0] to [1, 2, 64]>],
      waits = [], signals = [@done]}
  mkt.task @head_bytes embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 3125 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [], writes = [#mkt.box<@x [1, 0, 0] to [2, 2, 64]>],
      waits = [], signals = [@ev.head_bytes]}
  mkt.task @heavy_bytes embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 31250 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [#mkt.box<@x [1, 0, 0] to [2, 2, 64]>],
      writes = [#mkt.box<@x [2, 0, 0] to [3, 2, 64]>],
      waits = [#mkt.wait<@ev.head_bytes, 1>], signals = [@done]}
  mkt.task @head_flops embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 3125 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [], writes = [#mkt.box<@x [3, 0, 0] to [4, 2, 64]>],
      waits = [], signals = [@ev.head_flops]}
  mkt.task @heavy_flops embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 3125 : i64, cost_flops = 1250000 : i64,
      operands = [@tokens, @w, @x], reads = [#mkt.box<@x [3, 0, 0] to [4, 2, 64]>],
      writes = [#mkt.box<@x [4, 0, 0] to [5, 2, 64]>],
      waits = [#mkt.wait<@ev.head_flops, 1>], signals = [@done]}
}

// Equal paths: a task that streams a weight goes first (its worker prefetches the
// weight before waiting), then body order.
// CHECK-LABEL: mkt.program @ties prefill rows(2)
// CHECK: mkt.task @no_weight_1 {{.*}}order = 1 : i64
// CHECK: mkt.task @no_weight_2 {{.*}}order = 2 : i64
// CHECK: mkt.task @streams_weight {{.*}}order = 0 : i64
mkt.program @ties prefill rows(2) {
  mkt.event @done count(3)
  mkt.task @no_weight_1 embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 3125 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@x [0, 0, 0] to [1, 2, 64]>],
      waits = [], signals = [@done]}
  mkt.task @no_weight_2 embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 3125 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@x [1, 0, 0] to [2, 2, 64]>],
      waits = [], signals = [@done]}
  mkt.task @streams_weight embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 3125 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [#mkt.box<@tokens [0] to [2]>, #mkt.box<@w [0, 0] to [64, 64]>],
      writes = [#mkt.box<@x [2, 0, 0] to [3, 2, 64]>],
      waits = [], signals = [@done]}
}

// A cross-step wait (back = 1) is on the previous step, not an edge of this step's
// graph (with it, @embedding and @argmax would form a cycle).
// CHECK-LABEL: mkt.program @decode decode rows(2)
// CHECK: mkt.task @embedding {{.*}}order = 0 : i64
// CHECK: mkt.task @argmax {{.*}}order = 1 : i64
mkt.tensor @h activation tensor<2x64xbf16> {program = @decode}
mkt.program @decode decode rows(2) {
  mkt.event @ev.embedding count(1)
  mkt.event @ev.argmax count(1)
  mkt.task @embedding embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 3125 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@h [0, 0] to [2, 64]>],
      waits = [#mkt.wait<@ev.argmax, 1, back = 1>], signals = [@ev.embedding]}
  mkt.task @argmax embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 3125 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @tokens], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
      writes = [#mkt.box<@tokens [0] to [2]>],
      waits = [#mkt.wait<@ev.embedding, 1>], signals = [@ev.argmax]}
}
