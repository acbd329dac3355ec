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
// (B and B' overlap.) Tensors no task of the program writes (weights, inputs) never
// cause a hazard. Loop-carried hazards between steps are not in this table:
// mk-scoreboard handles them with the cross-step edge and the step-isolation rule.
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

/// Every pair of tasks with a hazard, once per pair, grouped by the later task in
/// task order (RAW is reported when a pair has several hazards).
std::vector<Hazard> computeHazards(llvm::ArrayRef<task::TaskOp> tasks);

/// Loop-carried read-after-write on step state: a task that reads a step-state box
/// that a later task of the same step writes reads, in the next step, what that later
/// task wrote (decode's next tokens). Returns (writer, reader) pairs.
std::vector<std::pair<unsigned, unsigned>>
computeLoopCarriedReads(llvm::ArrayRef<task::TaskOp> tasks, mlir::Operation *module);

} // namespace mk
