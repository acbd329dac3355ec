//===- Scoreboard.cpp - mk-scoreboard: events and waits from tile boxes ----===//
//
// 1. Hazards (RAW/WAR/WAW, see Analysis/Hazards.h) give same-step edges.
// 2. Transitive reduction: an edge p -> t is dropped when another predecessor of t
//    already depends on p. Tasks are in body order, which is topological, so one pass
//    over predecessors in decreasing order decides it: p is dropped iff it is in the
//    ancestor set of t gathered so far from the kept predecessors (all of which are
//    later than p), or in the common prefix every predecessor's ancestor set starts
//    with (mk/isa/ancestor_sets.h), which only holds tasks that some later
//    predecessor depends on.
// 3. Multi-step programs (decode): loop-carried reads of step state (the next tokens)
//    become cross-step waits (back = 1); then every task must descend from a
//    cross-step consumer and every cross-step producer must descend from every task
//    ("step isolation"), or a step s+1 signal could be counted for step s on the
//    never-reset counters.
//    Tensor-parallel programs whose comm site 0 does not already wait, through the step
//    input, on the previous step's last comm site (prefill) get step isolation too:
//    the roots wait (back = 1) on all the sinks, so the two comm buffers are never
//    reused too early (protocol.h).
// 4. Events: producers with the same set of consumers share one event, whose count is
//    the number of producers. This is the fewest events for which every task waits on
//    exactly its reduced predecessors (a consumer's predecessors are a union of such
//    groups). Tasks nobody waits on signal the program's `done` event.
//
// Cost. Nothing here enumerates producer x consumer pairs, of which a layer has
// hundreds of thousands (every gate_up tile depends on every o_proj tile):
// - Tasks whose hazard sources are the same shared lists have the same predecessors,
//   hence the same reduced predecessors and ancestor set: steps 2 and 3 run once per
//   distinct set of sources (a few per projection), each in O(predecessors x window)
//   with the ancestor windows about one layer wide.
// - Reduced predecessor lists are interned. Consumers of p are the union of the tasks
//   using the lists p is in, and these task sets are disjoint, so two producers have the
//   same consumers iff they are in the same interned lists: events come from the lists'
//   total size, and each list's waits are computed once.
// The whole pass is O(boxes log boxes + sum of distinct list sizes x window), about
// linear in the number of tasks for layered programs, and exact for any program.
//===----------------------------------------------------------------------===//
#include "mk/Analysis/Hazards.h"
#include "mk/Transforms/Passes.h"
#include "mk/isa/ancestor_sets.h"
#include "mk/isa/task_record.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>
#include <climits>
#include <iterator>

namespace mk {
#define GEN_PASS_DEF_MKSCOREBOARD
#include "mk/Transforms/Passes.h.inc"
} // namespace mk

using namespace mlir;
using namespace mk;
using namespace mk::task;

namespace {

/// Distinct lists of numbers, numbered in order of first appearance.
class ListInterner {
public:
  /// The list's number, and whether it is new.
  std::pair<unsigned, bool> intern(ArrayRef<unsigned> list) {
    auto it = ids_.find(list);
    if (it != ids_.end())
      return {it->second, false};
    // The inner vectors' buffers stay put when `lists_` grows: the keys stay valid.
    lists_.emplace_back(list.begin(), list.end());
    unsigned id = lists_.size() - 1;
    ids_.try_emplace(ArrayRef<unsigned>(lists_.back()), id);
    return {id, true};
  }
  ArrayRef<unsigned> operator[](unsigned id) const { return lists_[id]; }
  unsigned size() const { return lists_.size(); }

private:
  std::vector<std::vector<unsigned>> lists_;
  llvm::DenseMap<ArrayRef<unsigned>, unsigned> ids_;
};

/// The comm site order across steps (mk/isa/protocol.h): two comm buffers are reused in
/// turn, so every tile of comm site 0 (aux[0] == 0 of an all_reduce/all_gather) must
/// start only once the previous step's last site has finished in full. Decode gets
/// this from its step input (the embedding reads the tokens that the argmax after the
/// all_gather wrote). Otherwise (prefill) the program becomes step-isolated like
/// decode: every root (a task with no same-step predecessor) waits, back = 1, on the
/// event of all the sinks (tasks nobody waits on), one of which descends from the last
/// site. Appends those (sink, root) edges to `crossEdges`, kept sorted. A program
/// without comm tasks is left alone.
LogicalResult addCommStepEdges(MutableArrayRef<TaskOp> tasks,
                               ArrayRef<isa::AncestorSets::Row> rowOf,
                               const isa::AncestorSets &ancestors,
                               const ListInterner &reduced, ArrayRef<unsigned> reducedOf,
                               std::vector<std::pair<unsigned, unsigned>> &crossEdges) {
  SmallVector<unsigned> first, last;
  int64_t lastSite = -1;
  for (auto [t, task] : llvm::enumerate(tasks)) {
    isa::TaskKind kind = task.getKind();
    if (kind != isa::TaskKind::AllReduce && kind != isa::TaskKind::AllGather)
      continue;
    if (task.getAux().empty())
      return task.emitOpError() << "mk-scoreboard: a comm task without its site (aux[0])";
    int64_t site = task.getAux()[0];
    if (site == 0)
      first.push_back(t);
    if (site > lastSite) {
      lastSite = site;
      last.clear();
    }
    if (site == lastSite)
      last.push_back(t);
  }
  if (lastSite < 0)
    return success();
  auto descends = [&](unsigned t, unsigned from) {
    return t == from || ancestors.contains(rowOf[t], from);
  };
  auto afterLastSite = [&](unsigned t) {
    return llvm::all_of(last, [&](unsigned l) { return descends(t, l); });
  };
  bool ordered = llvm::all_of(first, [&](unsigned t) {
    return llvm::any_of(crossEdges, [&](std::pair<unsigned, unsigned> e) {
      return descends(t, e.second) && afterLastSite(e.first);
    });
  });
  if (ordered)
    return success();
  unsigned n = tasks.size();
  std::vector<bool> waitedOn(n, false);
  for (unsigned j = 0; j < reduced.size(); ++j)
    for (unsigned p : reduced[j])
      waitedOn[p] = true;
  SmallVector<unsigned> sinks, roots;
  for (unsigned t = 0; t < n; ++t) {
    if (!waitedOn[t])
      sinks.push_back(t);
    if (reduced[reducedOf[t]].empty())
      roots.push_back(t);
  }
  if (!llvm::any_of(sinks, afterLastSite))
    return tasks[last.front()].emitOpError()
           << "mk-scoreboard: no final task of the program waits on every task of the "
              "last comm site, so the next step's first site could reuse its buffer";
  for (unsigned s : sinks)
    for (unsigned r : roots)
      crossEdges.push_back({s, r});
  llvm::sort(crossEdges);
  crossEdges.erase(std::unique(crossEdges.begin(), crossEdges.end()), crossEdges.end());
  return success();
}

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

  // 1 + 2: hazards, reduced once per distinct set of hazard sources.
  HazardAnalysis hazards(tasks);
  isa::AncestorSets ancestors;
  ListInterner sourceSets, reduced;
  std::vector<isa::AncestorSets::Row> rowOfSet;
  std::vector<unsigned> reducedOfSet;
  std::vector<isa::AncestorSets::Row> rowOf(n); // ancestors of each task
  std::vector<unsigned> reducedOf(n); // its reduced predecessors (a `reduced` id)
  SmallVector<unsigned, 8> key;
  std::vector<unsigned> preds, merged, kept;
  for (unsigned t = 0; t < n; ++t) {
    key.clear();
    for (const HazardAnalysis::Source &s : hazards.sources(t))
      key.push_back(s.list);
    llvm::sort(key);
    key.erase(std::unique(key.begin(), key.end()), key.end());
    auto [set, isNew] = sourceSets.intern(key);
    if (isNew) {
      // The union of the (ascending) lists, then visited in decreasing order.
      preds.clear();
      for (unsigned list : key) {
        ArrayRef<unsigned> l = hazards.list(list);
        merged.clear();
        std::set_union(preds.begin(), preds.end(), l.begin(), l.end(),
                       std::back_inserter(merged));
        preds.swap(merged);
      }
      std::reverse(preds.begin(), preds.end());
      uint32_t prefix = 0;
      for (unsigned q : preds)
        prefix = std::max(prefix, ancestors.prefix(rowOf[q]));
      isa::AncestorSets::Row row =
          ancestors.create(prefix, preds.empty() ? 0 : preds.front() / 64 + 1);
      kept.clear();
      for (unsigned q : preds) {
        if (ancestors.contains(row, q))
          continue; // implied by a later predecessor
        kept.push_back(q);
        ancestors.unite(row, rowOf[q]);
        ancestors.insert(row, q);
      }
      ancestors.finish(row);
      std::reverse(kept.begin(), kept.end());
      rowOfSet.push_back(row);
      reducedOfSet.push_back(reduced.intern(kept).first);
    }
    rowOf[t] = rowOfSet[set];
    reducedOf[t] = reducedOfSet[set];
  }

  // 3: cross-step edges and step isolation.
  std::vector<std::pair<unsigned, unsigned>> crossEdges; // (writer, reader), sorted
  if (program.getKind() == ProgramKind::Decode) {
    crossEdges = hazards.loopCarriedReads(module);
    if (crossEdges.empty())
      return program.emitOpError()
             << "mk-scoreboard: a decode program must feed its next step (no task reads "
                "step state that a later task writes)";
    // fromSource[t]: t descends from (or is) a cross-step consumer; per reduced list,
    // whether one of its tasks does (-1: not computed yet).
    std::vector<bool> fromSource(n, false);
    for (auto [writer, reader] : crossEdges)
      fromSource[reader] = true;
    std::vector<int8_t> listFromSource(reduced.size(), -1);
    for (unsigned t = 0; t < n; ++t) {
      int8_t &any = listFromSource[reducedOf[t]];
      if (any < 0)
        any = llvm::any_of(reduced[reducedOf[t]],
                           [&](unsigned p) { return fromSource[p]; });
      if (any)
        fromSource[t] = true;
    }
    for (unsigned t = 0; t < n; ++t)
      if (!fromSource[t])
        return tasks[t].emitOpError() << "mk-scoreboard: does not depend on the step's "
                                         "input tokens, so it could "
                                         "run ahead into the next step";
    for (size_t i = 0; i < crossEdges.size(); ++i) {
      unsigned writer = crossEdges[i].first;
      if (i > 0 && crossEdges[i - 1].first == writer)
        continue; // the same writer was checked just before
      for (unsigned t = 0; t < n; ++t)
        if (t != writer && !ancestors.contains(rowOf[writer], t))
          return tasks[t].emitOpError()
                 << "mk-scoreboard: is not an ancestor of " << tasks[writer].getSymName()
                 << ", which feeds the next step, so steps could overlap";
    }
  }

  // 3b: tensor-parallel programs: the comm site order across steps.
  if (failed(addCommStepEdges(tasks, rowOf, ancestors, reduced, reducedOf, crossEdges)))
    return failure();

  // 4: events by consumer set. A producer's consumers are the tasks using the reduced
  // lists it is in, so its key is those lists (ascending) and then its cross-step
  // readers.
  // (Every interned list is some task's: the one that first needed it.)
  std::vector<SmallVector<unsigned, 2>> keyOf(n);
  for (unsigned j = 0; j < reduced.size(); ++j)
    for (unsigned p : reduced[j])
      keyOf[p].push_back(j);
  for (size_t i = 0; i < crossEdges.size(); ++i) {
    auto [writer, reader] = crossEdges[i];
    if (i == 0 || crossEdges[i - 1].first != writer)
      keyOf[writer].push_back(UINT_MAX); // separates lists from cross-step readers
    keyOf[writer].push_back(reader);
  }
  OpBuilder builder(program.getContext());
  builder.setInsertionPointToStart(&program.getBody().front());
  ListInterner groups;
  SmallVector<EventOp> events;
  SmallVector<int64_t> eventCount;
  std::vector<unsigned> eventOfTask(n);
  for (unsigned t = 0; t < n; ++t) {
    auto [group, isNew] = groups.intern(keyOf[t]);
    if (isNew) {
      std::string name =
          keyOf[t].empty() ? "done" : ("ev." + tasks[t].getSymName()).str();
      events.push_back(builder.create<EventOp>(
          program.getLoc(), builder.getStringAttr(name), builder.getI64IntegerAttr(0)));
      eventCount.push_back(0);
    }
    eventOfTask[t] = group;
    ++eventCount[group];
  }
  for (auto [event, count] : llvm::zip(events, eventCount))
    event.setCountAttr(builder.getI64IntegerAttr(count));

  // Waits: the events of each task's reduced predecessors (same step), then cross-step
  // ones, as (event, back) in ascending order. Tasks with the same reduced list and no
  // cross-step wait share the attribute.
  std::vector<std::vector<std::pair<unsigned, unsigned>>> crossWaits(n);
  for (auto [writer, reader] : crossEdges)
    crossWaits[reader].push_back({eventOfTask[writer], 1});
  llvm::DenseMap<unsigned, ArrayAttr> waitsOfList;
  SmallVector<ArrayAttr> signalsOfEvent(events.size());
  std::vector<std::pair<unsigned, unsigned>> w;
  for (unsigned t = 0; t < n; ++t) {
    ArrayAttr &cached = waitsOfList[reducedOf[t]];
    ArrayAttr waitsAttr = crossWaits[t].empty() ? cached : ArrayAttr();
    if (!waitsAttr) {
      w.clear();
      for (unsigned p : reduced[reducedOf[t]])
        w.push_back({eventOfTask[p], 0});
      w.insert(w.end(), crossWaits[t].begin(), crossWaits[t].end());
      std::sort(w.begin(), w.end());
      w.erase(std::unique(w.begin(), w.end()), w.end());
      if (w.size() > isa::kMaxWaits)
        return tasks[t].emitOpError() << "mk-scoreboard: needs " << w.size()
                                      << " waits; a task record holds " << isa::kMaxWaits;
      SmallVector<Attribute> waitAttrs;
      for (auto [e, back] : w)
        waitAttrs.push_back(WaitAttr::get(
            builder.getContext(), FlatSymbolRefAttr::get(events[e].getSymNameAttr()),
            eventCount[e], back));
      waitsAttr = builder.getArrayAttr(waitAttrs);
      if (crossWaits[t].empty())
        cached = waitsAttr;
    }
    tasks[t].setWaitsAttr(waitsAttr);
    ArrayAttr &signals = signalsOfEvent[eventOfTask[t]];
    if (!signals)
      signals = builder.getArrayAttr(
          {FlatSymbolRefAttr::get(events[eventOfTask[t]].getSymNameAttr())});
    tasks[t].setSignalsAttr(signals);
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
