//===- TaskOps.td - The mk task dialect: tiles, events, programs ----------===//
//
// The task dialect is the plan before it is serialized: module-level tensors, and per
// program the tile tasks with the exact index boxes each reads and writes, the events
// they signal and wait on, and their queue order. Task kinds and operand roles come
// from the ISA table (megakernel/include/mk/isa/task_kinds.h): one source of truth.
//===----------------------------------------------------------------------===//
#ifndef MK_TASK_OPS
#define MK_TASK_OPS

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mk/Dialect/Task/TaskEnums.td"

def MKT_Dialect : Dialect {
  let name = "mkt";
  let cppNamespace = "::mk::task";
  let summary = "Tile tasks, scoreboard events and programs";
  let description = [{
    A module of the `mkt` dialect holds `mkt.tensor` declarations (weights, activation
    buffers, KV caches, per-step state) and one `mkt.program` per executable program
    (`decode` for a batch of sequences, `prefill` for a chunk of one sequence).

    A program holds `mkt.task` ops, one per tile, each naming its kind from the ISA
    table, its operand tensors by role, the index boxes it reads and writes, and, once
    `mk-scoreboard` has run, the `mkt.event`s it waits on and signals. `mk-schedule`
    gives every task its position in the queue (`order`), `mk-plan-memory` gives every
    activation its arena offset, and `mk-emit-plan` writes the binary plan.
  }];
  let useDefaultAttributePrinterParser = 1;
}

class MKT_Op<string mnemonic, list<Trait> traits = []>
    : Op<MKT_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Closed sets: placements, program kinds, task kinds
//===----------------------------------------------------------------------===//

def MKT_TaskKindAttr : AttrDef<MKT_Dialect, "TaskKind"> {
  let mnemonic = "task_kind";
  let summary = "A task kind of the ISA table";
  let description = [{
    The attribute stores `mk::isa::TaskKind` itself and spells it by the ISA table's
    names (`MK_TASK_KINDS` in megakernel/include/mk/isa/task_kinds.h). It is not an
    `I32EnumAttr`: that would list the kinds a second time, here, and a new kind
    would have one more place to touch. Storing the ISA enum makes the attribute equal
    to it by construction; parsing looks the name up in the table and rejects any
    other. Alone it reads `#mkt.task_kind<attn_merge>`; in `mkt.task` it is the bare
    name.

    ```mlir
    mkt.task @l0.merge.g0 attn_merge layer(0) tile [0, 8, 0, 1, 0, 4] {...}
    ```
  }];
  let parameters = (ins "::mk::isa::TaskKind":$value);
  let hasCustomAssemblyFormat = 1;
  let returnType = "::mk::isa::TaskKind";
  let convertFromStorage = "$_self.getValue()";
  let constBuilderCall = "::mk::task::TaskKindAttr::get($_builder.getContext(), $0)";
  let extraClassDeclaration = [{
    /// Parses a task kind's bare name; an unknown name is an error.
    static ::mlir::FailureOr<::mk::isa::TaskKind> parseName(::mlir::AsmParser &parser);
  }];
}

def MKT_BoxAttr : AttrDef<MKT_Dialect, "Box"> {
  let mnemonic = "box";
  let summary = "A half-open index box [lo, hi) of one tensor";
  let description = [{
    The exact part of a tensor that a task reads or writes; mk-scoreboard derives
    dependencies from overlapping boxes.

    ```mlir
    #mkt.box<@decode.h0 [0, 0] to [8, 4096]>
    ```
  }];
  let parameters = (ins "::mlir::FlatSymbolRefAttr":$tensor,
                        ArrayRefParameter<"int64_t">:$lo,
                        ArrayRefParameter<"int64_t">:$hi);
  let assemblyFormat = "`<` $tensor `[` $lo `]` `to` `[` $hi `]` `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True when the two boxes name the same tensor and intersect.
    bool overlaps(BoxAttr other) const;
  }];
}

def MKT_WaitAttr : AttrDef<MKT_Dialect, "Wait"> {
  let mnemonic = "wait";
  let summary = "Wait until an event has been signalled `count` times this step";
  let description = [{
    A task of step s waiting on `#mkt.wait<@e, c>` is ready when
    `counter[e] >= (s + 1 - back) * c`. `back = 1` waits on the previous step
    (cross-step edges only point backwards).

    ```mlir
    #mkt.wait<@qkv_l0_h3, 6>
    #mkt.wait<@argmax, 1, back = 1>
    ```
  }];
  let parameters = (ins "::mlir::FlatSymbolRefAttr":$event, "uint64_t":$count,
                        DefaultValuedParameter<"uint64_t", "0">:$back);
  let assemblyFormat = "`<` $event `,` $count (`,` `back` `=` $back^)? `>`";
}

def MKT_TensorOp : MKT_Op<"tensor", [Symbol]> {
  let summary = "A tensor of the plan: weight, activation, KV cache or step state";
  let description = [{
    `placement` is `weight` (bound to safetensors name `weight_name`),
    `activation` (a range of `program`'s arena at `offset`, set by mk-plan-memory),
    `kv_cache` (layer `layer`'s paged cache, [blocks, block_size, kv_heads, head_dim]),
    `step_state` (per-step inputs and outputs the runtime owns) or `comm` (a
    tensor-parallel exchange buffer of `program`, allocated by the executor on every
    rank, outside the arena).

    A weight of a tensor-parallel plan may be one rank's slice of the checkpoint
    tensor (`shard_dim`, `shard_parts`, `shard_replicas`, as on `mkg.weight`; the plan's
    TensorDesc fields of the same names).

    ```mlir
    mkt.tensor @w.l0.q weight tensor<2048x2048xbf16> {weight_name = "model.layers.0.self_attn.q_proj.weight"}
    mkt.tensor @w.l0.o weight tensor<2048x1024xbf16> {shard_dim = 1 : i64, shard_parts = 2 : i64, shard_replicas = 1 : i64, weight_name = "model.layers.0.self_attn.o_proj.weight"}
    mkt.tensor @decode.h1 activation tensor<8x2048xbf16> {program = @decode}
    mkt.tensor @decode.comm.flags comm tensor<2x16x2xi32> {program = @decode}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, MKT_Placement:$placement,
                   TypeAttrOf<AnyRankedTensor>:$type,
                   OptionalAttr<StrAttr>:$weight_name,
                   OptionalAttr<I64Attr>:$layer,
                   OptionalAttr<FlatSymbolRefAttr>:$program,
                   OptionalAttr<I64Attr>:$offset,
                   OptionalAttr<I64Attr>:$shard_dim,
                   OptionalAttr<I64Attr>:$shard_parts,
                   OptionalAttr<I64Attr>:$shard_replicas);
  let assemblyFormat = "$sym_name $placement $type attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
    bool isActivation() { return getPlacement() == Placement::Activation; }
    /// Size in bytes of the whole tensor.
    uint64_t getByteSize();
  }];
}

def MKT_ProgramOp : MKT_Op<"program", [
    Symbol, SymbolTable, SingleBlock, NoTerminator, IsolatedFromAbove,
    DeclareOpInterfaceMethods<RegionKindInterface>]> {
  let summary = "An executable program: its tasks and events";
  let description = [{
    `kind` is `decode` (rows = batch) or `prefill` (rows = chunk length).
    `arena_bytes` is set by mk-plan-memory.

    ```mlir
    mkt.program @decode decode rows(8) {
      mkt.event @ev0 count(1)
      mkt.task @emb embedding tile [0, 8, 0, 4096, 0, 0] {...}
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, MKT_ProgramKind:$kind, I64Attr:$rows,
                   OptionalAttr<I64Attr>:$arena_bytes);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name $kind `rows` `(` $rows `)` attr-dict-with-keyword $body";
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins "::llvm::StringRef":$name, "ProgramKind":$kind,
                                "int64_t":$rows)>];
}

def MKT_EventOp : MKT_Op<"event", [Symbol, HasParent<"ProgramOp">]> {
  let summary = "A scoreboard event: a counter its producers each add 1 to per step";
  let description = [{
    ```mlir
    mkt.event @qkv_l0_h3 count(6)
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, I64Attr:$count);
  let assemblyFormat = "$sym_name `count` `(` $count `)` attr-dict";
  let hasVerifier = 1;
}

def MKT_TaskOp : MKT_Op<"task", [
    Symbol, HasParent<"ProgramOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "One tile task";
  let description = [{
    `kind` is an entry of the ISA task table; `operands` lists the tensor of each
    operand role in table order (`unit` for an absent optional role). `tile` holds the
    three tile ranges [b0, e0, b1, e1, b2, e2] and `aux` the kind's scalars. `reads` and
    `writes` are the exact boxes the tile touches. `waits`/`signals` are filled in by
    mk-scoreboard, `order` by mk-schedule.

    ```mlir
    mkt.task @l0.k.h1 qkv layer(0) tile [0, 1, 1, 2, 0, 0] {
      aux = array<i64: 1>, cost_bytes = 262144 : i64, cost_flops = 262144 : i64,
      operands = [@decode.h0, @w.l0.ln, @w.l0.k, unit, unit, @kv.l0.k, @decode.positions, @decode.kv_slots,
                  @decode.block_table],
      reads = [#mkt.box<@decode.h0 [0, 0] to [1, 2048]>, ...],
      writes = [#mkt.box<@kv.l0.k [0, 0, 1, 0] to [64, 16, 2, 64]>]}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, MKT_TaskKindAttr:$kind,
                   OptionalAttr<I64Attr>:$layer,
                   DenseI64ArrayAttr:$tile,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$aux,
                   DefaultValuedAttr<I64Attr, "0">:$flags,
                   ArrayAttr:$operands,
                   TypedArrayAttrBase<MKT_BoxAttr, "read boxes">:$reads,
                   TypedArrayAttrBase<MKT_BoxAttr, "write boxes">:$writes,
                   OptionalAttr<TypedArrayAttrBase<MKT_WaitAttr, "waits">>:$waits,
                   OptionalAttr<FlatSymbolRefArrayAttr>:$signals,
                   I64Attr:$cost_bytes, I64Attr:$cost_flops,
                   OptionalAttr<I64Attr>:$order);
  let assemblyFormat = [{
    $sym_name custom<TaskKind>($kind) (`layer` `(` $layer^ `)`)? `tile` $tile attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t tileBegin(unsigned dim) { return getTile()[2 * dim]; }
    int64_t tileEnd(unsigned dim) { return getTile()[2 * dim + 1]; }
  }];
}

#endif // MK_TASK_OPS
