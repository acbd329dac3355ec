//===- TileLowering.h - mk-tile's core: the program being lowered, task specs =//
//
// mk-tile lowers each fused graph op with the lowering its op family registers (one
// file per family, like MLIR's rewrite patterns): the family owns its tiling rule,
// the boxes each tile reads and writes, and its cost. This header is what they share:
//   ModuleTensors     weights and KV caches, shared by the programs of a module
//   ProgramLowering   one program being built: its step state, activations, tasks
//   TaskSpec          one task, operands set by ISA role name
//   TileLowering      one family's lowering of one graph op; TileLoweringSet holds them
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/Analysis/TileSizing.h"
#include "mk/Dialect/Graph/GraphDialect.h"
#include "mk/Dialect/Task/TaskDialect.h"
#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mk::tile {

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

inline int64_t dimOf(mlir::Value v, unsigned i) {
  return llvm::cast<mlir::RankedTensorType>(v.getType()).getDimSize(i);
}

/// "l<layer>", the prefix of a layer's task and activation names.
inline std::string layerPrefix(int64_t layer) { return "l" + std::to_string(layer); }

/// Weights and KV caches: module-level tensors, shared by the programs of a module.
struct ModuleTensors {
  mlir::ModuleOp module;
  mlir::OpBuilder builder;
  llvm::StringMap<mlir::FlatSymbolRefAttr> byName;
  llvm::StringMap<llvm::SmallVector<int64_t, 4>> shapes;
  /// Creation order, which is module order and so the plan's tensor ids.
  llvm::StringMap<unsigned> positions;
  /// How each weight symbol is split ({shard_dim, shard_parts, shard_replicas}).
  llvm::StringMap<std::array<int64_t, 3>> weightSplits;
  int64_t kvBlocks = 0;
  int64_t kvBlockSize = 16;
  /// Tensor-parallel ranks (the module's mk.tensor_parallel; 1: none).
  int64_t ranks = 1;

  explicit ModuleTensors(mlir::ModuleOp m);

  /// The tensor `sym`, created with `placement` and `type` on first use.
  mlir::FlatSymbolRefAttr create(llvm::StringRef sym, task::Placement placement,
                                 mlir::RankedTensorType type,
                                 llvm::function_ref<void(task::TensorOp)> extra = {});
  /// The tensor of `w`: `@w.<hf name>`, or `@w.<hf name>.shard` for a slice of a
  /// tensor that is also bound whole (a tied LM head under tensor parallelism).
  mlir::FlatSymbolRefAttr weight(graph::WeightOp w);
  /// Layer `layer`'s paged K or V cache [blocks, block_size, kv_heads, head_dim].
  mlir::FlatSymbolRefAttr kvCache(int64_t layer, bool isValue, int64_t kvHeads,
                                  int64_t headDim);
};

/// One task before it becomes an mkt.task. Operands are held in ISA-table order and
/// set by role, `s.set(role(kind, "x"), tensor)`: isa::role is consteval, so a role
/// the kind does not have fails to compile. A role left unset is `unit`, which only
/// an optional role may be (ProgramLowering::emit checks).
class TaskSpec {
public:
  TaskSpec(isa::TaskKind kind, std::string name) : kind_(kind), name_(std::move(name)) {}

  isa::TaskKind kind() const { return kind_; }
  const std::string &name() const { return name_; }
  /// Sets the tensor of operand role `role` (an index from isa::role of this kind).
  void set(uint32_t role, mlir::FlatSymbolRefAttr tensor) { operands_[role] = tensor; }

  std::optional<int64_t> layer;
  std::array<int64_t, 6> tile = {0, 0, 0, 0, 0, 0};
  llvm::SmallVector<int64_t, 2> aux;
  int64_t flags = 0;
  llvm::SmallVector<mlir::Attribute> reads, writes;
  int64_t bytes = 0, flops = 0;

private:
  friend class ProgramLowering;
  isa::TaskKind kind_;
  std::string name_;
  std::array<mlir::FlatSymbolRefAttr, isa::kMaxOperands> operands_{};
};

/// The tensors of a program's step state, owned by the runtime.
struct StepStateTensors {
  mlir::FlatSymbolRefAttr tokens, positions, seqLens, blockTable, kvSlots;
};

/// The comm tensors of a tensor-parallel program (placement comm, outside the
/// arena; the executor allocates them symmetrically on every rank):
///   reduce  bf16 [2, N, R, H]     all-reduce exchange buffers (two, ping-pong)
///   gather  f32  [2, N, R, 2 T]   the LM head's partial maxima of every rank
///   flags   i32  [2, F, N]        epoch flags; F = the most tiles of any comm site
/// Tasks name them as they are lowered; the tensors are declared once the program's
/// sites are known (ProgramLowering::run).
struct CommTensors {
  mlir::FlatSymbolRefAttr reduce, gather, flags;
  int64_t sites = 0;
  int64_t maxTiles = 0;
  int64_t hidden = 0;      // H of the all-reduces (0: none yet)
  int64_t gatherTiles = 0; // T: LM-head tiles per rank (0: no all-gather yet)
};

/// A value written by column tiles of [rows, columns] (O/down projection, MoE
/// combine): an all-reduce of it uses the same tiles, so each of its tiles waits only
/// on the producer tile of its columns. `tag` names the reduce ("attn", "mlp").
struct ColumnTiling {
  int64_t columns = 0;
  std::string tag;
};

class TileLoweringSet;

/// Lowers one fused graph function to one mkt.program: the state and helpers every
/// family's lowering uses.
class ProgramLowering {
public:
  ProgramLowering(ModuleTensors &tensors, const TileSizer &sizer,
                  const TileLoweringSet &lowerings, mlir::func::FuncOp func,
                  task::ProgramKind kind, int64_t maxSeqLen);

  mlir::LogicalResult run();

  task::ProgramKind kind() const { return kind_; }
  bool isDecode() const { return kind_ == task::ProgramKind::Decode; }
  /// Rows of every activation: the decode batch or the prefill chunk.
  int64_t rows() const { return rows_; }
  int64_t maxSeqLen() const { return maxSeqLen_; }
  const TileSizer &sizer() const { return sizer_; }
  ModuleTensors &tensors() { return tensors_; }
  const StepStateTensors &step() const { return step_; }
  mlir::MLIRContext *getContext() { return builder_.getContext(); }
  mlir::Builder &builder() { return builder_; }

  task::BoxAttr box(mlir::FlatSymbolRefAttr t, llvm::ArrayRef<int64_t> lo,
                    llvm::ArrayRef<int64_t> hi);
  /// The whole of a tensor.
  task::BoxAttr whole(mlir::FlatSymbolRefAttr t);
  llvm::ArrayRef<int64_t> shapeOf(mlir::FlatSymbolRefAttr t);

  /// The program's step-state tensor `<program>.<name>` of i32s.
  mlir::FlatSymbolRefAttr stepState(llvm::StringRef name, llvm::ArrayRef<int64_t> shape);
  /// The activation `<program>.<name>` that holds `value`.
  mlir::FlatSymbolRefAttr activation(mlir::Value value, llvm::StringRef name);
  /// An activation that holds no graph value (partial results).
  mlir::FlatSymbolRefAttr activation(mlir::RankedTensorType type, llvm::StringRef name);
  /// The program's tensor `<program>.<name>` if an earlier lowering created it.
  mlir::FlatSymbolRefAttr lookup(llvm::StringRef name);
  /// The tensor holding `value`: a weight, or what an earlier lowering wrote.
  mlir::FailureOr<mlir::FlatSymbolRefAttr> tensorOf(mlir::Operation *user,
                                                    mlir::Value value);

  /// Appends the task to the program; fails on `op` if a required role is unset.
  mlir::LogicalResult emit(mlir::Operation *op, const TaskSpec &spec);

  /// Tensor-parallel ranks (1: none).
  int64_t ranks() const { return tensors_.ranks; }
  /// The program's comm tensors (their symbols; see CommTensors).
  CommTensors &comm() { return comm_; }
  /// Takes the next comm site (all-reduce or all-gather point) of the program, in
  /// program order, with `tiles` tiles; returns its index (TaskRecord::aux[0]).
  int64_t takeCommSite(int64_t tiles);
  void setColumnTiling(mlir::Value value, ColumnTiling tiling) {
    columnTiling_[value] = std::move(tiling);
  }
  /// How `value`'s producer tiled it by columns, if it did.
  const ColumnTiling *columnTiling(mlir::Value value) const {
    auto it = columnTiling_.find(value);
    return it == columnTiling_.end() ? nullptr : &it->second;
  }

private:
  ModuleTensors &tensors_;
  const TileSizer &sizer_;
  const TileLoweringSet &lowerings_;
  mlir::func::FuncOp func_;
  task::ProgramKind kind_;
  std::string name_;
  int64_t maxSeqLen_;
  int64_t rows_ = 0;
  mlir::OpBuilder builder_;
  task::ProgramOp program_;
  StepStateTensors step_;
  llvm::DenseMap<mlir::Value, mlir::FlatSymbolRefAttr> valueTensor_;
  llvm::DenseMap<mlir::Value, ColumnTiling> columnTiling_;
  CommTensors comm_;

  /// Declares the comm tensors once every site is lowered.
  mlir::LogicalResult declareCommTensors();
};

/// The lowering of one graph op by one op family. Several lowerings may take one op
/// (mkg.linear is the LM head or an O/down projection): the first, in registration
/// order, whose match() accepts the op lowers it.
class TileLowering {
public:
  TileLowering(mlir::TypeID root, llvm::StringRef requirement)
      : root_(root), requirement_(requirement) {}
  virtual ~TileLowering() = default;

  mlir::TypeID root() const { return root_; }
  /// What match() asks of the op, to complete "it must ..." when no lowering takes it.
  llvm::StringRef requirement() const { return requirement_; }

  virtual bool match(mlir::Operation *op) const = 0;
  virtual mlir::LogicalResult lower(mlir::Operation *op,
                                    ProgramLowering &program) const = 0;

private:
  mlir::TypeID root_;
  std::string requirement_;
};

/// A lowering rooted at ops of type OpT, as OpRewritePattern is for rewrites.
template <typename OpT> class OpTileLowering : public TileLowering {
public:
  explicit OpTileLowering(llvm::StringRef requirement = "")
      : TileLowering(mlir::TypeID::get<OpT>(), requirement) {}

  bool match(mlir::Operation *op) const final { return match(llvm::cast<OpT>(op)); }
  mlir::LogicalResult lower(mlir::Operation *op, ProgramLowering &program) const final {
    return lower(llvm::cast<OpT>(op), program);
  }

  virtual bool match(OpT) const { return true; }
  virtual mlir::LogicalResult lower(OpT op, ProgramLowering &program) const = 0;
};

/// The lowerings of all families, by root op type.
class TileLoweringSet {
public:
  template <typename LoweringT, typename... Args> void add(Args &&...args) {
    auto lowering = std::make_unique<LoweringT>(std::forward<Args>(args)...);
    byRoot_[lowering->root()].push_back(lowering.get());
    owned_.push_back(std::move(lowering));
  }
  /// The lowerings rooted at `op`'s type, in registration order.
  llvm::ArrayRef<const TileLowering *> lookup(mlir::Operation *op) const;

private:
  std::vector<std::unique_ptr<TileLowering>> owned_;
  llvm::DenseMap<mlir::TypeID, llvm::SmallVector<const TileLowering *, 2>> byRoot_;
};

// One per op family, each in its own file.
void populateEmbeddingLowerings(TileLoweringSet &set);
void populateQkvLowerings(TileLoweringSet &set);
void populateAttentionLowerings(TileLoweringSet &set);
void populateResidualProjectionLowerings(TileLoweringSet &set);
void populateGatedMlpLowerings(TileLoweringSet &set);
void populateLmHeadLowerings(TileLoweringSet &set);
void populateMoeLowerings(TileLoweringSet &set);
void populateAllReduceLowerings(TileLoweringSet &set);

} // namespace mk::tile
