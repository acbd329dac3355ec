//===- TaskGraph.cpp - Same-step dependency graph ---------------------------===//
#include "mk/Analysis/TaskGraph.h"

#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mk;
using namespace mk::task;

namespace {
/// Turns per-row counts (at start[i + 1]) into offsets and returns fill cursors.
std::vector<unsigned> prefixSums(std::vector<unsigned> &start) {
  for (size_t i = 1; i < start.size(); ++i)
    start[i] += start[i - 1];
  return std::vector<unsigned>(start.begin(), start.end() - 1);
}
} // namespace

FailureOr<TaskGraph> TaskGraph::fromProgram(ProgramOp program,
                                            SmallVectorImpl<TaskOp> &tasks) {
  tasks.clear();
  for (TaskOp task : program.getBody().front().getOps<TaskOp>())
    tasks.push_back(task);
  unsigned n = tasks.size();
  TaskGraph g;
  llvm::DenseMap<StringAttr, unsigned> eventIds;
  g.signalStart_.assign(n + 1, 0);
  g.waitStart_.assign(n + 1, 0);
  for (auto [i, task] : llvm::enumerate(tasks)) {
    if (auto signals = task.getSignals())
      for (auto ref : signals->getAsRange<FlatSymbolRefAttr>()) {
        auto it = eventIds.try_emplace(ref.getAttr(), eventIds.size()).first;
        g.signalEvents_.push_back(it->second);
      }
    g.signalStart_[i + 1] = g.signalEvents_.size();
  }
  for (auto [i, task] : llvm::enumerate(tasks)) {
    if (auto waits = task.getWaits())
      for (auto wait : waits->getAsRange<WaitAttr>()) {
        if (wait.getBack() != 0)
          continue;
        auto it = eventIds.find(wait.getEvent().getAttr());
        if (it == eventIds.end())
          return task.emitOpError()
                 << "waits on " << wait.getEvent() << ", which no task signals";
        g.waitEvents_.push_back(it->second);
      }
    g.waitStart_[i + 1] = g.waitEvents_.size();
  }

  unsigned numEvents = eventIds.size();
  g.producerStart_.assign(numEvents + 1, 0);
  g.consumerStart_.assign(numEvents + 1, 0);
  for (unsigned e : g.signalEvents_)
    ++g.producerStart_[e + 1];
  for (unsigned e : g.waitEvents_)
    ++g.consumerStart_[e + 1];
  std::vector<unsigned> producerFill = prefixSums(g.producerStart_);
  std::vector<unsigned> consumerFill = prefixSums(g.consumerStart_);
  g.producerTasks_.resize(g.signalEvents_.size());
  g.consumerTasks_.resize(g.waitEvents_.size());
  for (unsigned t = 0; t < n; ++t) {
    for (unsigned e : g.signals(t))
      g.producerTasks_[producerFill[e]++] = t;
    for (unsigned e : g.waits(t))
      g.consumerTasks_[consumerFill[e]++] = t;
  }
  return g;
}

FailureOr<std::vector<unsigned>> TaskGraph::topologicalOrder() const {
  unsigned n = numTasks(), e = numEvents();
  std::vector<unsigned> indegree(n + e), order;
  order.reserve(n + e);
  for (unsigned t = 0; t < n; ++t)
    indegree[t] = waits(t).size();
  for (unsigned ev = 0; ev < e; ++ev)
    indegree[n + ev] = producers(ev).size();
  for (unsigned node = 0; node < n + e; ++node)
    if (indegree[node] == 0)
      order.push_back(node);
  for (size_t head = 0; head < order.size(); ++head) {
    unsigned node = order[head];
    if (node < n) {
      for (unsigned ev : signals(node))
        if (--indegree[n + ev] == 0)
          order.push_back(n + ev);
    } else {
      for (unsigned c : consumers(node - n))
        if (--indegree[c] == 0)
          order.push_back(c);
    }
  }
  if (order.size() != n + e)
    return failure();
  return order;
}
