//===- Hazards.cpp - Data hazards between the tiles of a program ------------===//
#include "mk/Analysis/Hazards.h"

#include "llvm/ADT/DenseMap.h"

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

/// Every box of the program that can take part in a hazard (those of tensors some task
/// writes), unpacked from its attribute once.
struct Boxes {
  struct Box {
    unsigned task;
    unsigned tensor; // dense id
    unsigned rank;
    unsigned coords; // lo at coords[coords ...], hi at coords[coords + rank ...]
    BoxAttr attr;
  };
  std::vector<Box> boxes;
  std::vector<int64_t> coords;
  std::vector<unsigned> taskStart;        // boxes of task t: reads, then writes
  std::vector<unsigned> firstWrite;       // per task: index of its first write box
  std::vector<FlatSymbolRefAttr> tensors; // by dense id: the written ones

  explicit Boxes(ArrayRef<TaskOp> tasks) {
    llvm::DenseMap<StringAttr, unsigned> ids;
    for (TaskOp task : tasks)
      for (auto box : task.getWrites().getAsRange<BoxAttr>())
        if (ids.try_emplace(box.getTensor().getAttr(), tensors.size()).second)
          tensors.push_back(box.getTensor());
    auto add = [&](unsigned t, BoxAttr box) {
      auto it = ids.find(box.getTensor().getAttr());
      if (it == ids.end())
        return; // no task writes it (a weight, an input): never a hazard
      ArrayRef<int64_t> lo = box.getLo(), hi = box.getHi();
      boxes.push_back({t, it->second, static_cast<unsigned>(lo.size()),
                       static_cast<unsigned>(coords.size()), box});
      coords.insert(coords.end(), lo.begin(), lo.end());
      coords.insert(coords.end(), hi.begin(), hi.end());
    };
    for (auto [i, constTask] : llvm::enumerate(tasks)) {
      TaskOp task = constTask;
      taskStart.push_back(boxes.size());
      for (auto box : task.getReads().getAsRange<BoxAttr>())
        add(i, box);
      firstWrite.push_back(boxes.size());
      for (auto box : task.getWrites().getAsRange<BoxAttr>())
        add(i, box);
    }
    taskStart.push_back(boxes.size());
  }

  const int64_t *lo(unsigned b) const { return &coords[boxes[b].coords]; }
  const int64_t *hi(unsigned b) const { return &coords[boxes[b].coords + boxes[b].rank]; }
  /// BoxAttr::overlaps on unpacked boxes of one tensor.
  bool overlap(unsigned a, unsigned b) const {
    const int64_t *alo = lo(a), *ahi = hi(a), *blo = lo(b), *bhi = hi(b);
    if (boxes[a].rank != boxes[b].rank)
      return false;
    for (unsigned d = 0; d < boxes[a].rank; ++d)
      if (ahi[d] <= blo[d] || bhi[d] <= alo[d])
        return false;
    return true;
  }
};

/// The boxes of one kind (reads or writes) of one tensor that earlier tasks accessed,
/// sorted by their start in dimension `dim`. A box [lo, hi) overlaps the query [qlo, qhi)
/// in that dimension only if lo < qhi and hi > qlo, i.e. qlo - maxLen < lo < qhi.
class BoxIndex {
public:
  void add(const Boxes &all, unsigned box, unsigned dim) {
    const Boxes::Box &b = all.boxes[box];
    int64_t lo = dim < b.rank ? all.lo(box)[dim] : 0;
    int64_t hi = dim < b.rank ? all.hi(box)[dim] : 0;
    maxLen_ = std::max(maxLen_, hi - lo);
    Entry e{lo, box};
    // Tiles usually arrive in order of their start: the insertion point is the end.
    auto pos = entries_.end();
    if (!entries_.empty() && entries_.back().lo > lo)
      pos = std::upper_bound(entries_.begin(), entries_.end(), e,
                             [](const Entry &x, const Entry &y) { return x.lo < y.lo; });
    entries_.insert(pos, e);
  }

  /// Appends the tasks of the indexed boxes that overlap `query` (same tensor).
  void overlapping(const Boxes &all, unsigned query, unsigned dim,
                   std::vector<unsigned> &out) const {
    if (entries_.empty())
      return;
    const Boxes::Box &q = all.boxes[query];
    int64_t qlo = dim < q.rank ? all.lo(query)[dim] : 0;
    int64_t qhi = dim < q.rank ? all.hi(query)[dim] : 0;
    auto it = std::upper_bound(entries_.begin(), entries_.end(), qlo - maxLen_,
                               [](int64_t v, const Entry &e) { return v < e.lo; });
    for (; it != entries_.end() && it->lo < qhi; ++it)
      if (all.overlap(it->box, query))
        out.push_back(all.boxes[it->box].task);
  }

private:
  struct Entry {
    int64_t lo;
    unsigned box;
  };
  std::vector<Entry> entries_;
  int64_t maxLen_ = 0;
};

/// The dimension in which the tensor's written boxes start at the most distinct places.
std::vector<unsigned> indexDimensions(const Boxes &all) {
  std::vector<std::vector<unsigned>> writes(all.tensors.size());
  for (unsigned t = 0; t + 1 < all.taskStart.size(); ++t)
    for (unsigned b = all.firstWrite[t]; b < all.taskStart[t + 1]; ++b)
      writes[all.boxes[b].tensor].push_back(b);
  std::vector<unsigned> dims(all.tensors.size(), 0);
  std::vector<int64_t> starts;
  for (unsigned tensor = 0; tensor < writes.size(); ++tensor) {
    if (writes[tensor].empty())
      continue;
    unsigned rank = all.boxes[writes[tensor].front()].rank;
    size_t best = 0;
    for (unsigned d = 0; d < rank; ++d) {
      starts.clear();
      for (unsigned b : writes[tensor])
        if (d < all.boxes[b].rank)
          starts.push_back(all.lo(b)[d]);
      llvm::sort(starts);
      size_t distinct = std::unique(starts.begin(), starts.end()) - starts.begin();
      if (distinct > best) {
        best = distinct;
        dims[tensor] = d;
      }
    }
  }
  return dims;
}

} // namespace

HazardAnalysis::HazardAnalysis(ArrayRef<TaskOp> tasks) {
  Boxes all(tasks);
  std::vector<unsigned> dims = indexDimensions(all);
  std::vector<BoxIndex> reads(all.tensors.size()), writes(all.tensors.size());
  std::vector<unsigned> writesSeen(all.tensors.size(), 0);
  // RAW lists by (box, number of earlier write boxes of its tensor): tiles that read
  // the same box after the same writes share one list. UINT_MAX: no earlier writer.
  llvm::DenseMap<std::pair<Attribute, unsigned>, unsigned> rawLists;
  listStart_.push_back(0);
  std::vector<unsigned> found;
  auto makeList = [&]() -> unsigned {
    if (found.empty())
      return UINT_MAX;
    if (!std::is_sorted(found.begin(), found.end()))
      llvm::sort(found);
    found.erase(std::unique(found.begin(), found.end()), found.end());
    listTasks_.insert(listTasks_.end(), found.begin(), found.end());
    listStart_.push_back(listTasks_.size());
    return listStart_.size() - 2;
  };
  auto addSource = [&](HazardKind kind, unsigned box, unsigned list) {
    if (list != UINT_MAX)
      sources_.push_back({kind, all.tensors[all.boxes[box].tensor], list});
  };

  unsigned n = tasks.size();
  for (unsigned t = 0; t < n; ++t) {
    sourceStart_.push_back(sources_.size());
    unsigned readsBegin = all.taskStart[t], writesBegin = all.firstWrite[t],
             writesEnd = all.taskStart[t + 1];
    for (unsigned r = readsBegin; r < writesBegin; ++r) {
      unsigned tensor = all.boxes[r].tensor;
      auto [it, inserted] =
          rawLists.try_emplace({all.boxes[r].attr, writesSeen[tensor]}, UINT_MAX);
      if (inserted) {
        found.clear();
        writes[tensor].overlapping(all, r, dims[tensor], found);
        it->second = makeList();
      }
      addSource(HazardKind::RAW, r, it->second);
    }
    for (unsigned w = writesBegin; w < writesEnd; ++w) {
      unsigned tensor = all.boxes[w].tensor;
      found.clear();
      reads[tensor].overlapping(all, w, dims[tensor], found);
      addSource(HazardKind::WAR, w, makeList());
      found.clear();
      writes[tensor].overlapping(all, w, dims[tensor], found);
      addSource(HazardKind::WAW, w, makeList());
      for (unsigned r = readsBegin; r < writesBegin; ++r)
        if (all.boxes[r].tensor == tensor && all.overlap(r, w) &&
            (selfOverlaps_.empty() || selfOverlaps_.back().first != t ||
             selfOverlaps_.back().second != all.tensors[tensor]))
          selfOverlaps_.push_back({t, all.tensors[tensor]});
    }
    for (unsigned r = readsBegin; r < writesBegin; ++r)
      reads[all.boxes[r].tensor].add(all, r, dims[all.boxes[r].tensor]);
    for (unsigned w = writesBegin; w < writesEnd; ++w) {
      writes[all.boxes[w].tensor].add(all, w, dims[all.boxes[w].tensor]);
      ++writesSeen[all.boxes[w].tensor];
    }
  }
  sourceStart_.push_back(sources_.size());
}

std::vector<Hazard> HazardAnalysis::pairs() const {
  std::vector<Hazard> hazards;
  std::vector<unsigned> stamp(numTasks(), UINT_MAX); // stamp[from] == to: reported
  for (unsigned t = 0; t < numTasks(); ++t)
    for (const Source &s : sources(t))
      for (unsigned from : list(s.list))
        if (stamp[from] != t) {
          stamp[from] = t;
          hazards.push_back({from, t, s.kind, s.tensor});
        }
  return hazards;
}

std::vector<std::pair<unsigned, unsigned>>
HazardAnalysis::loopCarriedReads(Operation *module) const {
  SymbolTableCollection symbols;
  llvm::DenseMap<Attribute, bool> stepState;
  auto isStepState = [&](FlatSymbolRefAttr name) {
    auto [it, inserted] = stepState.try_emplace(name, false);
    if (inserted) {
      auto tensor = symbols.lookupSymbolIn<TensorOp>(module, name.getAttr());
      it->second = tensor && tensor.getPlacement() == Placement::StepState;
    }
    return it->second;
  };
  // A WAR on step state read in this step is a RAW from the next step's point of view.
  std::vector<std::pair<unsigned, unsigned>> result;
  for (unsigned t = 0; t < numTasks(); ++t)
    for (const Source &s : sources(t))
      if (s.kind == HazardKind::WAR && isStepState(s.tensor))
        for (unsigned reader : list(s.list))
          result.push_back({t, reader});
  for (auto [t, tensor] : selfOverlaps_)
    if (isStepState(tensor))
      result.push_back({t, t});
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}
