//===- PlanMemory.cpp - mk-plan-memory: the activation arena ----------------===//
//
// First fit in queue order of each tensor's first write. With a dynamic queue, a
// task later in the queue can run while an earlier one still does, so two tensors
// may share bytes only when the DAG orders them: every task touching the earlier
// tensor is a strict ancestor of every task writing the later one. The plan verifier
// checks exactly this rule.
//===----------------------------------------------------------------------===//
#include "mk/Analysis/TaskGraph.h"
#include "mk/Transforms/Passes.h"

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

using Bits = std::vector<uint64_t>;

struct Buffer {
  TensorOp tensor;
  uint64_t bytes = 0;
  Bits accessors;         // tasks that read or write it
  Bits beforeEveryWriter; // tasks that are ancestors of all its writers
  int64_t firstWrite = INT64_MAX;
  bool written = false;
};

bool subset(const Bits &a, const Bits &b) {
  for (size_t w = 0; w < a.size(); ++w)
    if (a[w] & ~b[w])
      return false;
  return true;
}

LogicalResult planProgram(ProgramOp program, ModuleOp module) {
  SmallVector<TaskOp> tasks;
  FailureOr<TaskGraph> graph = TaskGraph::fromProgram(program, tasks);
  if (failed(graph))
    return failure();
  if (failed(graph->computeAncestors()))
    return program.emitOpError() << "mk-plan-memory: the task graph has a cycle";
  unsigned n = tasks.size(), words = (n + 63) / 64;

  SmallVector<Buffer> buffers;
  llvm::DenseMap<StringAttr, unsigned> index;
  for (TensorOp t : module.getOps<TensorOp>()) {
    if (!t.isActivation() || t.getProgramAttr().getAttr() != program.getSymNameAttr())
      continue;
    index[t.getSymNameAttr()] = buffers.size();
    Buffer b;
    b.tensor = t;
    b.bytes = t.getByteSize();
    b.accessors.assign(words, 0);
    b.beforeEveryWriter.assign(words, ~uint64_t(0));
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
      b.accessors[i / 64] |= uint64_t(1) << (i % 64);
      if (!write)
        return;
      b.written = true;
      b.firstWrite = std::min<int64_t>(b.firstWrite, *task.getOrder());
      ArrayRef<uint64_t> anc = graph->ancestorRow(i);
      for (unsigned w = 0; w < words; ++w)
        b.beforeEveryWriter[w] &= anc[w];
    };
    for (auto box : task.getReads().getAsRange<BoxAttr>())
      touch(box, false);
    for (auto box : task.getWrites().getAsRange<BoxAttr>())
      touch(box, true);
  }

  SmallVector<unsigned> order;
  for (unsigned b = 0; b < buffers.size(); ++b) {
    if (!buffers[b].written)
      return buffers[b].tensor.emitOpError()
             << "mk-plan-memory: activation is never written in " << program.getSymName();
    order.push_back(b);
  }
  llvm::stable_sort(order, [&](unsigned a, unsigned b) {
    return buffers[a].firstWrite < buffers[b].firstWrite;
  });

  struct Placed {
    uint64_t offset, end;
    unsigned buffer;
  };
  SmallVector<Placed> placed;
  uint64_t arena = 0;
  Builder builder(program.getContext());
  for (unsigned a : order) {
    Buffer &buf = buffers[a];
    uint64_t size = (buf.bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
    // The placed buffers this one may not overlap, by offset; then the lowest gap
    // between them that fits (first fit). Deciding conflicts once per buffer keeps
    // this quadratic in the number of buffers, not cubic.
    SmallVector<std::pair<uint64_t, uint64_t>> busy;
    for (const Placed &p : placed)
      if (!subset(buffers[p.buffer].accessors, buf.beforeEveryWriter))
        busy.push_back({p.offset, p.end});
    llvm::sort(busy);
    uint64_t chosen = 0;
    for (auto [begin, end] : busy) {
      if (chosen + size <= begin)
        break;
      chosen = std::max(chosen, end);
    }
    placed.push_back({chosen, chosen + size, a});
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
