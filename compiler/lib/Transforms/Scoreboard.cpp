//===- Scoreboard.cpp - mk-scoreboard: events and waits from tile boxes ----===//
//
// 1. Hazards (RAW/WAR/WAW, see Analysis/Hazards.h) give same-step edges.
// 2. Transitive reduction: an edge p -> t is dropped when another kept predecessor of
//    t already depends on p. Tasks are in body order, which is topological, so one
//    pass over predecessors in decreasing order decides it.
// 3. Multi-step programs (decode): loop-carried reads of step state (the next tokens)
//    become cross-step waits (back = 1); then every task must descend from a
//    cross-step consumer and every cross-step producer must descend from every task
//    ("step isolation"), or a step s+1 signal could be counted for step s on the
//    never-reset counters.
// 4. Events: producers with the same set of consumers share one event, whose count is
//    the number of producers. This is the fewest events for which every task waits on
//    exactly its reduced predecessors (a consumer's predecessors are a union of such
//    groups). Tasks nobody waits on signal the program's `done` event.
//===----------------------------------------------------------------------===//
#include "mk/Analysis/Hazards.h"
#include "mk/Analysis/TaskGraph.h"
#include "mk/Transforms/Passes.h"
#include "mk/isa/task_record.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

#include <map>

namespace mk {
#define GEN_PASS_DEF_MKSCOREBOARD
#include "mk/Transforms/Passes.h.inc"
} // namespace mk

using namespace mlir;
using namespace mk;
using namespace mk::task;

namespace {

/// A consumer of a producer: (consumer body index, step back).
using Consumer = std::pair<unsigned, unsigned>;

LogicalResult scoreboardProgram(ProgramOp program, ModuleOp module) {
  SmallVector<TaskOp> tasks;
  for (TaskOp task : program.getBody().front().getOps<TaskOp>())
    tasks.push_back(task);
  if (tasks.empty())
    return program.emitOpError() << "mk-scoreboard: program has no tasks";
  for (TaskOp task : tasks)
    if (task.getWaits() || task.getSignals())
      return task.emitOpError() << "mk-scoreboard: program is already scoreboarded";
  for (EventOp event :
       llvm::make_early_inc_range(program.getBody().front().getOps<EventOp>()))
    event.erase();
  unsigned n = tasks.size();

  // 1 + 2: hazards, reduced as we go.
  std::vector<Hazard> hazards = computeHazards(tasks);
  std::vector<SmallVector<unsigned, 8>> preds(n);
  for (const Hazard &h : hazards)
    preds[h.to].push_back(h.from);
  unsigned words = (n + 63) / 64;
  std::vector<uint64_t> anc(static_cast<size_t>(n) * words, 0);
  auto test = [&](unsigned row, unsigned bit) {
    return (anc[static_cast<size_t>(row) * words + bit / 64] >> (bit % 64)) & 1;
  };
  TaskGraph graph(n);
  // Tiles of one projection usually have the same predecessors: reduce each distinct
  // predecessor set once.
  std::map<SmallVector<unsigned, 8>, unsigned> firstWithPreds;
  for (unsigned t = 0; t < n; ++t) {
    auto &p = preds[t];
    std::sort(p.begin(), p.end(), std::greater<unsigned>());
    uint64_t *row = &anc[static_cast<size_t>(t) * words];
    auto [it, inserted] = firstWithPreds.try_emplace(p, t);
    if (!inserted) {
      unsigned same = it->second;
      std::copy(&anc[static_cast<size_t>(same) * words],
                &anc[static_cast<size_t>(same) * words] + words, row);
      for (unsigned q : graph.preds(same))
        graph.addEdge(q, t);
      continue;
    }
    for (unsigned q : p) {
      if (test(t, q))
        continue; // already implied by a later predecessor
      graph.addEdge(q, t);
      const uint64_t *qrow = &anc[static_cast<size_t>(q) * words];
      for (unsigned w = 0; w < words; ++w)
        row[w] |= qrow[w];
      row[q / 64] |= uint64_t(1) << (q % 64);
    }
  }

  // 3: cross-step edges and step isolation.
  std::vector<SmallVector<Consumer, 4>> consumers(n);
  for (unsigned t = 0; t < n; ++t)
    for (unsigned p : graph.preds(t))
      consumers[p].push_back({t, 0});
  std::vector<std::pair<unsigned, unsigned>> crossEdges;
  if (program.getKind() == ProgramKind::Decode) {
    crossEdges = computeLoopCarriedReads(tasks, module);
    if (crossEdges.empty())
      return program.emitOpError()
             << "mk-scoreboard: a decode program must feed its next step (no task reads "
                "step state that a later task writes)";
    for (auto [writer, reader] : crossEdges)
      consumers[writer].push_back({reader, 1});
    // Step isolation. isSource[t]: t descends from (or is) a cross-step consumer.
    std::vector<bool> fromSource(n, false);
    for (auto [writer, reader] : crossEdges)
      fromSource[reader] = true;
    for (unsigned t = 0; t < n; ++t)
      for (unsigned p : graph.preds(t))
        if (fromSource[p])
          fromSource[t] = true;
    for (unsigned t = 0; t < n; ++t)
      if (!fromSource[t])
        return tasks[t].emitOpError() << "mk-scoreboard: does not depend on the step's "
                                         "input tokens, so it could "
                                         "run ahead into the next step";
    for (auto [writer, reader] : crossEdges)
      for (unsigned t = 0; t < n; ++t)
        if (t != writer && !test(writer, t))
          return tasks[t].emitOpError()
                 << "mk-scoreboard: is not an ancestor of " << tasks[writer].getSymName()
                 << ", which feeds the next step, so steps could overlap";
  }

  // 4: events by consumer set.
  OpBuilder builder(program.getContext());
  builder.setInsertionPointToStart(&program.getBody().front());
  std::map<SmallVector<Consumer, 4>, unsigned> groupOf;
  SmallVector<EventOp> events;
  SmallVector<int64_t> eventCount;
  std::vector<unsigned> eventOfTask(n);
  for (unsigned t = 0; t < n; ++t) {
    SmallVector<Consumer, 4> key = consumers[t];
    std::sort(key.begin(), key.end());
    auto [it, inserted] = groupOf.try_emplace(key, events.size());
    if (inserted) {
      std::string name = key.empty() ? "done" : ("ev." + tasks[t].getSymName()).str();
      events.push_back(builder.create<EventOp>(
          program.getLoc(), builder.getStringAttr(name), builder.getI64IntegerAttr(0)));
      eventCount.push_back(0);
    }
    eventOfTask[t] = it->second;
    ++eventCount[it->second];
  }
  for (auto [event, count] : llvm::zip(events, eventCount))
    event.setCountAttr(builder.getI64IntegerAttr(count));

  // Waits: the events of each task's predecessors (same step), then cross-step ones.
  std::vector<SmallVector<std::pair<unsigned, unsigned>, 4>> waits(n); // (event, back)
  for (unsigned t = 0; t < n; ++t)
    for (auto [consumer, back] : consumers[t]) {
      std::pair<unsigned, unsigned> w{eventOfTask[t], back};
      if (!llvm::is_contained(waits[consumer], w))
        waits[consumer].push_back(w);
    }
  for (unsigned t = 0; t < n; ++t) {
    auto &w = waits[t];
    std::sort(w.begin(), w.end());
    if (w.size() > isa::kMaxWaits)
      return tasks[t].emitOpError() << "mk-scoreboard: needs " << w.size()
                                    << " waits; a task record holds " << isa::kMaxWaits;
    SmallVector<Attribute> waitAttrs;
    for (auto [e, back] : w)
      waitAttrs.push_back(WaitAttr::get(
          builder.getContext(), FlatSymbolRefAttr::get(events[e].getSymNameAttr()),
          eventCount[e], back));
    tasks[t].setWaitsAttr(builder.getArrayAttr(waitAttrs));
    tasks[t].setSignalsAttr(builder.getArrayAttr(
        {FlatSymbolRefAttr::get(events[eventOfTask[t]].getSymNameAttr())}));
  }
  return success();
}

struct MkScoreboardPass : mk::impl::MkScoreboardBase<MkScoreboardPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (ProgramOp program : module.getOps<ProgramOp>())
      if (failed(scoreboardProgram(program, module)))
        return signalPassFailure();
  }
};

} // namespace
