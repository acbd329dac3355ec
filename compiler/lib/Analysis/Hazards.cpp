//===- Hazards.cpp - Data hazards between the tiles of a program ------------===//
#include "mk/Analysis/Hazards.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <algorithm>
#include <climits>

using namespace mlir;
using namespace mk;
using namespace mk::task;

const char *mk::hazardKindName(HazardKind kind) {
  switch (kind) {
  case HazardKind::RAW:
    return "RAW";
  case HazardKind::WAR:
    return "WAR";
  case HazardKind::WAW:
    return "WAW";
  }
  return "?";
}

namespace {
/// One box of one task, unpacked from the attribute once (overlap tests are the hot
/// loop of the analysis).
struct Access {
  unsigned task;
  BoxAttr box;
  bool write;
  SmallVector<int64_t, 4> lo, hi;

  bool overlaps(const Access &o) const {
    for (size_t d = 0; d < lo.size(); ++d)
      if (hi[d] <= o.lo[d] || o.hi[d] <= lo[d])
        return false;
    return true;
  }
};

/// Accesses grouped by tensor, in task order; only tensors some task writes.
llvm::DenseMap<StringAttr, std::vector<Access>> collectAccesses(ArrayRef<TaskOp> tasks) {
  llvm::DenseSet<StringAttr> written;
  for (TaskOp task : tasks)
    for (auto box : task.getWrites().getAsRange<BoxAttr>())
      written.insert(box.getTensor().getAttr());
  llvm::DenseMap<StringAttr, std::vector<Access>> byTensor;
  auto add = [&](unsigned i, BoxAttr box, bool write) {
    byTensor[box.getTensor().getAttr()].push_back({i, box, write,
                                                   SmallVector<int64_t, 4>(box.getLo()),
                                                   SmallVector<int64_t, 4>(box.getHi())});
  };
  for (auto [i, constTask] : llvm::enumerate(tasks)) {
    TaskOp task = constTask;
    for (auto box : task.getReads().getAsRange<BoxAttr>())
      if (written.contains(box.getTensor().getAttr()))
        add(i, box, false);
    for (auto box : task.getWrites().getAsRange<BoxAttr>())
      add(i, box, true);
  }
  return byTensor;
}
} // namespace

std::vector<Hazard> mk::computeHazards(ArrayRef<TaskOp> tasks) {
  // Visit tasks in order, keeping per tensor the accesses seen so far. Reads are
  // checked against earlier writes only; writes against everything earlier. Many
  // tiles read the same box (a whole activation, for a norm prologue): the writers
  // it overlaps are computed once per box and per number of writes seen.
  struct TensorState {
    std::vector<Access> reads, writes;
    llvm::DenseMap<Attribute, std::pair<size_t, SmallVector<unsigned, 16>>> readCache;
  };
  llvm::DenseSet<StringAttr> written;
  for (TaskOp task : tasks)
    for (auto box : task.getWrites().getAsRange<BoxAttr>())
      written.insert(box.getTensor().getAttr());
  llvm::DenseMap<StringAttr, TensorState> state;
  std::vector<Hazard> hazards;
  std::vector<unsigned> stamp(tasks.size(), UINT_MAX); // stamp[from] == to: linked
  auto unpack = [](unsigned t, BoxAttr box, bool write) {
    return Access{t, box, write, SmallVector<int64_t, 4>(box.getLo()),
                  SmallVector<int64_t, 4>(box.getHi())};
  };
  auto link = [&](unsigned from, unsigned to, HazardKind kind, FlatSymbolRefAttr tensor) {
    if (from == to || stamp[from] == to)
      return;
    stamp[from] = to;
    hazards.push_back({from, to, kind, tensor});
  };
  for (auto [i, constTask] : llvm::enumerate(tasks)) {
    TaskOp task = constTask;
    unsigned t = i;
    // RAW before WAR/WAW, so a pair linked both ways reports the true dependence.
    for (auto box : task.getReads().getAsRange<BoxAttr>()) {
      if (!written.contains(box.getTensor().getAttr()))
        continue;
      TensorState &ts = state[box.getTensor().getAttr()];
      auto &cached = ts.readCache[box];
      if (cached.first != ts.writes.size() + 1) {
        Access a = unpack(t, box, false);
        cached.second.clear();
        for (const Access &w : ts.writes)
          if (w.overlaps(a))
            cached.second.push_back(w.task);
        cached.first = ts.writes.size() + 1;
      }
      for (unsigned from : cached.second)
        link(from, t, HazardKind::RAW, box.getTensor());
    }
    for (auto box : task.getWrites().getAsRange<BoxAttr>()) {
      TensorState &ts = state[box.getTensor().getAttr()];
      Access a = unpack(t, box, true);
      for (const Access &r : ts.reads)
        if (r.overlaps(a))
          link(r.task, t, HazardKind::WAR, box.getTensor());
      for (const Access &w : ts.writes)
        if (w.overlaps(a))
          link(w.task, t, HazardKind::WAW, box.getTensor());
    }
    for (auto box : task.getReads().getAsRange<BoxAttr>())
      if (written.contains(box.getTensor().getAttr()))
        state[box.getTensor().getAttr()].reads.push_back(unpack(t, box, false));
    for (auto box : task.getWrites().getAsRange<BoxAttr>())
      state[box.getTensor().getAttr()].writes.push_back(unpack(t, box, true));
  }
  return hazards;
}

std::vector<std::pair<unsigned, unsigned>>
mk::computeLoopCarriedReads(ArrayRef<TaskOp> tasks, Operation *module) {
  SymbolTableCollection symbols;
  auto byTensor = collectAccesses(tasks);
  std::vector<std::pair<unsigned, unsigned>> pairs;
  for (auto &[name, accesses] : byTensor) {
    auto tensor = symbols.lookupSymbolIn<TensorOp>(module, name);
    if (!tensor || tensor.getPlacement() != Placement::StepState)
      continue;
    for (size_t j = 0; j < accesses.size(); ++j)
      for (size_t i = 0; i < j; ++i)
        if (!accesses[i].write && accesses[j].write && accesses[i].overlaps(accesses[j]))
          pairs.push_back({accesses[j].task, accesses[i].task});
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}
