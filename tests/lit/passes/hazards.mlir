// RUN: mk-opt %s -mk-test-hazards -o /dev/null | FileCheck %s

// The hazard table of Analysis/Hazards.h, one program per row. Each line reads
// "later task <- earlier task KIND tensor".

mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @tokens step_state tensor<2xi32>
mkt.tensor @x activation tensor<2x64xbf16> {program = @raw}
mkt.tensor @y activation tensor<2x64xbf16> {program = @raw}

// Read after write: @b reads what @a wrote.
// CHECK-LABEL: hazards @raw
// CHECK-NEXT: b <- a RAW @x
// CHECK-NOT: <-
mkt.program @raw prefill rows(2) {
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [#mkt.box<@tokens [0] to [2]>, #mkt.box<@w [0, 0] to [64, 64]>],
      writes = [#mkt.box<@x [0, 0] to [2, 64]>]}
  mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x [0, 16] to [2, 32]>],
      writes = [#mkt.box<@y [0, 0] to [2, 64]>]}
}

// Write after read: @c overwrites part of what @b read. (@b's read of @x also
// follows @a's write.)
// CHECK-LABEL: hazards @war
// CHECK-NEXT: b <- a RAW @x
// CHECK-NEXT: c <- b WAR @x
// CHECK-NOT: <-
mkt.program @war prefill rows(2) {
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [],
      writes = [#mkt.box<@x [0, 0] to [2, 32]>]}
  mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x [0, 0] to [2, 64]>],
      writes = [#mkt.box<@y [0, 0] to [2, 64]>]}
  mkt.task @c embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [],
      writes = [#mkt.box<@x [1, 40] to [2, 64]>]}
}

// Write after write: @b's write must land after @a's.
// CHECK-LABEL: hazards @waw
// CHECK-NEXT: b <- a WAW @x
// CHECK-NOT: <-
mkt.program @waw prefill rows(2) {
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [],
      writes = [#mkt.box<@x [0, 0] to [2, 48]>]}
  mkt.task @b embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [],
      writes = [#mkt.box<@x [0, 32] to [2, 64]>]}
}

// A pair with several hazards is reported once, as RAW: @b reads and rewrites @x.
// CHECK-LABEL: hazards @raw_and_waw
// CHECK-NEXT: b <- a RAW @x
// CHECK-NOT: <-
mkt.program @raw_and_waw prefill rows(2) {
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [],
      writes = [#mkt.box<@x [0, 0] to [2, 64]>]}
  mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @x], reads = [#mkt.box<@x [0, 0] to [2, 64]>],
      writes = [#mkt.box<@x [0, 0] to [2, 64]>]}
}

// Read after read is no hazard: @b and @c both read @a's output and depend only on
// @a. Reads of tensors no task writes (the weight, the tokens) are never hazards.
// CHECK-LABEL: hazards @read_read
// CHECK-NEXT: b <- a RAW @x
// CHECK-NEXT: c <- a RAW @x
// CHECK-NOT: <-
mkt.program @read_read prefill rows(2) {
  mkt.task @a embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [#mkt.box<@tokens [0] to [2]>, #mkt.box<@w [0, 0] to [64, 64]>],
      writes = [#mkt.box<@x [0, 0] to [2, 64]>]}
  mkt.task @b o_proj tile [0, 2, 0, 32, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x [0, 0] to [2, 64]>, #mkt.box<@w [0, 0] to [32, 64]>],
      writes = [#mkt.box<@y [0, 0] to [2, 32]>]}
  mkt.task @c o_proj tile [0, 2, 32, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x [0, 0] to [2, 64]>, #mkt.box<@w [32, 0] to [64, 64]>],
      writes = [#mkt.box<@y [0, 32] to [2, 64]>]}
}

// Disjoint boxes of one tensor are no hazard: @a1 and @a2 write different columns;
// @b reads columns [32, 64) of row 1, which only @a2 wrote; @c rewrites row 0 of
// those columns, after @a2 (WAW) but not after @b, which never read row 0. @d's box
// is empty and overlaps nothing.
// CHECK-LABEL: hazards @disjoint
// CHECK-NEXT: b <- a2 RAW @x
// CHECK-NEXT: c <- a2 WAW @x
// CHECK-NOT: <-
mkt.program @disjoint prefill rows(2) {
  mkt.task @a1 embedding tile [0, 2, 0, 32, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [],
      writes = [#mkt.box<@x [0, 0] to [2, 32]>]}
  mkt.task @a2 embedding tile [0, 2, 32, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [],
      writes = [#mkt.box<@x [0, 32] to [2, 64]>]}
  mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x [1, 32] to [2, 64]>],
      writes = [#mkt.box<@y [0, 0] to [2, 64]>]}
  mkt.task @c embedding tile [0, 1, 32, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [],
      writes = [#mkt.box<@x [0, 32] to [1, 64]>]}
  mkt.task @d embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @y], reads = [],
      writes = [#mkt.box<@y [0, 0] to [0, 64]>]}
}

// Column tiles: the index the analysis keeps for @x is sorted by where each write starts
// in the column dimension (the one the tiles split), and every candidate is checked in
// every dimension. @r reads row 1 of columns [20, 50): the tiles of columns [16, 32)
// and [48, 64) wrote there; the one of [32, 48) only wrote row 0, and tiles that end
// where the read begins (column 16) do not overlap it.
// CHECK-LABEL: hazards @tiles
// CHECK-NEXT: r <- t1 RAW @x
// CHECK-NEXT: r <- t3 RAW @x
// CHECK-NOT: <-
mkt.program @tiles prefill rows(2) {
  mkt.task @t0 embedding tile [0, 2, 0, 16, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [], writes = [#mkt.box<@x [0, 0] to [2, 16]>]}
  mkt.task @t1 embedding tile [0, 2, 16, 32, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [], writes = [#mkt.box<@x [0, 16] to [2, 32]>]}
  mkt.task @t2 embedding tile [0, 1, 32, 48, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [], writes = [#mkt.box<@x [0, 32] to [1, 48]>]}
  mkt.task @t3 embedding tile [0, 2, 48, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @x], reads = [], writes = [#mkt.box<@x [0, 48] to [2, 64]>]}
  mkt.task @r o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x [1, 20] to [2, 50]>],
      writes = [#mkt.box<@y [0, 0] to [2, 64]>]}
}

// Step state read early and written late carries a value to the next step: decode's
// argmax writes the tokens the next step's embedding reads (loop-carried RAW). In the
// same step the write is a WAR on the embedding's read.
// CHECK-LABEL: hazards @decode
// CHECK-NEXT: lm_head <- embedding RAW @h
// CHECK-NEXT: argmax <- lm_head RAW @pmax
// CHECK-NEXT: argmax <- embedding WAR @tokens
// CHECK-NEXT: embedding <- argmax loop-carried RAW
// CHECK-NOT: <-
mkt.tensor @h activation tensor<2x64xbf16> {program = @decode}
mkt.tensor @pmax activation tensor<2x1x2xf32> {program = @decode}
mkt.program @decode decode rows(2) {
  mkt.task @embedding embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@tokens, @w, @h], reads = [#mkt.box<@tokens [0] to [2]>],
      writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
  mkt.task @lm_head lm_head tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @w, @w, @pmax, @pmax], reads = [#mkt.box<@h [0, 0] to [2, 64]>],
      writes = [#mkt.box<@pmax [0, 0, 0] to [2, 1, 2]>]}
  mkt.task @argmax argmax tile [0, 2, 0, 1, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@pmax, @tokens], reads = [#mkt.box<@pmax [0, 0, 0] to [2, 1, 2]>],
      writes = [#mkt.box<@tokens [0] to [2]>]}
}
