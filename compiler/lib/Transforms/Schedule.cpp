//===- Schedule.cpp - mk-schedule: the queue order of each program ---------===//
//
// List scheduling over the same-step DAG. A task may enter the queue once all its
// producers are in it (so the order is topological and the dynamic queue cannot
// deadlock). Among those, the task with the longest remaining critical path goes
// first; ties go to tasks that stream weights, so the workers claiming them start
// their (event-free) weight prefetch while the tail of the previous layer still
// runs, then to body order.
//
// Cost: O((tasks + events + signals + waits) + tasks log tasks). Everything runs on the
// bipartite task/event graph (TaskGraph.h), never on producer x consumer pairs.
//===----------------------------------------------------------------------===//
#include "mk/Analysis/TaskGraph.h"
#include "mk/Transforms/Passes.h"
#include "mk/isa/target.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

#include <queue>

namespace mk {
#define GEN_PASS_DEF_MKSCHEDULE
#include "mk/Transforms/Passes.h.inc"
} // namespace mk

using namespace mlir;
using namespace mk;
using namespace mk::task;

namespace {

struct MkSchedulePass : mk::impl::MkScheduleBase<MkSchedulePass> {
  using MkScheduleBase::MkScheduleBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const isa::TargetDesc *desc = isa::findTarget(target);
    if (!desc) {
      module.emitError() << "mk-schedule: unknown target '" << target << "'";
      return signalPassFailure();
    }
    llvm::DenseSet<StringAttr> weights;
    for (TensorOp t : module.getOps<TensorOp>())
      if (t.getPlacement() == Placement::Weight)
        weights.insert(t.getSymNameAttr());
    for (ProgramOp program : module.getOps<ProgramOp>())
      if (failed(schedule(program, *desc, weights)))
        return signalPassFailure();
  }

  LogicalResult schedule(ProgramOp program, const isa::TargetDesc &desc,
                         const llvm::DenseSet<StringAttr> &weights) {
    SmallVector<TaskOp> tasks;
    FailureOr<TaskGraph> graph = TaskGraph::fromProgram(program, tasks);
    if (failed(graph))
      return failure();
    // (The critical path below is the maximum over the tasks: there must be one.)
    if (tasks.empty())
      return program.emitOpError() << "mk-schedule: program has no tasks";
    FailureOr<std::vector<unsigned>> topo = graph->topologicalOrder();
    if (failed(topo))
      return program.emitOpError() << "mk-schedule: the task graph has a cycle";
    unsigned n = tasks.size();
    // Cost in microseconds at one worker's share of bandwidth and compute.
    double bytesPerUs = desc.memBandwidthGBs * 1e3 / desc.workers;
    double flopsPerUs = desc.tflopsBf16 * 1e6 / desc.workers;
    std::vector<double> cost(n), bottom(n + graph->numEvents(), 0.0);
    std::vector<bool> streamsWeights(n, false);
    for (auto [i, task] : llvm::enumerate(tasks)) {
      cost[i] =
          std::max(task.getCostBytes() / bytesPerUs, task.getCostFlops() / flopsPerUs);
      for (auto box : task.getReads().getAsRange<BoxAttr>())
        if (weights.contains(box.getTensor().getAttr()))
          streamsWeights[i] = true;
    }
    // bottom[task]: its cost plus the longest path after it; bottom[event]: the longest
    // path from its consumers, so a task's is its cost plus the largest of its events'.
    for (auto it = topo->rbegin(); it != topo->rend(); ++it) {
      unsigned node = *it;
      double longest = 0.0;
      if (node < n) {
        for (unsigned e : graph->signals(node))
          longest = std::max(longest, bottom[graph->eventNode(e)]);
        bottom[node] = cost[node] + longest;
      } else {
        for (unsigned c : graph->consumers(node - n))
          longest = std::max(longest, bottom[c]);
        bottom[node] = longest;
      }
    }
    auto before = [&](unsigned a, unsigned b) { // true: b goes first
      if (bottom[a] != bottom[b])
        return bottom[a] < bottom[b];
      if (streamsWeights[a] != streamsWeights[b])
        return bool(streamsWeights[b]);
      return a > b;
    };
    // A task is ready once every producer of every event it waits on is queued.
    std::priority_queue<unsigned, std::vector<unsigned>, decltype(before)> ready(before);
    std::vector<unsigned> missingWaits(n), missingProducers(graph->numEvents());
    for (unsigned e = 0; e < graph->numEvents(); ++e)
      missingProducers[e] = graph->producers(e).size();
    for (unsigned t = 0; t < n; ++t) {
      missingWaits[t] = graph->waits(t).size();
      if (missingWaits[t] == 0)
        ready.push(t);
    }
    Builder builder(program.getContext());
    int64_t position = 0;
    while (!ready.empty()) {
      unsigned t = ready.top();
      ready.pop();
      tasks[t].setOrderAttr(builder.getI64IntegerAttr(position++));
      for (unsigned e : graph->signals(t))
        if (--missingProducers[e] == 0)
          for (unsigned c : graph->consumers(e))
            if (--missingWaits[c] == 0)
              ready.push(c);
    }
    program->setAttr("critical_path_us", builder.getF64FloatAttr(*std::max_element(
                                             bottom.begin(), bottom.begin() + n)));
    return success();
  }
};

} // namespace
