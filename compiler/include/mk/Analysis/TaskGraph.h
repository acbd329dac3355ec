//===- TaskGraph.h - Same-step dependency graph of a scoreboarded program --===//
//
// Tasks are numbered by their position in the program body, events by their first
// signal. The graph is kept bipartite, as the plan verifier keeps it:
//
//   task --signal--> event --same-step wait--> task
//
// so it is linear in signals + waits: an event with 128 producers and 128 consumers
// (every gate_up tile waits on every o_proj tile) is 256 edges, not 16,384. Task p is a
// same-step predecessor of task c when c waits (back = 0) on an event p signals.
// Cross-step waits (back >= 1) are not edges.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/Dialect/Task/TaskDialect.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <vector>

namespace mk {

class TaskGraph {
public:
  /// The graph of a scoreboarded program. Fails with a diagnostic if a task waits on an
  /// event no task signals.
  static mlir::FailureOr<TaskGraph>
  fromProgram(task::ProgramOp program, llvm::SmallVectorImpl<task::TaskOp> &tasks);

  unsigned numTasks() const { return signalStart_.size() - 1; }
  unsigned numEvents() const { return producerStart_.size() - 1; }
  /// Events the task signals / waits on in the same step (one entry per signal or wait).
  llvm::ArrayRef<unsigned> signals(unsigned task) const {
    return slice(signalEvents_, signalStart_, task);
  }
  llvm::ArrayRef<unsigned> waits(unsigned task) const {
    return slice(waitEvents_, waitStart_, task);
  }
  /// Tasks that signal / wait on the event in the same step (one entry per signal or
  /// wait).
  llvm::ArrayRef<unsigned> producers(unsigned event) const {
    return slice(producerTasks_, producerStart_, event);
  }
  llvm::ArrayRef<unsigned> consumers(unsigned event) const {
    return slice(consumerTasks_, consumerStart_, event);
  }

  /// Node numbering of topologicalOrder: task t is node t, event e is node
  /// numTasks() + e.
  unsigned eventNode(unsigned event) const { return numTasks() + event; }
  /// A topological order of all nodes (Kahn's algorithm, first-in first-out), or
  /// failure if the same-step graph has a cycle.
  mlir::FailureOr<std::vector<unsigned>> topologicalOrder() const;

private:
  static llvm::ArrayRef<unsigned> slice(const std::vector<unsigned> &items,
                                        const std::vector<unsigned> &start, unsigned i) {
    return llvm::ArrayRef<unsigned>(items).slice(start[i], start[i + 1] - start[i]);
  }

  std::vector<unsigned> signalStart_, signalEvents_, waitStart_, waitEvents_;
  std::vector<unsigned> producerStart_, producerTasks_, consumerStart_, consumerTasks_;
};

} // namespace mk
