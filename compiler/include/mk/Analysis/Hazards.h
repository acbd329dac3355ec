//===- Hazards.h - Data hazards between the tiles of a program --------------===//
//
// Two tasks conflict when they touch overlapping boxes of the same tensor and at least
// one of them writes. Tasks are in program (body) order, which is a topological order
// of the graph they were lowered from, so every hazard points forward:
//
//   earlier task   later task   hazard   the later task must wait because
//   ------------   ----------   ------   -----------------------------------------
//   writes B       reads B'     RAW      it reads what the earlier one produces
//   reads B        writes B'    WAR      it would overwrite what the earlier one reads
//   writes B       writes B'    WAW      its write must land last
//   reads B        reads B'     -        no hazard
//
// (B and B' overlap: in every dimension each starts before the other ends.) Tensors no
// task of the program writes (weights, inputs) never cause a hazard. Loop-carried
// hazards between steps are not in this table: mk-scoreboard handles them with the
// cross-step edge and the step-isolation rule.
//
// Cost. A box is compared only with the boxes of the same tensor that earlier tasks
// accessed and that can overlap it in one chosen dimension (the one in which the
// tensor's writes start at the most distinct places: the dimension its tiles split).
// They are kept sorted by their start in that dimension, so the candidates are one
// binary search away: those starting less than the longest indexed box before the
// query's start and before its end. Each candidate then gets the exact test in every
// dimension. For tiles that split a tensor along that dimension the candidates are the
// overlapping tiles and their neighbours, so the analysis is O(boxes log boxes +
// output) instead of O(boxes^2). (A box spanning the whole dimension widens the range
// for every later query of its index: whole reads do, but reads are only queried by
// writes that come after them, which tile programs rarely have.) The output is
// compressed: tasks that read the same box after the same writes (every gate_up tile
// reads all of h_attn) share one list of earlier tasks, so a phase that depends on every
// tile of the previous one costs one list, not one pair per tile and producer.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/Dialect/Task/TaskDialect.h"

#include "llvm/ADT/ArrayRef.h"

#include <vector>

namespace mk {

enum class HazardKind { RAW, WAR, WAW };
const char *hazardKindName(HazardKind kind);

struct Hazard {
  unsigned from; // earlier task (body index)
  unsigned to;   // later task
  HazardKind kind;
  mlir::FlatSymbolRefAttr tensor;
};

/// The hazards of a program's tasks, by later task. Task t's hazards come from its
/// sources, in this order: one RAW source per read box, then per written box a WAR and
/// a WAW source. A source names the earlier tasks whose accesses conflict with that box
/// as a shared list (ascending, no duplicates); sources with no earlier task are left
/// out.
class HazardAnalysis {
public:
  struct Source {
    HazardKind kind;
    mlir::FlatSymbolRefAttr tensor;
    unsigned list;
  };

  explicit HazardAnalysis(llvm::ArrayRef<task::TaskOp> tasks);

  unsigned numTasks() const { return sourceStart_.size() - 1; }
  llvm::ArrayRef<Source> sources(unsigned task) const {
    return llvm::ArrayRef<Source>(sources_).slice(
        sourceStart_[task], sourceStart_[task + 1] - sourceStart_[task]);
  }
  unsigned numLists() const { return listStart_.size() - 1; }
  llvm::ArrayRef<unsigned> list(unsigned id) const {
    return llvm::ArrayRef<unsigned>(listTasks_)
        .slice(listStart_[id], listStart_[id + 1] - listStart_[id]);
  }

  /// Every pair of tasks with a hazard, once per pair, grouped by the later task in
  /// task order; a pair with several hazards is reported with the first of its sources
  /// (so RAW before WAR/WAW).
  std::vector<Hazard> pairs() const;

  /// Loop-carried read-after-write on step state: a task that reads a step-state box
  /// that a later task of the same step (or itself, after reading) writes reads, in the
  /// next step, what that later task wrote (decode's next tokens). Returns (writer,
  /// reader) pairs, sorted.
  std::vector<std::pair<unsigned, unsigned>>
  loopCarriedReads(mlir::Operation *module) const;

private:
  std::vector<Source> sources_;
  std::vector<unsigned> sourceStart_;
  std::vector<unsigned> listTasks_;
  std::vector<unsigned> listStart_;
  /// Tasks that read and write overlapping boxes of one tensor: (task, tensor).
  std::vector<std::pair<unsigned, mlir::FlatSymbolRefAttr>> selfOverlaps_;
};

} // namespace mk
