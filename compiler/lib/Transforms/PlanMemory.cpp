//===- PlanMemory.cpp - mk-plan-memory: the activation arena ----------------===//
//
// First fit in queue order of each tensor's first write. With a dynamic queue, a
// task later in the queue can run while an earlier one still does, so two tensors
// may share bytes only when the DAG orders them: every task touching the earlier
// tensor is a strict ancestor of every task writing the later one. The plan verifier
// checks exactly this rule.
//
// Cost. Tasks are numbered by their place in a topological order of the bipartite
// task/event graph, and each task's (and event's) strict ancestors are a prefix + window
// set (mk/isa/ancestor_sets.h), about one layer wide: O((tasks + events) x window).
// "Before every writer of B" is the intersection of its writers' sets, a set of the same
// shape. A placed tensor A conflicts with B unless every accessor of A is in it; when A's
// last accessor lies in that set's prefix A is known not to conflict, so only the placed
// tensors whose last accessor is at or past the prefix (in a layered program, those of
// the current and the previous layer) are examined, through a list sorted by last
// accessor. The conflicts are exactly those of the pairwise rule.
//
// The LM head's logits are read by the runtime after the step's argmax wrote its tokens
// (the step hook runs on the argmax's worker before it signals; see mk/executor.h), so
// the argmax counts as one of their accessors: nothing written before it may reuse
// their bytes (under tensor parallelism the all_gather's output comes after the LM head).
//===----------------------------------------------------------------------===//
#include "mk/Analysis/TaskGraph.h"
#include "mk/Transforms/Passes.h"
#include "mk/isa/ancestor_sets.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace mk {
#define GEN_PASS_DEF_MKPLANMEMORY
#include "mk/Transforms/Passes.h.inc"
} // namespace mk

using namespace mlir;
using namespace mk;
using namespace mk::task;

namespace {

constexpr uint64_t kArenaAlignment = 256;

struct Buffer {
  TensorOp tensor;
  uint64_t bytes = 0;
  std::vector<uint32_t> accessors; // positions of the tasks that read or write it
  std::vector<isa::AncestorSets::Row> writers;  // the writers' ancestor sets
  isa::AncestorSets::Row beforeEveryWriter = 0; // their intersection
  int64_t firstWrite = INT64_MAX;
};

/// Every accessor of `a` strictly precedes every writer of `b`.
bool precedesEveryWriter(const isa::AncestorSets &sets, const Buffer &a,
                         const Buffer &b) {
  auto it = std::lower_bound(a.accessors.begin(), a.accessors.end(),
                             uint64_t{sets.prefix(b.beforeEveryWriter)} * 64);
  return std::all_of(it, a.accessors.end(), [&](uint32_t pos) {
    return sets.contains(b.beforeEveryWriter, pos);
  });
}

LogicalResult planProgram(ProgramOp program, ModuleOp module) {
  SmallVector<TaskOp> tasks;
  FailureOr<TaskGraph> graph = TaskGraph::fromProgram(program, tasks);
  if (failed(graph))
    return failure();
  FailureOr<std::vector<unsigned>> topo = graph->topologicalOrder();
  if (failed(topo))
    return program.emitOpError() << "mk-plan-memory: the task graph has a cycle";
  unsigned n = tasks.size();

  // Strict same-step ancestors of every node, over task positions in `topo`.
  std::vector<uint32_t> position(n);
  isa::AncestorSets sets;
  std::vector<isa::AncestorSets::Row> rowOf(topo->size());
  uint32_t nextPosition = 0;
  for (unsigned node : *topo) {
    uint32_t prefix = 0, end = 0;
    if (node < n) {
      position[node] = nextPosition++;
      for (unsigned e : graph->waits(node)) {
        prefix = std::max(prefix, sets.prefix(rowOf[graph->eventNode(e)]));
        end = std::max(end, sets.end(rowOf[graph->eventNode(e)]));
      }
      rowOf[node] = sets.create(prefix, end);
      for (unsigned e : graph->waits(node))
        sets.unite(rowOf[node], rowOf[graph->eventNode(e)]);
    } else {
      for (unsigned p : graph->producers(node - n)) {
        prefix = std::max(prefix, sets.prefix(rowOf[p]));
        end = std::max({end, sets.end(rowOf[p]), position[p] / 64 + 1});
      }
      rowOf[node] = sets.create(prefix, end);
      for (unsigned p : graph->producers(node - n)) {
        sets.unite(rowOf[node], rowOf[p]);
        sets.insert(rowOf[node], position[p]);
      }
    }
    sets.finish(rowOf[node]);
  }

  SmallVector<Buffer> buffers;
  llvm::DenseMap<StringAttr, unsigned> index;
  for (TensorOp t : module.getOps<TensorOp>()) {
    if (!t.isActivation() || t.getProgramAttr().getAttr() != program.getSymNameAttr())
      continue;
    index[t.getSymNameAttr()] = buffers.size();
    Buffer b;
    b.tensor = t;
    b.bytes = t.getByteSize();
    buffers.push_back(std::move(b));
  }
  for (auto [i, task] : llvm::enumerate(tasks)) {
    if (!task.getOrder())
      return task.emitOpError() << "mk-plan-memory: run mk-schedule first (no order)";
    auto touch = [&](BoxAttr box, bool write) {
      auto it = index.find(box.getTensor().getAttr());
      if (it == index.end())
        return;
      Buffer &b = buffers[it->second];
      b.accessors.push_back(position[i]);
      if (!write)
        return;
      b.firstWrite = std::min<int64_t>(b.firstWrite, *task.getOrder());
      if (b.writers.empty() || b.writers.back() != rowOf[i])
        b.writers.push_back(rowOf[i]);
    };
    for (auto box : task.getReads().getAsRange<BoxAttr>())
      touch(box, false);
    for (auto box : task.getWrites().getAsRange<BoxAttr>())
      touch(box, true);
  }
  // The logits live until the argmax (see the file comment).
  constexpr uint32_t kLogits = isa::role(isa::TaskKind::LmHead, "logits");
  for (auto [i, task] : llvm::enumerate(tasks)) {
    if (task.getKind() != isa::TaskKind::Argmax)
      continue;
    for (TaskOp head : tasks) {
      if (head.getKind() != isa::TaskKind::LmHead || head.getOperands().size() <= kLogits)
        continue;
      auto ref = llvm::dyn_cast<FlatSymbolRefAttr>(head.getOperands()[kLogits]);
      if (!ref)
        continue;
      if (auto it = index.find(ref.getAttr()); it != index.end())
        buffers[it->second].accessors.push_back(position[i]);
    }
  }

  SmallVector<unsigned> order;
  for (unsigned b = 0; b < buffers.size(); ++b) {
    Buffer &buf = buffers[b];
    if (buf.writers.empty())
      return buf.tensor.emitOpError()
             << "mk-plan-memory: activation is never written in " << program.getSymName();
    llvm::sort(buf.accessors);
    buf.accessors.erase(std::unique(buf.accessors.begin(), buf.accessors.end()),
                        buf.accessors.end());
    buf.beforeEveryWriter = sets.intersect(buf.writers);
    order.push_back(b);
  }
  llvm::stable_sort(order, [&](unsigned a, unsigned b) {
    return buffers[a].firstWrite < buffers[b].firstWrite;
  });

  struct Placed {
    uint32_t lastAccessor;
    uint64_t offset, end;
    unsigned buffer;
  };
  std::vector<Placed> placed; // by last accessor
  uint64_t arena = 0;
  Builder builder(program.getContext());
  SmallVector<std::pair<uint64_t, uint64_t>> busy;
  for (unsigned a : order) {
    Buffer &buf = buffers[a];
    uint64_t size = (buf.bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
    // The placed buffers this one may not overlap, by offset; then the lowest gap
    // between them that fits (first fit). Placed buffers last accessed in the prefix
    // of this one's "before every writer" set are done with before it is written.
    uint64_t donePositions = uint64_t{sets.prefix(buf.beforeEveryWriter)} * 64;
    busy.clear();
    for (auto it = std::lower_bound(
             placed.begin(), placed.end(), donePositions,
             [](const Placed &p, uint64_t v) { return p.lastAccessor < v; });
         it != placed.end(); ++it)
      if (!precedesEveryWriter(sets, buffers[it->buffer], buf))
        busy.push_back({it->offset, it->end});
    llvm::sort(busy);
    uint64_t chosen = 0;
    for (auto [begin, end] : busy) {
      if (chosen + size <= begin)
        break;
      chosen = std::max(chosen, end);
    }
    Placed p{buf.accessors.back(), chosen, chosen + size, a};
    placed.insert(std::upper_bound(placed.begin(), placed.end(), p,
                                   [](const Placed &x, const Placed &y) {
                                     return x.lastAccessor < y.lastAccessor;
                                   }),
                  p);
    arena = std::max(arena, chosen + size);
    buf.tensor.setOffsetAttr(builder.getI64IntegerAttr(chosen));
  }
  program.setArenaBytesAttr(builder.getI64IntegerAttr(arena));
  return success();
}

struct MkPlanMemoryPass : mk::impl::MkPlanMemoryBase<MkPlanMemoryPass> {
  void runOnOperation() override {
    for (ProgramOp program : getOperation().getOps<ProgramOp>())
      if (failed(planProgram(program, getOperation())))
        return signalPassFailure();
  }
};

} // namespace
