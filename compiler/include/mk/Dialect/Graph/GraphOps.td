//===- GraphOps.td - The mk graph dialect: transformer ops on whole tensors ===//
//
// The graph dialect is what a model family's builder emits and what mk-fuse rewrites.
// Tensors are builtin ranked tensors: activations are [rows, features] where rows are
// the decode batch or the prefill chunk; weights come from `mkg.weight` by HF name.
//===----------------------------------------------------------------------===//
#ifndef MK_GRAPH_OPS
#define MK_GRAPH_OPS

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mk/Dialect/Task/TaskEnums.td"

def MKG_Dialect : Dialect {
  let name = "mkg";
  let cppNamespace = "::mk::graph";
  let summary = "Transformer operations on whole tensors";
  let description = [{
    The `mkg` dialect describes one forward step of a decoder-only transformer as
    operations on whole tensors: embedding lookup, RMSNorm, linear projections,
    rotary embeddings, KV-cache append, attention over the cache, the gated MLP and the
    LM head with argmax. A function with attribute
    `mkg.program = #mkg.program_kind<decode>` processes one token for each of its rows
    (a batch of sequences); `prefill` processes a chunk of consecutive tokens of one
    sequence.

    Every op of a transformer layer carries that layer's index in its `layer`
    attribute (the builder sets it, mk-fuse keeps it on the fused ops, mk-tile names
    and tags the tasks by it); the embedding, the final norm, the LM head and argmax
    belong to no layer.

    `mk-fuse` rewrites the plain ops into the fused forms the megakernel executes
    (`mkg.qkv`, `mkg.gated_mlp`, `mkg.linear` and `mkg.moe` with a norm prologue or a
    residual epilogue), and `mk-tile` lowers fused graphs to the `mkt` task dialect.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let discardableAttrs = (ins "ProgramKindAttr":$program);
  let hasOperationAttrVerify = 1;
}

class MKG_Op<string mnemonic, list<Trait> traits = []>
    : Op<MKG_Dialect, mnemonic, traits>;

def MKG_ProgramKindAttr : EnumAttr<MKG_Dialect, MKT_ProgramKind, "program_kind"> {
  let cppNamespace = "::mk::graph";
  let description = [{
    What a function with the `mkg.program` attribute computes per step: `decode` or
    `prefill`. The enum is the task dialect's (`mk::task::ProgramKind`, equal to
    the ISA's), so mk-tile gives the `mkt.program` the same value.

    ```mlir
    func.func @decode(%tokens: tensor<8xi32>, %pos: tensor<8xi32>) -> tensor<8xi32>
        attributes {mkg.program = #mkg.program_kind<decode>}
    ```
  }];
  let assemblyFormat = "`<` $value `>`";
}

def MKG_LayerIndex : ConfinedAttr<I64Attr, [IntNonNegative]>;

def MKG_LayerOpInterface : OpInterface<"LayerOpInterface"> {
  let cppNamespace = "::mk::graph";
  let description = [{
    An op that may belong to a transformer layer, recorded in its `layer` attribute
    (an `MKG_LayerIndex`, optional on the plain ops, required on the fused blocks);
    mk-fuse reads it through this interface to keep it on what it fuses.
  }];
  let methods = [
    InterfaceMethod<"The index of the layer the op belongs to, if any.",
      "std::optional<int64_t>", "getLayerIndex", (ins), [{}], [{
        if (auto attr = $_op.getLayerAttr())
          return attr.getInt();
        return std::nullopt;
      }]>,
  ];
}

class MKG_LayerOp<string mnemonic, list<Trait> traits = []>
    : MKG_Op<mnemonic, !listconcat(traits, [MKG_LayerOpInterface])>;

def MKG_KvCacheType : TypeDef<MKG_Dialect, "KvCache"> {
  let mnemonic = "kv_cache";
  let summary = "The paged KV cache of one layer, after this step's append";
  let description = [{
    A value of this type stands for layer `layer`'s KV cache once the current step's
    keys and values have been appended. It orders attention after the append.

    ```mlir
    %cache = mkg.kv_append %k, %v : tensor<1x128xbf16>, tensor<1x128xbf16> -> !mkg.kv_cache<0>
    ```
  }];
  let parameters = (ins "unsigned":$layer);
  let assemblyFormat = "`<` $layer `>`";
}

//===----------------------------------------------------------------------===//
// Plain ops (what builders emit)
//===----------------------------------------------------------------------===//

def MKG_WeightOp : MKG_Op<"weight", [Pure]> {
  let summary = "A model weight, bound by its Hugging Face tensor name";
  let description = [{
    Under tensor parallelism (after `mk-shard`) a weight may be one rank's slice of
    the checkpoint tensor: the checkpoint tensor is `shard_parts` equal slices along
    dimension `shard_dim`, the result type is one slice, and rank r binds slice
    (r / `shard_replicas`) % `shard_parts`. The three attributes come together; a
    weight without them is the whole tensor on every rank.

    ```mlir
    %w = mkg.weight "model.layers.0.self_attn.q_proj.weight" : tensor<4096x4096xbf16>
    %o = mkg.weight "model.layers.0.self_attn.o_proj.weight"
        {shard_dim = 1 : i64, shard_parts = 8 : i64, shard_replicas = 1 : i64}
        : tensor<8192x1024xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<I64Attr>:$shard_dim,
                   OptionalAttr<I64Attr>:$shard_parts,
                   OptionalAttr<I64Attr>:$shard_replicas);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let builders = [
    // The whole tensor, as graph builders emit it.
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::StringAttr":$name), [{
      build($_builder, $_state, result, name, nullptr, nullptr, nullptr);
    }]>,
  ];
  let hasVerifier = 1;
}

def MKG_EmbeddingOp : MKG_Op<"embedding", [Pure]> {
  let summary = "Gather rows of the embedding table";
  let description = [{
    `result[r, :] = table[tokens[r], :]`.

    ```mlir
    %h = mkg.embedding %tokens, %table : (tensor<8xi32>, tensor<128256x4096xbf16>) -> tensor<8x4096xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$tokens, AnyRankedTensor:$table);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$tokens `,` $table attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def MKG_RmsNormOp : MKG_LayerOp<"rms_norm", [Pure, AllTypesMatch<["x", "result"]>]> {
  let summary = "RMSNorm over the last dimension";
  let description = [{
    `result = x / sqrt(mean(x^2) + eps) * weight`, statistics in fp32.

    ```mlir
    %n = mkg.rms_norm %h, %w {eps = 1.0e-05 : f32, layer = 0 : i64} : tensor<8x4096xbf16>, tensor<4096xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$weight, F32Attr:$eps,
                   OptionalAttr<MKG_LayerIndex>:$layer);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$x `,` $weight attr-dict `:` type($x) `,` type($weight)";
  let hasVerifier = 1;
}

def MKG_LinearOp : MKG_LayerOp<"linear", [Pure, AttrSizedOperandSegments]> {
  let summary = "y = x W^T (+ bias), with an optional RMSNorm prologue and residual epilogue";
  let description = [{
    `x` is [rows, K], `weight` is [N, K] (the Hugging Face layout), the result is
    [rows, N]. After `mk-fuse`, `norm` names the RMSNorm weight applied to `x` first (with
    attribute `eps`) and `residual` a [rows, N] tensor added to the result.

    ```mlir
    %y = mkg.linear %a, %wo residual(%h : tensor<8x4096xbf16>) {layer = 0 : i64}
        : tensor<8x4096xbf16>, tensor<4096x4096xbf16> -> tensor<8x4096xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$weight,
                   Optional<AnyRankedTensor>:$norm_weight,
                   Optional<AnyRankedTensor>:$bias,
                   Optional<AnyRankedTensor>:$residual,
                   OptionalAttr<F32Attr>:$eps, OptionalAttr<MKG_LayerIndex>:$layer);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $x `,` $weight
    (`norm` `(` $norm_weight^ `:` type($norm_weight) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    attr-dict `:` type($x) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def MKG_HeadNormOp : MKG_LayerOp<"head_norm", [Pure, AllTypesMatch<["x", "result"]>]> {
  let summary = "Per-head RMSNorm (Qwen3 QK-norm)";
  let description = [{
    `x` is [rows, heads * head_dim]; each head's `head_dim` slice is RMS-normalized and
    scaled by `weight` [head_dim].

    ```mlir
    %qn = mkg.head_norm %q, %w {head_dim = 128 : i64, eps = 1.0e-06 : f32, layer = 0 : i64}
        : tensor<1x4096xbf16>, tensor<128xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$weight,
                   I64Attr:$head_dim, F32Attr:$eps,
                   OptionalAttr<MKG_LayerIndex>:$layer);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$x `,` $weight attr-dict `:` type($x) `,` type($weight)";
  let hasVerifier = 1;
}

def MKG_RopeOp : MKG_LayerOp<"rope", [Pure, AllTypesMatch<["x", "result"]>]> {
  let summary = "Rotary position embedding of every head";
  let description = [{
    Rotates each `head_dim` slice of `x` [rows, heads * head_dim] by the angle of
    `positions[r]`. Rotate-half pairing (HF's convention) by default; `interleaved`
    pairs (2i, 2i+1). `llama3_scaling` = [factor, low_freq_factor, high_freq_factor,
    original_max_position_embeddings] applies Llama 3's frequency scaling.

    ```mlir
    %qr = mkg.rope %q, %pos {head_dim = 128 : i64, layer = 0 : i64, theta = 5.0e+05 : f32}
        : tensor<1x4096xbf16>, tensor<1xi32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$positions,
                   I64Attr:$head_dim, F32Attr:$theta, UnitAttr:$interleaved,
                   OptionalAttr<DenseF32ArrayAttr>:$llama3_scaling,
                   OptionalAttr<MKG_LayerIndex>:$layer);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$x `,` $positions attr-dict `:` type($x) `,` type($positions)";
  let hasVerifier = 1;
}

def MKG_KvAppendOp : MKG_LayerOp<"kv_append"> {
  let summary = "Append this step's keys and values to a layer's paged KV cache";
  let description = [{
    `k` and `v` are [rows, kv_heads * head_dim]. Writes them at each row's position and
    returns the cache for attention to read. A `layer` must be the cache's.

    ```mlir
    %c = mkg.kv_append %k, %v {layer = 0 : i64} : tensor<1x1024xbf16>, tensor<1x1024xbf16> -> !mkg.kv_cache<0>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$k, AnyRankedTensor:$v,
                   OptionalAttr<MKG_LayerIndex>:$layer);
  let results = (outs MKG_KvCacheType:$cache);
  let assemblyFormat = "$k `,` $v attr-dict `:` type($k) `,` type($v) `->` type($cache)";
  let hasVerifier = 1;
}

def MKG_AttentionOp : MKG_LayerOp<"attention", [Pure]> {
  let summary = "Scaled dot-product attention over a layer's KV cache";
  let description = [{
    `q` is [rows, num_heads * head_dim]; GQA maps query head h to KV head
    h / (num_heads / num_kv_heads). In a decode program each row is its own sequence;
    in a prefill program rows are consecutive positions and attention is causal. A
    `sliding_window` limits each query to the last `sliding_window` keys. A `layer`
    must be the cache's.

    ```mlir
    %a = mkg.attention %qr, %c {head_dim = 128 : i64, layer = 0 : i64, num_heads = 32 : i64, num_kv_heads = 8 : i64}
        : tensor<1x4096xbf16>, !mkg.kv_cache<0> -> tensor<1x4096xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$q, MKG_KvCacheType:$cache,
                   I64Attr:$num_heads, I64Attr:$num_kv_heads, I64Attr:$head_dim,
                   OptionalAttr<I64Attr>:$sliding_window,
                   OptionalAttr<MKG_LayerIndex>:$layer);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$q `,` $cache attr-dict `:` type($q) `,` type($cache) `->` type($result)";
  let hasVerifier = 1;
}

def MKG_AddOp : MKG_LayerOp<"add", [Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise add (residual connections)";
  let description = [{
    ```mlir
    %h1 = mkg.add %h0, %o {layer = 0 : i64} : tensor<8x4096xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs,
                   OptionalAttr<MKG_LayerIndex>:$layer);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def MKG_SiluMulOp : MKG_LayerOp<"silu_mul", [Pure, SameOperandsAndResultType]> {
  let summary = "SiLU(gate) * up";
  let description = [{
    ```mlir
    %m = mkg.silu_mul %g, %u {layer = 0 : i64} : tensor<8x14336xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$gate, AnyRankedTensor:$up,
                   OptionalAttr<MKG_LayerIndex>:$layer);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def MKG_ArgmaxOp : MKG_Op<"argmax", [Pure]> {
  let summary = "Greedy next token: the index of each row's largest logit";
  let description = [{
    Ties go to the lowest index, so the result does not depend on how the vocabulary
    is tiled.

    ```mlir
    %t = mkg.argmax %logits : tensor<8x128256xf32> -> tensor<8xi32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$logits);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$logits attr-dict `:` type($logits) `->` type($result)";
  let hasVerifier = 1;
}

def MKG_MoeOp : MKG_LayerOp<"moe", [Pure, AttrSizedOperandSegments]> {
  let summary = "Mixture-of-experts MLP: router, top-k experts, weighted combine";
  let description = [{
    Hugging Face's `Qwen3MoeSparseMoeBlock` / `MixtralSparseMoeBlock`. `x` is
    [rows, hidden]; `router` is [num_experts, hidden]; `w_gate`, `w_up` ([inter,
    hidden]) and `w_down` ([hidden, inter]) hold one weight per expert, expert e at
    position e. Each row's router logits `x W_router^T` go through a softmax over all
    experts; the `top_k` largest (ties to the lower expert id) are its experts, with
    their probabilities as weights, renormalized to sum to 1 if `norm_topk_prob`. The
    result row is the weighted sum of those experts' `down(SiLU(gate x) * up x)`.

    The builder emits `rms_norm -> mkg.moe -> add(residual)`; `mk-fuse` moves the norm
    into a prologue (`norm`, with attribute `eps`: `x` is then the residual stream) and
    the add into an epilogue (`residual`, [rows, hidden], added to the result), and
    `mk-tile` lowers that fused form.

    ```mlir
    %y = mkg.moe %h router(%wr) gate(%g0, %g1) up(%u0, %u1) down(%d0, %d1)
        norm(%ln) residual(%h)
        {eps = 1.0e-05 : f32, layer = 0 : i64, norm_topk_prob, num_experts = 2 : i64,
         top_k = 1 : i64} : (...) -> tensor<8x64xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$router,
                   Variadic<AnyRankedTensor>:$w_gate, Variadic<AnyRankedTensor>:$w_up,
                   Variadic<AnyRankedTensor>:$w_down,
                   Optional<AnyRankedTensor>:$norm_weight,
                   Optional<AnyRankedTensor>:$residual,
                   MKG_LayerIndex:$layer, I64Attr:$num_experts, I64Attr:$top_k,
                   UnitAttr:$norm_topk_prob, OptionalAttr<F32Attr>:$eps);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $x `router` `(` $router `)` `gate` `(` $w_gate `)` `up` `(` $w_up `)`
    `down` `(` $w_down `)`
    (`norm` `(` $norm_weight^ `)`)?
    (`residual` `(` $residual^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Tensor-parallel ops (what mk-shard inserts)
//===----------------------------------------------------------------------===//

def MKG_AllReduceOp : MKG_LayerOp<"all_reduce", [AllTypesMatch<["partial", "result"]>]> {
  let summary = "Sum one value over the tensor-parallel ranks, plus an optional residual";
  let description = [{
    Every one of the `ranks` ranks holds its own `partial` [rows, features] (its
    row-parallel projection's output); the result, the same on every rank, is their
    sum in rank order (fp32, rounded to bf16 once) plus `residual`. `mk-shard` puts one
    after each O projection, down projection and MoE block of a tensor-parallel graph.
    Not `Pure`: every rank must run every all-reduce, in the same order.

    ```mlir
    %h1 = mkg.all_reduce %partial residual(%h0) {layer = 0 : i64, ranks = 8 : i64}
        : tensor<1x8192xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$partial, Optional<AnyRankedTensor>:$residual,
                   I64Attr:$ranks, OptionalAttr<MKG_LayerIndex>:$layer);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $partial (`residual` `(` $residual^ `:` type($residual) `)`)? attr-dict `:`
    type($partial)
  }];
  let hasVerifier = 1;
}

def MKG_AllGatherOp : MKG_Op<"all_gather"> {
  let summary = "Concatenate one value of every tensor-parallel rank along features";
  let description = [{
    `local` is [rows, n] on each of the `ranks` ranks; the result, the same on every
    rank, is [rows, ranks * n]: rank q's values at columns [q n, (q + 1) n). `mk-shard`
    puts one between the vocabulary-parallel LM head and the argmax (mk-tile gathers
    the LM head tiles' partial maxima, not the logits).

    ```mlir
    %all = mkg.all_gather %logits {ranks = 8 : i64} : tensor<1x16032xf32> -> tensor<1x128256xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$local, I64Attr:$ranks);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$local attr-dict `:` type($local) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fused ops (what mk-fuse produces and mk-tile consumes)
//===----------------------------------------------------------------------===//

def MKG_QkvOp : MKG_LayerOp<"qkv", [AttrSizedOperandSegments]> {
  let summary = "RMSNorm + Q/K/V projections + bias + QK-norm + RoPE + KV append";
  let description = [{
    The fused attention input block. `x` is the residual stream [rows, hidden]; the
    RMSNorm with `norm_weight` runs in the prologue of each projection tile. Q, K and V
    use the separate HF weights `wq` [heads * head_dim, hidden], `wk` and `wv`
    [kv_heads * head_dim, hidden], optional biases (Qwen2) and optional per-head
    norms (Qwen3), then RoPE; K and V are appended to layer `layer`'s cache in the
    epilogue. Results: the rotated queries and the cache.

    ```mlir
    %q, %c = mkg.qkv %h norm(%ln) weights(%wq, %wk, %wv) positions(%pos)
        {eps = 1.0e-05 : f32, head_dim = 64 : i64, layer = 0 : i64, num_heads = 32 : i64,
         num_kv_heads = 8 : i64, theta = 5.0e+05 : f32} : (...) -> (tensor<1x2048xbf16>, !mkg.kv_cache<0>)
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$norm_weight,
                   AnyRankedTensor:$wq, AnyRankedTensor:$wk, AnyRankedTensor:$wv,
                   Optional<AnyRankedTensor>:$bq, Optional<AnyRankedTensor>:$bk,
                   Optional<AnyRankedTensor>:$bv,
                   Optional<AnyRankedTensor>:$q_norm, Optional<AnyRankedTensor>:$k_norm,
                   AnyRankedTensor:$positions,
                   MKG_LayerIndex:$layer, I64Attr:$num_heads, I64Attr:$num_kv_heads,
                   I64Attr:$head_dim, F32Attr:$eps, OptionalAttr<F32Attr>:$qk_eps,
                   F32Attr:$theta, UnitAttr:$interleaved,
                   OptionalAttr<DenseF32ArrayAttr>:$llama3_scaling);
  let results = (outs AnyRankedTensor:$q, MKG_KvCacheType:$cache);
  let assemblyFormat = [{
    $x `norm` `(` $norm_weight `)` `weights` `(` $wq `,` $wk `,` $wv `)`
    (`bias` `(` $bq^ `,` $bk `,` $bv `)`)?
    (`qk_norm` `(` $q_norm^ `,` $k_norm `)`)?
    `positions` `(` $positions `)`
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MKG_GatedMlpOp : MKG_LayerOp<"gated_mlp", [Pure]> {
  let summary = "RMSNorm + gate/up projections + SiLU(gate) * up";
  let description = [{
    `x` is the residual stream [rows, hidden]; the result is [rows, intermediate]. The
    block belongs to layer `layer`.

    ```mlir
    %m = mkg.gated_mlp %h norm(%ln) weights(%wg, %wu) {eps = 1.0e-05 : f32, layer = 0 : i64}
        : (tensor<8x4096xbf16>, tensor<4096xbf16>, tensor<14336x4096xbf16>, tensor<14336x4096xbf16>) -> tensor<8x14336xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$norm_weight,
                   AnyRankedTensor:$w_gate, AnyRankedTensor:$w_up, F32Attr:$eps,
                   MKG_LayerIndex:$layer);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $x `norm` `(` $norm_weight `)` `weights` `(` $w_gate `,` $w_up `)`
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // MK_GRAPH_OPS
