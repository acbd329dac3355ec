// RUN: mk-opt %s -split-input-file -verify-diagnostics -mk-tile="target=host max-seq-len=64"
// RUN: not mk-opt %s -split-input-file -mk-tile=target=tpu 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not mk-opt %s -split-input-file -mk-tile="max-seq-len=100" 2>&1 | FileCheck %s --check-prefix=SEQLEN
// RUN: not mk-opt %s -split-input-file -mk-tile="kv-block-size=0" 2>&1 | FileCheck %s --check-prefix=BLOCK

// Bad pass options are reported once per module, before any IR is looked at.
// TARGET: error: mk-tile: unknown target 'tpu' (known: host, a100, h100, h200)
// SEQLEN: error: mk-tile: max-seq-len (100) must be a positive multiple of kv-block-size (16)
// BLOCK: error: mk-tile: max-seq-len (4096) must be a positive multiple of kv-block-size (0)

// mk-tile lowers fused graphs only: an op that mk-fuse leaves unfused has no task.
func.func @unfused_norm(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2xi32> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  %ln = mkg.weight "model.norm.weight" : tensor<64xbf16>
  // expected-error @+1 {{'mkg.rms_norm' op mk-tile: no task lowers this op; fused graphs only (run mk-fuse first)}}
  %n = mkg.rms_norm %h, %ln {eps = 1.0e-05 : f32} : tensor<2x64xbf16>, tensor<64xbf16>
  %logits = mkg.linear %n, %emb : tensor<2x64xbf16>, tensor<256x64xbf16> -> tensor<2x256xf32>
  %t = mkg.argmax %logits : tensor<2x256xf32> -> tensor<2xi32>
  return %t : tensor<2xi32>
}

// -----

// A projection is a task only with a residual epilogue (O, down) or as the LM head.
func.func @plain_linear(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2x64xbf16> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  %w = mkg.weight "w" : tensor<64x64xbf16>
  // expected-error @+1 {{'mkg.linear' op mk-tile: no task lowers this op as it is; it must feed an argmax, directly or through an all-gather (the LM head) or have a residual epilogue or feed an all-reduce (O/down projection) (run mk-fuse)}}
  %y = mkg.linear %h, %w : tensor<2x64xbf16>, tensor<64x64xbf16> -> tensor<2x64xbf16>
  return %y : tensor<2x64xbf16>
}

// -----

// A mixture-of-experts block is lowered only in its fused form (norm prologue and
// residual epilogue): the router norms the rows, the combine adds the residual.
func.func @unfused_moe(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2x64xbf16> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %wr = mkg.weight "router" : tensor<2x64xbf16>
  %g = mkg.weight "g" : tensor<32x64xbf16>
  %d = mkg.weight "d" : tensor<64x32xbf16>
  // expected-error @+1 {{'mkg.moe' op mk-tile: no task lowers this op as it is; it must have a norm prologue and a residual epilogue or an all-reduce after it (mkg.moe) (run mk-fuse)}}
  %y = mkg.moe %h router(%wr) gate(%g, %g) up(%g, %g) down(%d, %d) norm(%ln) {eps = 1.0e-05 : f32, layer = 0 : i64, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64xbf16>) -> tensor<2x64xbf16>
  return %y : tensor<2x64xbf16>
}

// -----

// Expert e of a group is the tensor after expert e - 1's: one weight cannot serve two
// experts.
func.func @moe_shared_expert_weight(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2x64xbf16> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  %ln = mkg.weight "ln" : tensor<64xbf16>
  %wr = mkg.weight "router" : tensor<2x64xbf16>
  %g = mkg.weight "g" : tensor<32x64xbf16>
  %d = mkg.weight "d" : tensor<64x32xbf16>
  // expected-error @+1 {{'mkg.moe' op mk-tile: the gate weight of expert 1 (@w.g) is not the tensor after expert 0's: an expert group is 2 distinct weights that no other op reads}}
  %y = mkg.moe %h router(%wr) gate(%g, %g) up(%g, %g) down(%d, %d) norm(%ln) residual(%h) {eps = 1.0e-05 : f32, layer = 0 : i64, num_experts = 2 : i64, top_k = 1 : i64}
      : (tensor<2x64xbf16>, tensor<2x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64xbf16>, tensor<2x64xbf16>) -> tensor<2x64xbf16>
  return %y : tensor<2x64xbf16>
}

// -----

func.func @residual_after_embedding(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2x64xbf16> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  %w = mkg.weight "w" : tensor<64x64xbf16>
  // expected-error @+1 {{'mkg.linear' op mk-tile: a residual projection must follow attention (o_proj) or the gated MLP (down_proj)}}
  %y = mkg.linear %h, %w residual(%h : tensor<2x64xbf16>) {layer = 0 : i64} : tensor<2x64xbf16>, tensor<64x64xbf16> -> tensor<2x64xbf16>
  return %y : tensor<2x64xbf16>
}

// -----

// Tasks take their layer from the op, never from where the op sits.
func.func @residual_without_layer(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2x64xbf16> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  %w = mkg.weight "w" : tensor<64x64xbf16>
  // expected-error @+1 {{'mkg.linear' op mk-tile: an O/down projection needs the `layer` it belongs to}}
  %y = mkg.linear %h, %w residual(%h : tensor<2x64xbf16>) : tensor<2x64xbf16>, tensor<64x64xbf16> -> tensor<2x64xbf16>
  return %y : tensor<2x64xbf16>
}

// -----

func.func @residual_with_bias(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2x64xbf16> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  %w = mkg.weight "w" : tensor<64x64xbf16>
  %b = mkg.weight "b" : tensor<64xbf16>
  // expected-error @+1 {{'mkg.linear' op mk-tile: O/down projections take no norm prologue or bias}}
  %y = mkg.linear %h, %w bias(%b : tensor<64xbf16>) residual(%h : tensor<2x64xbf16>) : tensor<2x64xbf16>, tensor<64x64xbf16> -> tensor<2x64xbf16>
  return %y : tensor<2x64xbf16>
}

// -----

func.func @lm_head_without_norm(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2xi32> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  // expected-error @+1 {{'mkg.linear' op mk-tile: the LM head takes the final RMSNorm as its prologue and no bias or residual (run mk-fuse)}}
  %logits = mkg.linear %h, %emb : tensor<2x64xbf16>, tensor<256x64xbf16> -> tensor<2x256xf32>
  %t = mkg.argmax %logits : tensor<2x256xf32> -> tensor<2xi32>
  return %t : tensor<2xi32>
}

// -----

func.func @bf16_logits(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2xi32> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  %fn = mkg.weight "model.norm.weight" : tensor<64xbf16>
  // expected-error @+1 {{'mkg.linear' op mk-tile: logits must be f32, got 'tensor<2x256xbf16>'}}
  %logits = mkg.linear %h, %emb norm(%fn : tensor<64xbf16>) {eps = 1.0e-05 : f32} : tensor<2x64xbf16>, tensor<256x64xbf16> -> tensor<2x256xbf16>
  %t = mkg.argmax %logits : tensor<2x256xbf16> -> tensor<2xi32>
  return %t : tensor<2xi32>
}

// -----

func.func @argmax_without_lm_head(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2xi32> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  // expected-error @+1 {{'mkg.argmax' op mk-tile: argmax must consume the LM head's logits}}
  %t = mkg.argmax %h : tensor<2x64xbf16> -> tensor<2xi32>
  return %t : tensor<2xi32>
}

// -----

// expected-error @+1 {{'func.func' op mk-tile: a program takes (tokens, positions), got 1 arguments}}
func.func @one_argument(%tokens: tensor<2xi32>) -> tensor<2x64xbf16> attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "model.embed_tokens.weight" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  return %h : tensor<2x64xbf16>
}

// -----

// expected-error @+1 {{mk-tile: no function has an mkg.program attribute}}
module {
  func.func @helper(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) {
    return
  }
}
