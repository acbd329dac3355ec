//===- TaskGraph.cpp - Same-step dependency graph ---------------------------===//
#include "mk/Analysis/TaskGraph.h"

#include "llvm/ADT/DenseMap.h"

#include <map>

using namespace mlir;
using namespace mk;
using namespace mk::task;

void TaskGraph::addEdge(unsigned from, unsigned to) {
  preds_[to].push_back(from);
  succs_[from].push_back(to);
}

FailureOr<TaskGraph> TaskGraph::fromProgram(ProgramOp program,
                                            SmallVectorImpl<TaskOp> &tasks) {
  tasks.clear();
  for (TaskOp task : program.getBody().front().getOps<TaskOp>())
    tasks.push_back(task);
  llvm::DenseMap<StringAttr, SmallVector<unsigned, 8>> producers;
  for (auto [i, task] : llvm::enumerate(tasks))
    if (auto signals = task.getSignals())
      for (auto ref : signals->getAsRange<FlatSymbolRefAttr>())
        producers[ref.getAttr()].push_back(i);
  TaskGraph graph(tasks.size());
  for (auto [i, task] : llvm::enumerate(tasks)) {
    if (!task.getWaits())
      continue;
    for (auto wait : task.getWaits()->getAsRange<WaitAttr>()) {
      if (wait.getBack() != 0)
        continue;
      auto it = producers.find(wait.getEvent().getAttr());
      if (it == producers.end())
        return task.emitOpError()
               << "waits on " << wait.getEvent() << ", which no task signals";
      for (unsigned p : it->second)
        graph.addEdge(p, i);
    }
  }
  return graph;
}

FailureOr<std::vector<unsigned>> TaskGraph::topologicalOrder() const {
  std::vector<unsigned> indegree(size()), order;
  order.reserve(size());
  for (unsigned t = 0; t < size(); ++t)
    indegree[t] = preds_[t].size();
  for (unsigned t = 0; t < size(); ++t)
    if (indegree[t] == 0)
      order.push_back(t);
  for (size_t head = 0; head < order.size(); ++head)
    for (unsigned s : succs_[order[head]])
      if (--indegree[s] == 0)
        order.push_back(s);
  if (order.size() != size())
    return failure();
  return order;
}

LogicalResult TaskGraph::computeAncestors() {
  FailureOr<std::vector<unsigned>> order = topologicalOrder();
  if (failed(order))
    return failure();
  words_ = (size() + 63) / 64;
  ancestors_.assign(static_cast<size_t>(size()) * words_, 0);
  // Tiles of one projection usually share their producers: compute each distinct
  // predecessor set once and copy the row.
  std::map<SmallVector<unsigned, 4>, unsigned> firstWithPreds;
  for (unsigned t : *order) {
    uint64_t *row = &ancestors_[static_cast<size_t>(t) * words_];
    SmallVector<unsigned, 4> key = preds_[t];
    llvm::sort(key);
    auto [it, inserted] = firstWithPreds.try_emplace(std::move(key), t);
    if (!inserted) {
      const uint64_t *same = &ancestors_[static_cast<size_t>(it->second) * words_];
      std::copy(same, same + words_, row);
      continue;
    }
    for (unsigned p : preds_[t]) {
      const uint64_t *prow = &ancestors_[static_cast<size_t>(p) * words_];
      for (unsigned w = 0; w < words_; ++w)
        row[w] |= prow[w];
      row[p / 64] |= uint64_t(1) << (p % 64);
    }
  }
  return success();
}
