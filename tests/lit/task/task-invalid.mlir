// RUN: mk-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of the mkt ops and of #mkt.box.

//===----------------------------------------------------------------------===//
// mkt.tensor
//===----------------------------------------------------------------------===//

// Placements are an enum: a keyword outside it does not parse.
// expected-error @+1 {{custom op 'mkt.tensor' expected string or keyword containing one of the following enum values for attribute 'placement' [weight, activation, kv_cache, step_state, comm]}}
mkt.tensor @t arena tensor<4xbf16>

// -----

// The generic form holds the enum's value, checked against its cases.
// expected-error @+1 {{Invalid attribute `placement` in property conversion: 5 : i32}}
"mkt.tensor"() <{placement = 5 : i32, sym_name = "t", type = tensor<4xbf16>}> : () -> ()

// -----

// expected-error @+1 {{'mkt.tensor' op tensors are static with rank 1 to 4, got 'tensor<2x2x2x2x2xbf16>'}}
mkt.tensor @t kv_cache tensor<2x2x2x2x2xbf16> {layer = 0 : i64}

// -----

// expected-error @+1 {{'mkt.tensor' op tensors are static with rank 1 to 4, got 'tensor<?x64xbf16>'}}
mkt.tensor @t step_state tensor<?x64xbf16>

// -----

// expected-error @+1 {{'mkt.tensor' op tensors are static with rank 1 to 4, got 'tensor<bf16>'}}
mkt.tensor @t step_state tensor<bf16>

// -----

// expected-error @+1 {{'mkt.tensor' op element type must be bf16, f16, f32 or i32, got 'f64'}}
mkt.tensor @t step_state tensor<4xf64>

// -----

// expected-error @+1 {{'mkt.tensor' op weight tensors need a weight_name}}
mkt.tensor @w weight tensor<64x64xbf16>

// -----

// expected-error @+1 {{'mkt.tensor' op activation tensors need the program that owns them}}
mkt.tensor @h activation tensor<2x64xbf16>

// -----

// expected-error @+1 {{'mkt.tensor' op comm tensors need the program that owns them}}
mkt.tensor @c comm tensor<2x4x2xi32>

// -----

// expected-error @+1 {{'mkt.tensor' op only weight tensors are sharded}}
mkt.tensor @h activation tensor<2x64xbf16> {program = @decode, shard_dim = 1 : i64, shard_parts = 2 : i64, shard_replicas = 1 : i64}

// -----

// expected-error @+1 {{'mkt.tensor' op shard_dim, shard_parts and shard_replicas come together}}
mkt.tensor @w weight tensor<32x64xbf16> {shard_parts = 2 : i64, weight_name = "w"}

// -----

// expected-error @+1 {{'mkt.tensor' op a sharded weight has shard_parts >= 2 and shard_replicas >= 1, got 2 and 0}}
mkt.tensor @w weight tensor<32x64xbf16> {shard_dim = 0 : i64, shard_parts = 2 : i64, shard_replicas = 0 : i64, weight_name = "w"}

// -----

// expected-error @+1 {{'mkt.tensor' op only activation tensors have an offset}}
mkt.tensor @k kv_cache tensor<8x16x2x16xbf16> {layer = 0 : i64, offset = 0 : i64}

// -----

// expected-error @+1 {{'mkt.tensor' op kv_cache tensors need the layer they cache}}
mkt.tensor @k kv_cache tensor<8x16x2x16xbf16>

// -----

// expected-error @+1 {{'mkt.tensor' op layer must be non-negative, got -1}}
mkt.tensor @k kv_cache tensor<8x16x2x16xbf16> {layer = -1 : i64}

// -----

// expected-error @+1 {{'mkt.tensor' op offset must be non-negative, got -256}}
mkt.tensor @h activation tensor<2x64xbf16> {offset = -256 : i64, program = @p}

// -----

//===----------------------------------------------------------------------===//
// mkt.program and mkt.event
//===----------------------------------------------------------------------===//

// expected-error @+1 {{custom op 'mkt.program' expected string or keyword containing one of the following enum values for attribute 'kind' [decode, prefill]}}
mkt.program @p train rows(2) {
}

// -----

// expected-error @+1 {{'mkt.program' op rows must be positive, got 0}}
mkt.program @p decode rows(0) {
}

// -----

// expected-error @+1 {{'mkt.program' op rows must be positive, got -2}}
mkt.program @p prefill rows(-2) {
}

// -----

mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.tensor' op is not allowed in a program (only tasks and events)}}
  mkt.tensor @t step_state tensor<2xi32>
}

// -----

mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.event' op count must be positive, got 0}}
  mkt.event @e count(0)
}

// -----

mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.event' op count must be positive, got -1}}
  mkt.event @e count(-1)
}

// -----

// expected-error @+1 {{'mkt.event' op expects parent op 'mkt.program'}}
mkt.event @e count(1)

// -----

//===----------------------------------------------------------------------===//
// mkt.task: operation verifier
//===----------------------------------------------------------------------===//

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{unknown task kind 'matmul'}}
  mkt.task @t matmul tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
}

// -----

// Task kinds are the ISA table's names, not strings.
mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{custom op 'mkt.task' expected valid keyword}}
  mkt.task @t "embedding" tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
}

// -----

// The attribute's own form names the kind the same way.
// expected-error @+1 {{unknown task kind 'matmul'}}
mkt.tensor @t step_state tensor<4xi32> {kind = #mkt.task_kind<matmul>}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op kind 'embedding' has 3 operand roles, got 2 operands}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op operand role 'table' of 'embedding' is required}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, unit, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op operands are tensor symbols or unit, got 3 : i64}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, 3, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op tile must hold 3 ranges [b0, e0, b1, e1, b2, e2], got 4 values}}
  mkt.task @t embedding tile [0, 2, 0, 64] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op tile range 1 [64, 32) is invalid}}
  mkt.task @t embedding tile [0, 2, 64, 32, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op tile range 0 [-1, 2) is invalid}}
  mkt.task @t embedding tile [-1, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op at most 2 aux values, got 3}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {aux = array<i64: 1, 2, 3>,
      cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  mkt.event @e0 count(1)
  mkt.event @e1 count(1)
  mkt.event @e2 count(1)
  mkt.event @e3 count(1)
  mkt.event @e4 count(1)
  // expected-error @+1 {{'mkt.task' op waits on 5 events; at most 4}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>],
      waits = [#mkt.wait<@e0, 1>, #mkt.wait<@e1, 1>, #mkt.wait<@e2, 1>, #mkt.wait<@e3, 1>,
               #mkt.wait<@e4, 1>], signals = [@e0]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op signals 1 or 2 events, got 0}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>],
      waits = [], signals = []}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  mkt.event @e0 count(1)
  mkt.event @e1 count(1)
  mkt.event @e2 count(1)
  // expected-error @+1 {{'mkt.task' op signals 1 or 2 events, got 3}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>],
      waits = [], signals = [@e0, @e1, @e2]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op writes nothing}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [#mkt.box<@h [0, 0] to [2, 64]>], writes = []}
}

// -----

//===----------------------------------------------------------------------===//
// #mkt.box
//===----------------------------------------------------------------------===//

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [],
      // expected-error @+1 {{box of @h has 1 lower and 2 upper bounds}}
      writes = [#mkt.box<@h [0] to [2, 64]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [],
      // expected-error @+1 {{box of @h has an empty or negative range [64, 32) in dimension 1}}
      writes = [#mkt.box<@h [0, 64] to [2, 32]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [],
      // expected-error @+1 {{box of @h has an empty or negative range [-1, 2) in dimension 0}}
      writes = [#mkt.box<@h [-1, 0] to [2, 64]>]}
}

// -----

//===----------------------------------------------------------------------===//
// mkt.task: symbol uses (tensors, boxes, events)
//===----------------------------------------------------------------------===//

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op operand @nope is not an mkt.tensor}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @nope, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op box names @nope, which is not an mkt.tensor}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [#mkt.box<@nope [0] to [2]>],
      writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op box of @h has rank 1 but the tensor has rank 2}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0] to [2]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op box of @h reaches 65 in dimension 1 but the tensor has 64}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [#mkt.box<@h [0, 0] to [2, 65]>],
      writes = [#mkt.box<@h [0, 0] to [2, 64]>]}
}

// -----

mkt.tensor @w weight tensor<256x64xbf16> {weight_name = "model.embed_tokens.weight"}
mkt.program @p decode rows(2) {
  // expected-error @+1 {{'mkt.task' op writes weight @w}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@w, @w, @w], reads = [], writes = [#mkt.box<@w [0, 0] to [2, 64]>]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  mkt.event @e count(1)
  // expected-error @+1 {{'mkt.task' op waits on @nope, which is not an event}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>],
      waits = [#mkt.wait<@nope, 1>], signals = [@e]}
}

// -----

// Events are looked up in the task's own program, not in a sibling program.
mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @other prefill rows(2) {
  mkt.event @e count(1)
}
mkt.program @p decode rows(2) {
  mkt.event @done count(1)
  // expected-error @+1 {{'mkt.task' op waits on @e, which is not an event}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>],
      waits = [#mkt.wait<@e, 1>], signals = [@done]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  mkt.event @e count(3)
  // expected-error @+1 {{'mkt.task' op waits for 2 signals of @e, which has 3 producers}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>],
      waits = [#mkt.wait<@e, 2>], signals = [@e]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  mkt.event @e count(1)
  // expected-error @+1 {{'mkt.task' op cross-step waits reach back one step, got 2}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>],
      waits = [#mkt.wait<@e, 1, back = 2>], signals = [@e]}
}

// -----

mkt.tensor @h activation tensor<2x64xbf16> {program = @p}
mkt.program @p decode rows(2) {
  mkt.event @e count(1)
  // expected-error @+1 {{'mkt.task' op signals @nope, which is not an event}}
  mkt.task @t embedding tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@h, @h, @h], reads = [], writes = [#mkt.box<@h [0, 0] to [2, 64]>],
      waits = [], signals = [@e, @nope]}
}
