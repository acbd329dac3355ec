//===- TaskGraph.h - Same-step dependency graph of a program's tasks --------===//
//
// Tasks are numbered by their position in the program body. Edges are same-step
// dependencies (producer -> consumer); the graph can be built from explicit edges
// (mk-scoreboard, before events exist) or from the waits and signals of a scoreboarded
// program. Reachability is kept as one bitset row per task.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/Dialect/Task/TaskDialect.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <vector>

namespace mk {

class TaskGraph {
public:
  explicit TaskGraph(unsigned numTasks) : preds_(numTasks), succs_(numTasks) {}

  /// The graph of a scoreboarded program (same-step waits only). Fails with a
  /// diagnostic if a wait names an unknown event.
  static mlir::FailureOr<TaskGraph>
  fromProgram(task::ProgramOp program, llvm::SmallVectorImpl<task::TaskOp> &tasks);

  unsigned size() const { return preds_.size(); }
  void addEdge(unsigned from, unsigned to);
  llvm::ArrayRef<unsigned> preds(unsigned t) const { return preds_[t]; }
  llvm::ArrayRef<unsigned> succs(unsigned t) const { return succs_[t]; }

  /// A topological order, or failure if the graph has a cycle.
  mlir::FailureOr<std::vector<unsigned>> topologicalOrder() const;

  /// Computes the ancestor bitsets; must be called before isAncestor.
  mlir::LogicalResult computeAncestors();
  /// True when `a` reaches `b` through at least one edge.
  bool isAncestor(unsigned a, unsigned b) const {
    return (ancestors_[b * words_ + a / 64] >> (a % 64)) & 1;
  }

  /// Bit a of the returned row is set when a reaches t.
  llvm::ArrayRef<uint64_t> ancestorRow(unsigned t) const {
    return llvm::ArrayRef<uint64_t>(ancestors_)
        .slice(static_cast<size_t>(t) * words_, words_);
  }

private:
  std::vector<llvm::SmallVector<unsigned, 4>> preds_, succs_;
  unsigned words_ = 0;
  std::vector<uint64_t> ancestors_; // row b: bit a set when a reaches b
};

} // namespace mk
