//===- plan_verify_graph.cpp - Rules e-h: DAG, order, steps, arena --------===//
//
// The same-step dependency graph is kept bipartite: task nodes [0, T) and event nodes
// [T, T + E), task -> event for each signal, event -> task for each stepBack-0 wait.
// Through event nodes it stays linear in signals + waits (an event with 100 producers
// and 100 consumers is 200 edges, not 10,000) and reachability is unchanged.
//
// Reachability questions (step isolation, arena order) use strict-ancestor sets over
// task columns (mk/isa/ancestor_sets.h: a full prefix, a window, nothing after),
// computed in topological order one block of columns at a time. A block's rows hold at
// most its width each, so memory stays bounded (kSetBudgetWords) whatever the plan; in a
// plan mk-tile lays out a row's window is about one layer wide, so a block costs
// O(nodes + edges + edges x layer / 64) and the whole check a few blocks of that,
// instead of O(edges x tasks / 64).
//===----------------------------------------------------------------------===//
#include "plan_verify_internal.h"
#include "str_format.h"

#include "mk/isa/ancestor_sets.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <span>

namespace mk::isa::detail {
namespace {

constexpr uint32_t kNone = 0xFFFFFFFFu;
constexpr size_t kSetBudgetWords = size_t{4} << 20; // 32 MiB at worst
constexpr size_t kMaxArenaPairs = size_t{1} << 22;
constexpr size_t kMaxCycleNodesShown = 12;

struct Graph {
  uint32_t numTasks = 0;
  uint32_t numEvents = 0;
  std::vector<uint32_t> sigStart, sigTask;   // producers of each event (CSR)
  std::vector<uint32_t> waitStart, waitTask; // same-step consumers of each event (CSR)
  std::vector<uint32_t> crossWaiter; // per event: first task waiting with stepBack >= 1
  std::vector<uint32_t> topo;        // topological order of all nodes; short if cyclic
  std::vector<uint32_t> indegree;    // after sorting: > 0 exactly on unsorted nodes

  std::span<const uint32_t> producers(uint32_t e) const {
    return {sigTask.data() + sigStart[e], sigStart[e + 1] - sigStart[e]};
  }
  std::span<const uint32_t> consumers(uint32_t e) const {
    return {waitTask.data() + waitStart[e], waitStart[e + 1] - waitStart[e]};
  }
  bool acyclic() const { return topo.size() == size_t{numTasks} + numEvents; }
};

Graph buildGraph(const Program &prog) {
  Graph g;
  g.numTasks = static_cast<uint32_t>(prog.tasks.size());
  g.numEvents = static_cast<uint32_t>(prog.events.size());
  const uint32_t T = g.numTasks, E = g.numEvents;
  g.sigStart.assign(E + 1, 0);
  g.waitStart.assign(E + 1, 0);
  g.crossWaiter.assign(E, kNone);
  for (uint32_t t = 0; t < T; ++t) {
    const TaskRecord &r = prog.tasks[t];
    for (uint32_t s = 0; s < r.numSignals; ++s)
      ++g.sigStart[r.signal[s] + 1];
    for (uint32_t w = 0; w < r.numWaits; ++w) {
      if (r.wait[w].stepBack == 0)
        ++g.waitStart[r.wait[w].event + 1];
      else if (g.crossWaiter[r.wait[w].event] == kNone)
        g.crossWaiter[r.wait[w].event] = t;
    }
  }
  for (uint32_t e = 0; e < E; ++e) {
    g.sigStart[e + 1] += g.sigStart[e];
    g.waitStart[e + 1] += g.waitStart[e];
  }
  g.sigTask.resize(g.sigStart[E]);
  g.waitTask.resize(g.waitStart[E]);
  std::vector<uint32_t> sigFill(g.sigStart.begin(), g.sigStart.end() - 1);
  std::vector<uint32_t> waitFill(g.waitStart.begin(), g.waitStart.end() - 1);
  for (uint32_t t = 0; t < T; ++t) {
    const TaskRecord &r = prog.tasks[t];
    for (uint32_t s = 0; s < r.numSignals; ++s)
      g.sigTask[sigFill[r.signal[s]]++] = t;
    for (uint32_t w = 0; w < r.numWaits; ++w)
      if (r.wait[w].stepBack == 0)
        g.waitTask[waitFill[r.wait[w].event]++] = t;
  }

  // Kahn's algorithm; the FIFO is `topo` itself.
  g.indegree.assign(size_t{T} + E, 0);
  for (uint32_t t = 0; t < T; ++t)
    for (uint32_t w = 0; w < prog.tasks[t].numWaits; ++w)
      g.indegree[t] += prog.tasks[t].wait[w].stepBack == 0;
  for (uint32_t e = 0; e < E; ++e)
    g.indegree[T + e] = g.sigStart[e + 1] - g.sigStart[e];
  g.topo.reserve(size_t{T} + E);
  for (uint32_t n = 0; n < T + E; ++n)
    if (g.indegree[n] == 0)
      g.topo.push_back(n);
  for (size_t i = 0; i < g.topo.size(); ++i) {
    uint32_t n = g.topo[i];
    if (n < T) {
      const TaskRecord &r = prog.tasks[n];
      for (uint32_t s = 0; s < r.numSignals; ++s)
        if (--g.indegree[T + r.signal[s]] == 0)
          g.topo.push_back(T + r.signal[s]);
    } else {
      for (uint32_t t : g.consumers(n - T))
        if (--g.indegree[t] == 0)
          g.topo.push_back(t);
    }
  }
  return g;
}

std::string nodeLabel(const Program &prog, const Graph &g, uint32_t n) {
  return n < g.numTasks ? taskLabel(prog, n) : eventLabel(prog, n - g.numTasks);
}

// Rule e. Every unsorted node has an unsorted predecessor, so walking predecessors
// from one must repeat a node; the repeated stretch is a cycle.
void reportCycle(const Plan &plan, uint32_t pi, const Graph &g, Violations &v) {
  const Program &prog = plan.programs[pi];
  const uint32_t T = g.numTasks;
  uint32_t start = 0;
  while (g.indegree[start] == 0)
    ++start;
  std::vector<uint32_t> seenAt(g.indegree.size(), kNone);
  std::vector<uint32_t> walk; // walk[i + 1] is a predecessor of walk[i]
  uint32_t n = start;
  while (n != kNone && seenAt[n] == kNone) {
    seenAt[n] = static_cast<uint32_t>(walk.size());
    walk.push_back(n);
    uint32_t pred = kNone;
    if (n < T) {
      const TaskRecord &r = prog.tasks[n];
      for (uint32_t w = 0; w < r.numWaits && pred == kNone; ++w)
        if (r.wait[w].stepBack == 0 && g.indegree[T + r.wait[w].event] > 0)
          pred = T + r.wait[w].event;
    } else {
      for (uint32_t t : g.producers(n - T))
        if (g.indegree[t] > 0) {
          pred = t;
          break;
        }
    }
    n = pred;
  }
  if (n == kNone) { // cannot happen for an unsorted node; stay safe anyway
    v.add(strFormat("%s: same-step dependency cycle through %s",
                    programLabel(plan, pi).c_str(), nodeLabel(prog, g, start).c_str()));
    return;
  }
  // n precedes walk.back(), so walk.back() -> ... -> walk[seenAt[n]] -> walk.back().
  std::vector<uint32_t> cycle;
  for (size_t i = walk.size(); i-- > seenAt[n];)
    cycle.push_back(walk[i]);
  // Start from the lowest task id so the message does not depend on the walk.
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  cycle.push_back(cycle.front());
  std::string text;
  for (size_t i = 0; i < cycle.size(); ++i) {
    if (i == kMaxCycleNodesShown && cycle.size() > kMaxCycleNodesShown + 1) {
      text += strFormat(" -> ... (%zu nodes in all)", cycle.size() - 1);
      break;
    }
    text += (i ? " -> " : "") + nodeLabel(prog, g, cycle[i]);
  }
  v.add(strFormat("%s: same-step dependency cycle: %s", programLabel(plan, pi).c_str(),
                  text.c_str()));
}

// Rule f.
void checkOrder(const Plan &plan, uint32_t pi, const Graph &g, Violations &v) {
  const Program &prog = plan.programs[pi];
  const uint32_t T = g.numTasks;
  if (prog.order.size() != T) {
    v.add(strFormat("%s: the queue order has %zu entries, expected one per task (%u)",
                    programLabel(plan, pi).c_str(), prog.order.size(), T));
    return;
  }
  std::vector<uint32_t> pos(T, kNone);
  bool permutation = true;
  for (uint32_t i = 0; i < T && !v.full(); ++i) {
    uint32_t t = prog.order[i];
    if (t >= T) {
      v.add(strFormat("%s: order[%u] is %u, not a task index (the program has %u tasks)",
                      programLabel(plan, pi).c_str(), i, t, T));
      permutation = false;
    } else if (pos[t] != kNone) {
      v.add(
          strFormat("%s: task %u appears twice in the queue order (positions %u and %u)",
                    programLabel(plan, pi).c_str(), t, pos[t], i));
      permutation = false;
    } else {
      pos[t] = i;
    }
  }
  if (!permutation || !g.acyclic())
    return; // a cycle was reported already; no order can satisfy it

  // The last producer of each event in queue order; every same-step consumer is after it.
  std::vector<uint32_t> lastProducer(g.numEvents, kNone);
  for (uint32_t e = 0; e < g.numEvents; ++e)
    for (uint32_t s : g.producers(e))
      if (lastProducer[e] == kNone || pos[s] > pos[lastProducer[e]])
        lastProducer[e] = s;
  for (uint32_t i = 0; i < T && !v.full(); ++i) {
    uint32_t t = prog.order[i];
    const TaskRecord &r = prog.tasks[t];
    for (uint32_t w = 0; w < r.numWaits; ++w) {
      uint32_t e = r.wait[w].event;
      uint32_t p = lastProducer[e];
      if (r.wait[w].stepBack != 0 || p == kNone || pos[p] < i)
        continue;
      v.add(strFormat("%s: the queue order puts %s at position %u before its same-step "
                      "producer %s at position %u (wait %u on %s has stepBack 0)",
                      programLabel(plan, pi).c_str(), taskLabel(prog, t).c_str(), i,
                      taskLabel(prog, p).c_str(), pos[p], w,
                      eventLabel(prog, e).c_str()));
      break;
    }
  }
}

/// One block of strict same-step ancestor sets: task t is in set(n) when t must have
/// signalled (same step) before node n can run. The sets hold task columns
/// [64 * firstWord, 64 * (firstWord + words)).
struct AncestorBlock {
  size_t firstWord, words;
  AncestorSets &sets;
  const std::vector<AncestorSets::Row> &rowOf; // by node
  uint64_t word(uint32_t node, size_t w) const { return sets.word(rowOf[node], w); }
};

/// Computes the ancestor sets block by block in topological order and hands each block
/// to `visit`; `extraRows` rows more per block are left for it.
template <typename Visit>
void forEachAncestorBlock(const Program &prog, const Graph &g, size_t extraRows,
                          Visit &&visit) {
  const uint32_t T = g.numTasks;
  const size_t totalWords = (size_t{T} + 63) / 64;
  const size_t nodes = size_t{T} + g.numEvents;
  const size_t stride =
      std::clamp<size_t>(kSetBudgetWords / (nodes + extraRows + 1), 1, totalWords);
  AncestorSets sets;
  std::vector<AncestorSets::Row> rowOf(nodes);
  for (size_t w0 = 0; w0 < totalWords; w0 += stride) {
    const size_t words = std::min(stride, totalWords - w0);
    sets.reset(static_cast<uint32_t>(w0), static_cast<uint32_t>(w0 + words));
    for (uint32_t n : g.topo) {
      // A node's set is the union of its predecessors' (and an event's producers).
      uint32_t prefix = 0, end = 0;
      auto extend = [&](uint32_t from) {
        prefix = std::max(prefix, sets.prefix(rowOf[from]));
        end = std::max(end, sets.end(rowOf[from]));
      };
      if (n < T) {
        const TaskRecord &r = prog.tasks[n];
        for (uint32_t w = 0; w < r.numWaits; ++w)
          if (r.wait[w].stepBack == 0)
            extend(T + r.wait[w].event);
        AncestorSets::Row row = sets.create(prefix, end);
        for (uint32_t w = 0; w < r.numWaits; ++w)
          if (r.wait[w].stepBack == 0)
            sets.unite(row, rowOf[T + r.wait[w].event]);
        rowOf[n] = row;
      } else {
        for (uint32_t s : g.producers(n - T)) {
          extend(s);
          end = std::max(end, s / 64 + 1);
        }
        AncestorSets::Row row = sets.create(prefix, end);
        for (uint32_t s : g.producers(n - T)) {
          sets.unite(row, rowOf[s]);
          sets.insert(row, s);
        }
        rowOf[n] = row;
      }
      sets.finish(rowOf[n]);
    }
    visit(AncestorBlock{w0, words, sets, rowOf});
  }
}

/// Bits of the tasks in word `w` (the last word is partial).
uint64_t taskMask(uint32_t numTasks, size_t w) {
  size_t first = w * 64;
  return numTasks - first >= 64 ? ~uint64_t{0} : (uint64_t{1} << (numTasks - first)) - 1;
}

// Rule g. Events are counters that are never reset: a wait of step s on event e is
// satisfied once counter[e] >= (s + 1) * count, whoever signalled. If a task of step
// s + 1 could signal e before every step-s producer of e had, its signal would be counted
// for step s and a consumer would run early. When a program runs several steps per
// launch, this holds if (1) every task descends (same step) from a task with a cross-step
// wait, so step s + 1 starts only once such a wait is satisfied, and (2) for each event
// waited on across steps, every task is an ancestor of (or is) one of its producers, so
// satisfying that wait means all of step s has finished. With one producer (the usual
// argmax) (2) reads: the producer descends from every other task.
class StepIsolation {
public:
  StepIsolation(const Plan &plan, uint32_t pi, const Graph &g)
      : plan_(plan), pi_(pi), prog_(plan.programs[pi]), g_(g) {
    for (uint32_t e = 0; e < g.numEvents; ++e)
      if (g.crossWaiter[e] != kNone)
        crossEvents_.push_back(e);
    reported_.assign(crossEvents_.size(), 0);
  }
  bool applies() const { return !crossEvents_.empty(); }

  // Part 1, a forward pass over the topological order.
  void checkStarted(Violations &v) const {
    const uint32_t T = g_.numTasks;
    std::vector<uint8_t> started(size_t{T} + g_.numEvents, 0);
    for (uint32_t n : g_.topo) {
      if (n < T) {
        const TaskRecord &r = prog_.tasks[n];
        for (uint32_t w = 0; w < r.numWaits; ++w)
          started[n] |= r.wait[w].stepBack != 0 || started[T + r.wait[w].event];
      } else {
        for (uint32_t s : g_.producers(n - T))
          started[n] |= started[s];
      }
    }
    for (uint32_t t = 0; t < T && !v.full(); ++t)
      if (!started[t])
        v.add(strFormat("%s %s: step isolation: it does not descend (same step) from any "
                        "task with a cross-step wait, so it could run for step s + 1 "
                        "while step s is still running (events are never reset)",
                        programLabel(plan_, pi_).c_str(), taskLabel(prog_, t).c_str()));
  }

  // Part 2: the ancestors of a cross-step event (its producers' ancestors and the
  // producers themselves) must be every task.
  void onBlock(const AncestorBlock &b, Violations &v) {
    for (size_t i = 0; i < crossEvents_.size() && !v.full(); ++i) {
      if (reported_[i])
        continue;
      const uint32_t e = crossEvents_[i];
      for (size_t j = 0; j < b.words; ++j) {
        uint64_t missing = taskMask(g_.numTasks, b.firstWord + j) &
                           ~b.word(g_.numTasks + e, b.firstWord + j);
        if (!missing)
          continue;
        auto t =
            static_cast<uint32_t>((b.firstWord + j) * 64 + std::countr_zero(missing));
        v.add(strFormat("%s %s: step isolation: it is not a same-step ancestor of any "
                        "producer of %s, which %s waits on across steps, so step s + 1 "
                        "could start while it still runs for step s (events are never "
                        "reset)",
                        programLabel(plan_, pi_).c_str(), taskLabel(prog_, t).c_str(),
                        eventLabel(prog_, e).c_str(),
                        taskLabel(prog_, g_.crossWaiter[e]).c_str()));
        reported_[i] = 1;
        break;
      }
    }
  }

private:
  const Plan &plan_;
  uint32_t pi_;
  const Program &prog_;
  const Graph &g_;
  std::vector<uint32_t> crossEvents_;
  std::vector<uint8_t> reported_;
};

/// Descendants of `from` (same step), as one flag per node.
std::vector<uint8_t> descendants(const Program &prog, const Graph &g, uint32_t from) {
  std::vector<uint8_t> seen(size_t{g.numTasks} + g.numEvents, 0);
  std::vector<uint32_t> stack = {from};
  while (!stack.empty()) {
    uint32_t n = stack.back();
    stack.pop_back();
    auto push = [&](uint32_t m) {
      if (!seen[m]) {
        seen[m] = 1;
        stack.push_back(m);
      }
    };
    if (n < g.numTasks) {
      const TaskRecord &r = prog.tasks[n];
      for (uint32_t s = 0; s < r.numSignals; ++s)
        push(g.numTasks + r.signal[s]);
    } else {
      for (uint32_t t : g.consumers(n - g.numTasks))
        push(t);
    }
  }
  return seen;
}

// Rule h. Tasks of one step run in any order the DAG allows, so two tensors that share
// arena bytes are safe only if one is completely done with before the other is written:
// every accessor of one strictly precedes every writer of the other.
class ArenaOrder {
public:
  ArenaOrder(const Plan &plan, uint32_t pi, const Graph &g)
      : plan_(plan), pi_(pi), prog_(plan.programs[pi]), g_(g) {
    collectTensors();
    collectPairs();
  }
  bool needsAncestors() const { return !tooManyPairs_ && !pairs_.empty(); }
  size_t extraRows() const { return tensors_.size(); }

  void onBlock(const AncestorBlock &b) {
    // allAnc_[k]: tasks that strictly precede every writer of tensor k, in this block.
    allAnc_.assign(tensors_.size(), kNone);
    std::vector<AncestorSets::Row> rows;
    for (size_t k = 0; k < tensors_.size(); ++k) {
      ArenaTensor &a = tensors_[k];
      if (!a.writers.empty()) {
        rows.clear();
        for (uint32_t w : a.writers)
          rows.push_back(b.rowOf[w]);
        allAnc_[k] = b.sets.intersect(rows);
      }
      while (a.cursor < a.accessors.size() && a.accessors[a.cursor].first < b.firstWord)
        ++a.cursor;
    }
    for (ArenaPair &p : pairs_) {
      if (p.ok[0])
        p.ok[0] = precedes(b, tensors_[p.a], p.b, p.witness[0]);
      if (p.ok[1])
        p.ok[1] = precedes(b, tensors_[p.b], p.a, p.witness[1]);
    }
  }

  void report(Violations &v) const {
    if (tooManyPairs_) {
      v.add(strFormat("%s: more than %zu pairs of activation tensors share arena bytes; "
                      "the verifier does not check plans this large",
                      programLabel(plan_, pi_).c_str(), kMaxArenaPairs));
      return;
    }
    for (const ArenaPair &p : pairs_) {
      if (v.full())
        return;
      if (!p.ok[0] && !p.ok[1])
        reportPair(p, v);
    }
  }

private:
  struct ArenaTensor {
    uint32_t tensor = 0;
    uint64_t begin = 0, end = 0;
    std::vector<std::pair<uint32_t, uint64_t>> accessors; // sparse bitset: (word, bits)
    std::vector<uint32_t> writers;                        // ascending
    size_t cursor = 0; // first accessors entry at or after the current block
  };
  /// Overlapping tensors a < b. ok[0]: every accessor of a strictly precedes every
  /// writer of b; ok[1]: the same with a and b swapped. witness[k]: an accessor that
  /// broke ok[k].
  struct ArenaPair {
    uint32_t a, b;
    bool ok[2] = {true, true};
    uint32_t witness[2] = {kNone, kNone};
  };

  void collectTensors() {
    std::vector<uint32_t> local(plan_.tensors.size(), kNone);
    for (uint32_t t = 0; t < g_.numTasks; ++t) {
      const TaskRecord &r = prog_.tasks[t];
      if (r.kind >= kNumTaskKinds)
        continue;
      const TaskKindInfo &info = taskKindInfo(static_cast<TaskKind>(r.kind));
      const uint32_t numRoles = std::min<uint32_t>(r.numOperands, info.numOperands);
      for (uint32_t i = 0; i < numRoles; ++i) {
        uint16_t id = r.operand[i];
        if (id >= plan_.tensors.size())
          continue;
        const TensorDesc &desc = plan_.tensors[id];
        uint64_t bytes = 0;
        if (desc.placement != Placement::Activation || desc.program != pi_ ||
            !tensorByteSize(desc, bytes) || desc.offset > ~uint64_t{0} - bytes)
          continue;
        if (local[id] == kNone) {
          local[id] = static_cast<uint32_t>(tensors_.size());
          ArenaTensor &a = tensors_.emplace_back();
          a.tensor = id;
          a.begin = desc.offset;
          a.end = desc.offset + bytes;
        }
        ArenaTensor &a = tensors_[local[id]];
        if (!a.accessors.empty() && a.accessors.back().first == t / 64)
          a.accessors.back().second |= uint64_t{1} << (t % 64);
        else
          a.accessors.push_back({t / 64, uint64_t{1} << (t % 64)});
        if (roleIsWritten(info.operandRoles[i]) &&
            (a.writers.empty() || a.writers.back() != t))
          a.writers.push_back(t);
      }
    }
  }

  // A sweep over begin offsets.
  void collectPairs() {
    std::vector<uint32_t> byBegin(tensors_.size());
    for (uint32_t i = 0; i < byBegin.size(); ++i)
      byBegin[i] = i;
    std::sort(byBegin.begin(), byBegin.end(), [&](uint32_t x, uint32_t y) {
      return tensors_[x].begin != tensors_[y].begin
                 ? tensors_[x].begin < tensors_[y].begin
                 : x < y;
    });
    std::vector<uint32_t> active;
    for (uint32_t x : byBegin) {
      std::erase_if(active,
                    [&](uint32_t y) { return tensors_[y].end <= tensors_[x].begin; });
      for (uint32_t y : active)
        pairs_.push_back({std::min(x, y), std::max(x, y)});
      if (pairs_.size() > kMaxArenaPairs) {
        tooManyPairs_ = true;
        pairs_.clear();
        return;
      }
      active.push_back(x);
    }
  }

  /// Does every accessor of `from` in this block precede every writer of tensor `to`?
  bool precedes(const AncestorBlock &b, const ArenaTensor &from, uint32_t to,
                uint32_t &witness) const {
    if (tensors_[to].writers.empty())
      return true;
    for (size_t c = from.cursor;
         c < from.accessors.size() && from.accessors[c].first < b.firstWord + b.words;
         ++c) {
      uint64_t bad =
          from.accessors[c].second & ~b.sets.word(allAnc_[to], from.accessors[c].first);
      if (bad) {
        witness = from.accessors[c].first * 64 + std::countr_zero(bad);
        return false;
      }
    }
    return true;
  }

  void reportPair(const ArenaPair &p, Violations &v) const {
    // For each direction, a writer of the other tensor that the witness does not reach.
    std::string why[2];
    for (int k = 0; k < 2; ++k) {
      const ArenaTensor &from = tensors_[k == 0 ? p.a : p.b];
      const ArenaTensor &to = tensors_[k == 0 ? p.b : p.a];
      std::vector<uint8_t> reach = descendants(prog_, g_, p.witness[k]);
      uint32_t writer = to.writers.front();
      for (uint32_t w : to.writers)
        if (!reach[w]) {
          writer = w;
          break;
        }
      why[k] = strFormat("%s accesses %s and does not precede %s, which writes %s",
                         taskLabel(prog_, p.witness[k]).c_str(),
                         quote(plan_.tensors[from.tensor].name).c_str(),
                         taskLabel(prog_, writer).c_str(),
                         quote(plan_.tensors[to.tensor].name).c_str());
    }
    const ArenaTensor &a = tensors_[p.a], &b = tensors_[p.b];
    v.add(strFormat("%s: arena overlap: %s [%" PRIu64 ", %" PRIu64 ") and %s [%" PRIu64
                    ", %" PRIu64 ") share bytes but the same-step DAG does not order "
                    "them: %s; and %s",
                    programLabel(plan_, pi_).c_str(),
                    tensorLabel(plan_, a.tensor).c_str(), a.begin, a.end,
                    tensorLabel(plan_, b.tensor).c_str(), b.begin, b.end, why[0].c_str(),
                    why[1].c_str()));
  }

  const Plan &plan_;
  uint32_t pi_;
  const Program &prog_;
  const Graph &g_;
  std::vector<ArenaTensor> tensors_;
  std::vector<ArenaPair> pairs_;
  bool tooManyPairs_ = false;
  std::vector<AncestorSets::Row> allAnc_; // kNone: no writer
};

} // namespace

void verifyProgramGraph(const Plan &plan, uint32_t pi, Violations &v) {
  const Program &prog = plan.programs[pi];
  Graph g = buildGraph(prog);
  if (!g.acyclic())
    reportCycle(plan, pi, g, v);
  if (!v.full())
    checkOrder(plan, pi, g, v);
  if (!g.acyclic() || v.full())
    return;

  StepIsolation steps(plan, pi, g);
  if (steps.applies())
    steps.checkStarted(v);
  if (v.full())
    return;
  ArenaOrder arena(plan, pi, g);
  // One pass over the ancestor sets serves both rules.
  if (steps.applies() || arena.needsAncestors())
    forEachAncestorBlock(prog, g, arena.needsAncestors() ? arena.extraRows() : 0,
                         [&](const AncestorBlock &b) {
                           if (steps.applies())
                             steps.onBlock(b, v);
                           if (arena.needsAncestors())
                             arena.onBlock(b);
                         });
  arena.report(v);
}

} // namespace mk::isa::detail
