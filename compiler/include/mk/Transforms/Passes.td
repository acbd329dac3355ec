//===- Passes.td - The mk compiler pipeline -------------------------------===//
#ifndef MK_PASSES
#define MK_PASSES

include "mlir/Pass/PassBase.td"

def MkFuse : Pass<"mk-fuse", "::mlir::ModuleOp"> {
  let summary = "Fuse graph ops into the blocks the megakernel executes";
  let description = [{
    Rewrites, in every function of the module:
    - `rms_norm` feeding projections into the `norm` prologue of each projection;
    - Q/K/V `linear`s + optional `head_norm` + `rope` + `kv_append` into one `mkg.qkv`
      (RoPE and the KV append run in the projection epilogue);
    - `add(linear(x), r)` into `linear(x) residual(r)` (O and down projections);
    - gate/up `linear`s + `silu_mul` into one `mkg.gated_mlp`;
    - the `rms_norm` before an `mkg.moe` into its `norm` prologue, and the residual
      `add` after it into its `residual` epilogue.
    A fused op keeps the `layer` of the ops it absorbs; ops of different layers never
    fuse. Ops that do not match a pattern are left alone; mk-tile rejects any that
    remain.

    ```mlir
    // before
    %n = mkg.rms_norm %h, %w {eps = 1.0e-05 : f32} : tensor<1x64xbf16>, tensor<64xbf16>
    %y = mkg.linear %n, %wl : tensor<1x64xbf16>, tensor<256x64xbf16> -> tensor<1x256xbf16>
    // after
    %y = mkg.linear %h, %wl norm(%w : tensor<64xbf16>) {eps = 1.0e-05 : f32} : ...
    ```
  }];
  let dependentDialects = ["::mk::graph::MKGDialect"];
}

def MkShard : Pass<"mk-shard", "::mlir::ModuleOp"> {
  let summary = "Split a fused graph over tensor-parallel ranks (Megatron-style)";
  let description = [{
    Rewrites every program of a fused graph into what each of `ranks` ranks computes
    (one SPMD graph for all ranks); weights become one rank's slice of the checkpoint
    tensor (`shard_dim`, `shard_parts`, `shard_replicas` on `mkg.weight`):
    - `mkg.qkv`: Q, K, V (and their biases) split by heads along dimension 0; with
      fewer KV heads than ranks each KV head is replicated on ranks / kv_heads ranks
      (shard_replicas), so a rank keeps the KV head of its query heads;
    - `mkg.attention`: this rank's heads;
    - `mkg.gated_mlp`: gate and up split by output rows (the intermediate columns);
    - O and down projections (`mkg.linear` with a residual): the weight split along
      its input features (dimension 1); the residual moves to an `mkg.all_reduce`
      that sums the ranks' partial outputs;
    - `mkg.moe`: each expert's gate/up split like the gated MLP's and down like the
      down projection's; the router stays whole; the residual moves to an all-reduce;
    - the LM head (the `mkg.linear` feeding the argmax): split over the vocabulary
      (dimension 0), with an `mkg.all_gather` of its output feeding the argmax.
    Norm weights, QK-norm weights, the router and the embedding stay whole; a tied LM
    head gets a second, sharded `mkg.weight` of the embedding's tensor. The module's
    `mk.model` keeps the whole model's numbers; `mk.tensor_parallel` records `ranks`.
    With ranks = 1 the pass changes nothing. A shape that `ranks` does not divide, or
    an op left unfused, is an error.

    ```mlir
    // before (ranks = 2)
    %o = mkg.linear %a, %wo residual(%h : tensor<1x64xbf16>) {layer = 0 : i64}
        : tensor<1x128xbf16>, tensor<64x128xbf16> -> tensor<1x64xbf16>
    // after
    %wo = mkg.weight "model.layers.0.self_attn.o_proj.weight"
        {shard_dim = 1 : i64, shard_parts = 2 : i64, shard_replicas = 1 : i64} : tensor<64x64xbf16>
    %p = mkg.linear %a, %wo {layer = 0 : i64}
        : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
    %o = mkg.all_reduce %p residual(%h : tensor<1x64xbf16>) {layer = 0 : i64, ranks = 2 : i64}
        : tensor<1x64xbf16>
    ```
  }];
  let dependentDialects = ["::mk::graph::MKGDialect"];
  let options = [
    Option<"ranks", "ranks", "int64_t", /*default=*/"1",
           "Tensor-parallel ranks (1: no tensor parallelism)">,
  ];
}

def MkTile : Pass<"mk-tile", "::mlir::ModuleOp"> {
  let summary = "Lower fused graph functions to tile tasks for a target";
  let description = [{
    Each function with `mkg.program` becomes an `mkt.program`; each fused op becomes
    tile tasks whose sizes come from the target description (worker count, shared
    memory, bandwidth): weight-streaming projections are split so that every worker
    gets tiles, QKV tiles hold whole heads of one KV-head group (RoPE and QK-norm need
    whole heads), decode attention is split over KV-position blocks with a merge per
    KV head, prefill attention is split over row blocks. Tasks record the exact boxes
    they read and write, and take their layer from the op's `layer` attribute. Each op
    family registers its own lowering (its tiling rule, boxes and cost); an op no
    lowering takes is an error. The function is erased.
  }];
  let dependentDialects = ["::mk::task::MKTDialect"];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "Target description: host, a100, h100 or h200">,
    Option<"maxSeqLen", "max-seq-len", "int64_t", /*default=*/"4096",
           "Longest sequence the KV cache holds (default: the module's "
           "mk.model.max_seq_len, else 4096)">,
    Option<"kvBlockSize", "kv-block-size", "int64_t", /*default=*/"16",
           "Tokens per KV-cache block (default: mk.model.kv_block_size, else 16)">,
  ];
}

def MkScoreboard : Pass<"mk-scoreboard", "::mlir::ModuleOp"> {
  let summary = "Derive scoreboard events and waits from tile index boxes";
  let description = [{
    Builds the hazard graph of every program from the boxes tasks read and write
    (RAW, WAR and WAW on overlapping boxes of the same tensor, in task order), removes
    transitively implied edges, and groups producers with identical consumer sets into
    one event each (the fewest events such that every task waits exactly on what it
    needs). Multi-step programs (decode) get the cross-step edge from the task that
    writes the step's tokens to the tasks that read them. Fails if a task would need
    more than four waits.
  }];
  let dependentDialects = ["::mk::task::MKTDialect"];
}

def MkSchedule : Pass<"mk-schedule", "::mlir::ModuleOp"> {
  let summary = "Choose each program's queue order";
  let description = [{
    A topological order built by list scheduling: among the tasks whose producers are
    all already in the queue, take the one with the longest remaining critical path
    (cost from bytes and flops at the target's per-worker bandwidth and compute);
    ties prefer weight-streaming tasks, so that workers claiming them start their
    weight prefetch while the previous layer's tail still runs.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "Target description used for the cost model">,
  ];
}

def MkPlanMemory : Pass<"mk-plan-memory", "::mlir::ModuleOp"> {
  let summary = "Assign activation arena offsets by liveness";
  let description = [{
    Places every activation tensor of a program in the program's arena, first fit in
    queue order. Two tensors may share bytes only if every task touching the first is
    a same-step ancestor of every task writing the second (with a dynamic queue, queue
    order alone proves nothing). Sets `offset` on tensors and `arena_bytes` on programs.
  }];
}

def MkEmitPlan : Pass<"mk-emit-plan", "::mlir::ModuleOp"> {
  let summary = "Serialize the module to a plan file";
  let description = [{
    Converts tensors, programs, events, tasks and the model metadata (module attribute
    `mk.model`) into the binary plan, runs the plan verifier, and writes the file
    (atomically). With no `output`, only converts and verifies.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"\"",
           "Plan file to write">,
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "Target recorded in the plan header">,
  ];
}

def MkVerify : Pass<"mk-verify", "::mlir::ModuleOp"> {
  let summary = "Verify the module: a checkpoint of a pipeline that does not verify after every pass";
  let description = [{
    Runs the IR verifier (every op's invariants and symbol uses) on the module and
    fails the pipeline with its diagnostics. mkc's pipeline verifies the task IR where
    it matters instead of after every pass: after mk-tile (the task IR as built) and
    before mk-emit-plan (what is serialized); `mkc compile --verify-each` verifies
    after every pass instead. Changes nothing.
  }];
}

def MkTestHazards : Pass<"mk-test-hazards", "::mlir::ModuleOp"> {
  let summary = "Print the hazard analysis of every program (for lit tests)";
  let description = [{
    Prints, for every task, each earlier task it conflicts with and why (RAW, WAR or
    WAW, on which tensor), before transitive reduction, then the loop-carried reads of
    step state (what becomes the cross-step wait).
  }];
}

#endif // MK_PASSES
