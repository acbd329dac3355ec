//===- passes_reference_test.cpp - Scoreboard and arena against brute force ===//
//
// mk-scoreboard, the hazard analysis and mk-plan-memory exploit the shape of real
// programs (shared hazard lists, ancestor sets stored as prefix + window) but must give
// exactly what the definitions give on any program. Here random programs of a few
// hundred tasks (more than 64, so the prefixes matter) are compared with plain
// quadratic implementations of those definitions: every hazard pair with its kind, the
// events, counts and waits of the scoreboard or its first error, and the arena offsets.
//===----------------------------------------------------------------------===//
#include "mk/Analysis/Hazards.h"
#include "mk/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace mlir;
using namespace mk;
using namespace mk::task;

namespace {

constexpr int64_t kRows = 4, kCols = 64;

struct Box {
  std::string tensor;
  int64_t lo[2], hi[2];
};
struct Task {
  std::vector<Box> reads, writes;
};

/// What the generator made, and the module's text.
struct Program {
  bool decode = false;
  std::vector<Task> tasks;
  std::vector<std::string> stepState;
  std::string text;
  unsigned firstTaskLine = 0; // task i is on line firstTaskLine + i
};

std::string boxText(const Box &b) {
  if (b.tensor == "tokens")
    return "#mkt.box<@tokens [" + std::to_string(b.lo[0]) + "] to [" +
           std::to_string(b.hi[0]) + "]>";
  return "#mkt.box<@" + b.tensor + " [" + std::to_string(b.lo[0]) + ", " +
         std::to_string(b.lo[1]) + "] to [" + std::to_string(b.hi[0]) + ", " +
         std::to_string(b.hi[1]) + "]>";
}

/// How a program may break step isolation.
enum class Stray {
  None,
  Unfed,  // a task that reads nothing the step's tokens lead to
  Unread, // a task whose output nothing reads
};

/// Layers of tasks; each writes a column slice of its layer's tensor and reads the
/// previous layer's tensor whole (the residual stream, which makes the ancestor sets'
/// prefixes grow), plus random boxes of random tensors (hazards of every kind, inside
/// and across layers, and empty boxes). A decode program starts with a task reading
/// the step's tokens and ends with one writing them; `stray` adds a task in the middle.
Program randomProgram(std::mt19937 &rng, bool decode, unsigned layers, unsigned width,
                      unsigned extraTensors, double extraProbability, Stray stray) {
  Program p;
  p.decode = decode;
  std::vector<std::string> tensors;
  for (unsigned l = 0; l <= layers; ++l)
    tensors.push_back("x" + std::to_string(l));
  for (unsigned e = 0; e < extraTensors; ++e)
    tensors.push_back("e" + std::to_string(e));
  std::vector<std::string> activations = tensors;
  if (stray != Stray::None)
    activations.push_back("stray");
  std::uniform_int_distribution<int64_t> row(0, kRows), col(0, kCols);
  std::uniform_int_distribution<size_t> anyTensor(0, tensors.size() - 1);
  std::bernoulli_distribution extra(extraProbability), wide(0.2);
  auto randomBox = [&](const std::string &tensor) {
    Box b{tensor, {row(rng), col(rng)}, {row(rng), col(rng)}};
    for (int d = 0; d < 2; ++d)
      if (b.lo[d] > b.hi[d])
        std::swap(b.lo[d], b.hi[d]);
    if (wide(rng)) {
      b.lo[0] = 0;
      b.hi[0] = kRows;
    }
    return b;
  };
  auto whole = [](const std::string &tensor) {
    return Box{tensor, {0, 0}, {kRows, kCols}};
  };

  Task first;
  if (decode)
    first.reads.push_back(Box{"tokens", {0, 0}, {8, 0}});
  first.writes.push_back(whole("x0"));
  for (unsigned e = 0; e < extraTensors; ++e) // every activation is written somewhere
    first.writes.push_back(Box{"e" + std::to_string(e), {0, 0}, {1, 1}});
  p.tasks.push_back(first);
  for (unsigned l = 1; l <= layers; ++l) {
    std::string out = "x" + std::to_string(l), in = "x" + std::to_string(l - 1);
    for (unsigned i = 0; i < width; ++i) {
      Task t;
      t.reads.push_back(whole(in));
      while (extra(rng))
        t.reads.push_back(randomBox(tensors[anyTensor(rng)]));
      int64_t c0 = kCols * i / width, c1 = kCols * (i + 1) / width;
      t.writes.push_back(Box{out, {0, c0}, {kRows, c1}});
      while (extra(rng))
        t.writes.push_back(randomBox(tensors[anyTensor(rng)]));
      p.tasks.push_back(t);
    }
    if (l == layers / 2 + 1 && stray != Stray::None) {
      Task t;
      if (stray == Stray::Unread)
        t.reads.push_back(whole(in));
      t.writes.push_back(whole("stray"));
      p.tasks.push_back(t);
    }
  }
  Task last;
  last.reads.push_back(whole("x" + std::to_string(layers)));
  if (stray == Stray::Unfed)
    last.reads.push_back(whole("stray"));
  last.writes.push_back(decode ? Box{"tokens", {0, 0}, {8, 0}} : whole("e0"));
  p.tasks.push_back(last);

  std::string s = "mkt.tensor @w weight tensor<64x64xbf16> {weight_name = \"w\"}\n"
                  "mkt.tensor @tokens step_state tensor<8xi32>\n";
  p.stepState.push_back("tokens");
  for (const std::string &t : activations)
    s += "mkt.tensor @" + t + " activation tensor<" + std::to_string(kRows) + "x" +
         std::to_string(kCols) + "xbf16> {program = @p}\n";
  s += std::string("mkt.program @p ") + (decode ? "decode" : "prefill") + " rows(2) {\n";
  p.firstTaskLine = std::count(s.begin(), s.end(), '\n') + 1;
  for (size_t i = 0; i < p.tasks.size(); ++i) {
    const Task &t = p.tasks[i];
    auto list = [](const std::vector<Box> &boxes) {
      std::string r;
      for (const Box &b : boxes)
        r += (r.empty() ? "" : ", ") + boxText(b);
      return "[" + r + "]";
    };
    const std::string &out =
        t.writes.front().tensor == "tokens" ? "x0" : t.writes.front().tensor;
    s += "  mkt.task @t" + std::to_string(i) +
         " o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = " +
         std::to_string(64 + 16 * (i % 7)) +
         " : i64, cost_flops = 0 : i64, operands = [@x0, @w, @x0, @" + out +
         "], reads = " + list(t.reads) + ", writes = " + list(t.writes) + "}\n";
  }
  s += "}\n";
  p.text = s;
  return p;
}

bool overlap(const Box &a, const Box &b) {
  if (a.tensor != b.tensor)
    return false;
  int rank = a.tensor == "tokens" ? 1 : 2;
  for (int d = 0; d < rank; ++d)
    if (a.hi[d] <= b.lo[d] || b.hi[d] <= a.lo[d])
      return false;
  return true;
}

/// The hazard table, pair by pair: the kind and tensor of the first conflicting box of
/// the later task (reads before writes; a written box conflicts with a read first).
std::vector<std::string> referenceHazards(const Program &p) {
  std::set<std::string> written;
  for (const Task &t : p.tasks)
    for (const Box &b : t.writes)
      written.insert(b.tensor);
  std::vector<std::string> out;
  for (size_t j = 0; j < p.tasks.size(); ++j)
    for (size_t i = 0; i < j; ++i) {
      const Task &a = p.tasks[i], &b = p.tasks[j];
      std::string found;
      for (const Box &r : b.reads) {
        if (!written.count(r.tensor))
          continue;
        for (const Box &w : a.writes)
          if (found.empty() && overlap(r, w))
            found = "RAW @" + r.tensor;
      }
      for (const Box &w : b.writes) {
        for (const Box &r : a.reads)
          if (found.empty() && written.count(r.tensor) && overlap(w, r))
            found = "WAR @" + w.tensor;
        for (const Box &w2 : a.writes)
          if (found.empty() && overlap(w, w2))
            found = "WAW @" + w.tensor;
      }
      if (!found.empty())
        out.push_back("t" + std::to_string(j) + " <- t" + std::to_string(i) + " " +
                      found);
    }
  std::sort(out.begin(), out.end());
  return out;
}

/// The scoreboard from its definitions, printed as "events..." and "task: waits ->
/// signal" lines, or its first error as "line N: message".
std::vector<std::string> referenceScoreboard(const Program &p) {
  size_t n = p.tasks.size();
  std::set<std::string> written;
  for (const Task &t : p.tasks)
    for (const Box &b : t.writes)
      written.insert(b.tensor);
  auto conflict = [&](const Task &a, const Task &b) { // a earlier
    for (const Box &r : b.reads)
      for (const Box &w : a.writes)
        if (written.count(r.tensor) && overlap(r, w))
          return true;
    for (const Box &w : b.writes) {
      for (const Box &r : a.reads)
        if (written.count(r.tensor) && overlap(w, r))
          return true;
      for (const Box &w2 : a.writes)
        if (overlap(w, w2))
          return true;
    }
    return false;
  };
  std::vector<std::vector<bool>> hazard(n, std::vector<bool>(n)), anc = hazard;
  for (size_t j = 0; j < n; ++j)
    for (size_t i = 0; i < j; ++i)
      if (conflict(p.tasks[i], p.tasks[j])) {
        hazard[i][j] = true;
        anc[j][i] = true;
        for (size_t k = 0; k < n; ++k)
          if (anc[i][k])
            anc[j][k] = true;
      }
  // Kept: not implied through another predecessor.
  std::vector<std::vector<bool>> kept(n, std::vector<bool>(n));
  for (size_t t = 0; t < n; ++t)
    for (size_t a = 0; a < t; ++a) {
      if (!hazard[a][t])
        continue;
      bool implied = false;
      for (size_t q = 0; q < t; ++q)
        implied |= q != a && hazard[q][t] && anc[q][a];
      kept[a][t] = !implied;
    }
  auto error = [&](size_t task, const std::string &message) {
    return std::vector<std::string>{"line " + std::to_string(p.firstTaskLine + task) +
                                    ": " + message};
  };
  std::vector<std::pair<size_t, size_t>> cross; // (writer, reader)
  if (p.decode) {
    for (size_t w = 0; w < n; ++w)
      for (size_t r = 0; r <= w; ++r)
        for (const Box &rb : p.tasks[r].reads)
          for (const Box &wb : p.tasks[w].writes)
            if (std::count(p.stepState.begin(), p.stepState.end(), rb.tensor) &&
                overlap(rb, wb) &&
                !std::count(cross.begin(), cross.end(), std::make_pair(w, r)))
              cross.push_back({w, r});
    std::sort(cross.begin(), cross.end());
    if (cross.empty())
      return {"program: mk-scoreboard: a decode program must feed its next step"};
    std::vector<bool> from(n);
    for (auto [w, r] : cross)
      from[r] = true;
    for (size_t t = 0; t < n; ++t)
      for (size_t a = 0; a < t; ++a)
        if (kept[a][t] && from[a])
          from[t] = true;
    for (size_t t = 0; t < n; ++t)
      if (!from[t])
        return error(t, "mk-scoreboard: does not depend on the step's input tokens, so "
                        "it could run ahead into the next step");
    for (auto [w, r] : cross)
      for (size_t t = 0; t < n; ++t)
        if (t != w && !anc[w][t])
          return error(t, "mk-scoreboard: is not an ancestor of t" + std::to_string(w) +
                              ", which feeds the next step, so steps could overlap");
  }
  std::vector<std::set<std::pair<size_t, int>>> consumers(n);
  for (size_t a = 0; a < n; ++a)
    for (size_t t = 0; t < n; ++t)
      if (kept[a][t])
        consumers[a].insert({t, 0});
  for (auto [w, r] : cross)
    consumers[w].insert({r, 1});
  std::map<std::set<std::pair<size_t, int>>, size_t> group;
  std::vector<std::string> eventName;
  std::vector<int64_t> count;
  std::vector<size_t> eventOf(n);
  for (size_t t = 0; t < n; ++t) {
    auto [it, inserted] = group.try_emplace(consumers[t], eventName.size());
    if (inserted) {
      eventName.push_back(consumers[t].empty() ? "done" : "ev.t" + std::to_string(t));
      count.push_back(0);
    }
    eventOf[t] = it->second;
    ++count[it->second];
  }
  std::vector<std::string> out;
  for (size_t e = 0; e < eventName.size(); ++e)
    out.push_back("event " + eventName[e] + " " + std::to_string(count[e]));
  for (size_t t = 0; t < n; ++t) {
    std::set<std::pair<size_t, int>> waits;
    for (size_t a = 0; a < n; ++a)
      if (kept[a][t])
        waits.insert({eventOf[a], 0});
    for (auto [w, r] : cross)
      if (r == t)
        waits.insert({eventOf[w], 1});
    if (waits.size() > 4)
      return error(t, "mk-scoreboard: needs " + std::to_string(waits.size()) +
                          " waits; a task record holds 4");
    std::string line = "t" + std::to_string(t) + ":";
    for (auto [e, back] : waits)
      line += " " + eventName[e] + "/" + std::to_string(count[e]) + "/" +
              std::to_string(back);
    out.push_back(line + " -> " + eventName[eventOf[t]]);
  }
  return out;
}

/// The same lines, read from a scoreboarded program.
std::vector<std::string> describeScoreboard(ProgramOp program) {
  std::vector<std::string> out;
  for (EventOp e : program.getBody().front().getOps<EventOp>())
    out.push_back("event " + e.getSymName().str() + " " + std::to_string(e.getCount()));
  for (TaskOp t : program.getBody().front().getOps<TaskOp>()) {
    std::string line = t.getSymName().str() + ":";
    for (auto w : t.getWaits()->getAsRange<WaitAttr>())
      line += " " + w.getEvent().getValue().str() + "/" + std::to_string(w.getCount()) +
              "/" + std::to_string(w.getBack());
    auto signal = llvm::cast<FlatSymbolRefAttr>((*t.getSignals())[0]);
    out.push_back(line + " -> " + signal.getValue().str());
  }
  return out;
}

/// Arena offsets from the definition: strict ancestors from the waits, then first fit
/// in order of first write, avoiding every placed tensor some accessor of which does not
/// precede some writer of the new one.
std::map<std::string, int64_t> referenceArena(ModuleOp module, ProgramOp program) {
  std::vector<TaskOp> tasks;
  for (TaskOp t : program.getBody().front().getOps<TaskOp>())
    tasks.push_back(t);
  size_t n = tasks.size();
  std::map<std::string, std::vector<size_t>> producers;
  for (size_t i = 0; i < n; ++i)
    for (auto ref : tasks[i].getSignals()->getAsRange<FlatSymbolRefAttr>())
      producers[ref.getValue().str()].push_back(i);
  std::vector<std::vector<size_t>> preds(n);
  for (size_t i = 0; i < n; ++i)
    for (auto w : tasks[i].getWaits()->getAsRange<WaitAttr>())
      if (w.getBack() == 0)
        for (size_t p : producers[w.getEvent().getValue().str()])
          preds[i].push_back(p);
  // anc[v][u]: u strictly precedes v; by repeated relaxation (bodies may be unordered).
  std::vector<std::vector<bool>> anc(n, std::vector<bool>(n));
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t v = 0; v < n; ++v)
      for (size_t p : preds[v])
        for (size_t u = 0; u < n; ++u)
          if ((u == p || anc[p][u]) && !anc[v][u])
            changed = anc[v][u] = true;
  }
  struct Buf {
    std::string name;
    uint64_t size;
    std::set<size_t> acc, writers;
    int64_t firstWrite = INT64_MAX;
  };
  std::vector<Buf> bufs;
  for (TensorOp t : module.getOps<TensorOp>())
    if (t.isActivation())
      bufs.push_back({t.getSymName().str(), (t.getByteSize() + 255) / 256 * 256, {}, {}});
  for (size_t i = 0; i < n; ++i)
    for (Buf &b : bufs) {
      for (auto box : tasks[i].getReads().getAsRange<BoxAttr>())
        if (box.getTensor().getValue() == b.name)
          b.acc.insert(i);
      for (auto box : tasks[i].getWrites().getAsRange<BoxAttr>())
        if (box.getTensor().getValue() == b.name) {
          b.acc.insert(i);
          b.writers.insert(i);
          b.firstWrite = std::min<int64_t>(b.firstWrite, *tasks[i].getOrder());
        }
    }
  std::vector<size_t> order(bufs.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return bufs[a].firstWrite < bufs[b].firstWrite;
  });
  std::map<std::string, int64_t> offsets;
  std::vector<std::pair<size_t, uint64_t>> placed;
  uint64_t arena = 0;
  for (size_t b : order) {
    std::vector<std::pair<uint64_t, uint64_t>> busy;
    for (auto [a, offset] : placed) {
      bool conflict = false;
      for (size_t x : bufs[a].acc)
        for (size_t w : bufs[b].writers)
          conflict |= !anc[w][x];
      if (conflict)
        busy.push_back({offset, offset + bufs[a].size});
    }
    std::sort(busy.begin(), busy.end());
    uint64_t chosen = 0;
    for (auto [begin, end] : busy) {
      if (chosen + bufs[b].size <= begin)
        break;
      chosen = std::max(chosen, end);
    }
    placed.push_back({b, chosen});
    offsets[bufs[b].name] = chosen;
    arena = std::max(arena, chosen + bufs[b].size);
  }
  offsets["<arena>"] = arena;
  return offsets;
}

class PassesReference : public testing::Test {
protected:
  PassesReference() : context_(registry()) {
    context_.loadAllAvailableDialects();
    handler_.emplace(&context_, [this](Diagnostic &diag) {
      if (diag.getSeverity() != DiagnosticSeverity::Error || !firstError_.empty())
        return success();
      std::string where = "program";
      if (auto loc = llvm::dyn_cast<FileLineColLoc>(diag.getLocation());
          loc && diag.str().find("'mkt.program'") == std::string::npos)
        where = "line " + std::to_string(loc.getLine());
      firstError_ = where + ": " + diag.str();
      return success();
    });
  }

  static DialectRegistry registry() {
    DialectRegistry r;
    registerMkDialects(r);
    return r;
  }

  /// Runs one pass; false (with firstError_ set) when it fails.
  bool run(ModuleOp module, std::unique_ptr<Pass> pass) {
    PassManager pm(&context_);
    pm.addPass(std::move(pass));
    firstError_.clear();
    return succeeded(pm.run(module));
  }

  /// Strips "'mkt.task' op " and everything after the scoreboard's fixed text, so the
  /// reference need not know the MLIR wording.
  static std::string normalize(std::string e) {
    for (const char *prefix : {"'mkt.task' op ", "'mkt.program' op "})
      if (size_t at = e.find(prefix); at != std::string::npos)
        e.erase(at, std::string(prefix).size());
    if (size_t at = e.find(" (no task reads"); at != std::string::npos)
      e.erase(at);
    return e;
  }

  MLIRContext context_;
  std::optional<ScopedDiagnosticHandler> handler_;
  std::string firstError_;
};

TEST_F(PassesReference, HazardsScoreboardAndArenaMatchTheDefinitions) {
  std::mt19937 rng(20261122);
  int succeeded = 0, failedAlike = 0;
  std::set<std::string> errors; // the kinds of error seen
  for (int trial = 0; trial < 60; ++trial) {
    bool decode = trial % 2;
    unsigned layers = 2 + trial % 5, width = 8 + (trial * 7) % 60;
    Stray stray = !decode || trial % 10 < 7 ? Stray::None
                  : trial % 10 == 7         ? Stray::Unfed
                                            : Stray::Unread;
    double extra = trial % 3 == 0 ? 0.0 : trial % 3 == 1 ? 0.15 : 0.4;
    Program p = randomProgram(rng, decode, layers, width, 1 + trial % 4, extra, stray);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " +
                 std::to_string(p.tasks.size()) + " tasks");
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(p.text, &context_);
    ASSERT_TRUE(module) << firstError_;

    // Hazards, every pair.
    ProgramOp program = *module->getOps<ProgramOp>().begin();
    SmallVector<TaskOp> tasks(program.getBody().front().getOps<TaskOp>());
    std::vector<std::string> hazards;
    for (const Hazard &h : HazardAnalysis(tasks).pairs())
      hazards.push_back(tasks[h.to].getSymName().str() + " <- " +
                        tasks[h.from].getSymName().str() + " " + hazardKindName(h.kind) +
                        " " + h.tensor.getValue().str().insert(0, "@"));
    std::sort(hazards.begin(), hazards.end());
    ASSERT_EQ(hazards, referenceHazards(p));

    // The scoreboard, or the same first error.
    std::vector<std::string> expected = referenceScoreboard(p);
    if (!run(*module, createMkScoreboard())) {
      ASSERT_EQ(expected.size(), 1u) << "unexpected failure: " << firstError_;
      EXPECT_EQ(normalize(firstError_), expected[0]);
      ++failedAlike;
      errors.insert(expected[0].substr(expected[0].find(':'), 40));
      continue;
    }
    ASSERT_EQ(describeScoreboard(program), expected);
    ++succeeded;

    // Schedule, then place the arena with the tasks in a shuffled body order (the DAG
    // is the waits', whatever the order of the ops).
    MkScheduleOptions schedule;
    schedule.target = "h100";
    ASSERT_TRUE(run(*module, createMkSchedule(schedule))) << firstError_;
    SmallVector<TaskOp> shuffled(program.getBody().front().getOps<TaskOp>());
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (TaskOp t : shuffled)
      t->moveBefore(&program.getBody().front(), program.getBody().front().end());
    std::map<std::string, int64_t> arena = referenceArena(*module, program);
    ASSERT_TRUE(run(*module, createMkPlanMemory())) << firstError_;
    std::map<std::string, int64_t> got;
    for (TensorOp t : module->getOps<TensorOp>())
      if (t.isActivation())
        got[t.getSymName().str()] = *t.getOffset();
    got["<arena>"] = *program.getArenaBytes();
    EXPECT_EQ(got, arena);
  }
  // Both outcomes were exercised, and every error: too many waits and both halves of
  // step isolation.
  EXPECT_GT(succeeded, 20);
  EXPECT_GT(failedAlike, 3);
  std::string seen;
  for (const std::string &e : errors)
    seen += e + "\n";
  EXPECT_EQ(errors.size(), 3u) << seen;
}

} // namespace
