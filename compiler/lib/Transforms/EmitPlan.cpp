//===- EmitPlan.cpp - mk-emit-plan: serialize the module to a plan ---------===//
//
// Tensor ids are the positions of mkt.tensor ops in the module; task ids are body
// positions within a program; event ids are the positions of mkt.event ops. The plan
// is verified before anything is written, and written atomically.
//===----------------------------------------------------------------------===//
#include "mk/Analysis/WeightFootprint.h"
#include "mk/Transforms/ModelAttr.h"
#include "mk/Transforms/Passes.h"
#include "mk/isa/plan_file.h"
#include "mk/isa/plan_verify.h"

#include "llvm/ADT/DenseMap.h"

namespace mk {
#define GEN_PASS_DEF_MKEMITPLAN
#include "mk/Transforms/Passes.h.inc"
} // namespace mk

using namespace mlir;
using namespace mk;
using namespace mk::task;

namespace {

// (Out-parameters rather than FailureOr<enum>: GCC 12 warns falsely on the latter.)
LogicalResult dtypeOf(TensorOp t, isa::DType &out) {
  Type e = t.getTensorType().getElementType();
  if (e.isBF16())
    out = isa::DType::BF16;
  else if (e.isF16())
    out = isa::DType::F16;
  else if (e.isF32())
    out = isa::DType::F32;
  else if (e.isSignlessInteger(32))
    out = isa::DType::I32;
  else
    return t.emitOpError() << "mk-emit-plan: no plan dtype for " << e;
  return success();
}

LogicalResult emitProgram(ProgramOp program,
                          const llvm::DenseMap<StringAttr, unsigned> &tensorIds,
                          isa::Program &out) {
  out.name = program.getSymName().str();
  out.kind = toIsa(program.getKind());
  out.rows = program.getRows();
  if (!program.getArenaBytes())
    return program.emitOpError() << "mk-emit-plan: run mk-plan-memory first";
  out.arenaBytes = *program.getArenaBytes();
  llvm::DenseMap<StringAttr, unsigned> eventIds;
  for (EventOp e : program.getBody().front().getOps<EventOp>()) {
    eventIds[e.getSymNameAttr()] = out.events.size();
    out.events.push_back({e.getSymName().str(), static_cast<uint32_t>(e.getCount())});
  }
  SmallVector<TaskOp> tasks(program.getBody().front().getOps<TaskOp>());
  out.order.assign(tasks.size(), UINT32_MAX);
  for (auto [i, task] : llvm::enumerate(tasks)) {
    isa::TaskRecord r{};
    r.kind = static_cast<uint16_t>(task.getKind());
    r.layer = task.getLayer() ? static_cast<uint16_t>(*task.getLayer()) : isa::kNoLayer;
    r.flags = task.getFlags();
    for (unsigned d = 0; d < 3; ++d)
      r.range[d] = {static_cast<uint32_t>(task.tileBegin(d)),
                    static_cast<uint32_t>(task.tileEnd(d))};
    for (auto [a, v] : llvm::enumerate(task.getAux()))
      r.aux[a] = static_cast<uint32_t>(v);
    std::fill(std::begin(r.operand), std::end(r.operand), isa::kNoTensor);
    r.numOperands = task.getOperands().size();
    for (auto [o, operand] : llvm::enumerate(task.getOperands()))
      if (auto ref = llvm::dyn_cast<FlatSymbolRefAttr>(operand))
        r.operand[o] = tensorIds.lookup(ref.getAttr());
    if (!task.getWaits() || !task.getSignals())
      return task.emitOpError() << "mk-emit-plan: run mk-scoreboard first";
    for (auto wait : task.getWaits()->getAsRange<WaitAttr>())
      r.wait[r.numWaits++] = {eventIds.lookup(wait.getEvent().getAttr()),
                              static_cast<uint16_t>(wait.getCount()),
                              static_cast<uint8_t>(wait.getBack()), 0};
    for (uint32_t w = r.numWaits; w < isa::kMaxWaits; ++w)
      r.wait[w] = {isa::kNoEvent, 0, 0, 0};
    r.signal[0] = r.signal[1] = isa::kNoEvent;
    for (auto ref : task.getSignals()->getAsRange<FlatSymbolRefAttr>())
      r.signal[r.numSignals++] = eventIds.lookup(ref.getAttr());
    r.costBytes = task.getCostBytes();
    r.costFlops = task.getCostFlops();
    if (!task.getOrder() || *task.getOrder() >= tasks.size())
      return task.emitOpError() << "mk-emit-plan: run mk-schedule first";
    out.order[*task.getOrder()] = i;
    out.tasks.push_back(r);
  }
  return success();
}

struct MkEmitPlanPass : mk::impl::MkEmitPlanBase<MkEmitPlanPass> {
  using MkEmitPlanBase::MkEmitPlanBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const isa::TargetDesc *desc = isa::findTarget(target);
    if (!desc) {
      module.emitError() << "mk-emit-plan: unknown target '" << target << "'";
      return signalPassFailure();
    }
    isa::Plan plan;
    plan.target = desc->kind;
    FailureOr<isa::ModelMeta> meta = modelMetaFromModule(module);
    if (failed(meta))
      return signalPassFailure();
    plan.model = std::move(*meta);
    FailureOr<int64_t> ranks = tensorParallelOf(module);
    if (failed(ranks))
      return signalPassFailure();
    plan.tensorParallel = static_cast<uint32_t>(*ranks);

    llvm::DenseMap<StringAttr, unsigned> programIds, tensorIds;
    for (ProgramOp p : module.getOps<ProgramOp>())
      programIds[p.getSymNameAttr()] = programIds.size();
    for (TensorOp t : module.getOps<TensorOp>()) {
      isa::TensorDesc d;
      if (failed(dtypeOf(t, d.dtype)))
        return signalPassFailure();
      d.placement = toIsa(t.getPlacement());
      d.name = t.getWeightName() ? t.getWeightName()->str() : t.getSymName().str();
      ArrayRef<int64_t> shape = t.getTensorType().getShape();
      d.rank = shape.size();
      std::copy(shape.begin(), shape.end(), d.shape);
      d.offset = t.getOffset() ? *t.getOffset() : 0;
      if (t.isActivation() && !t.getOffset()) {
        t.emitOpError()
            << "mk-emit-plan: activation has no arena offset (run mk-plan-memory)";
        return signalPassFailure();
      }
      d.layer = t.getLayer() ? static_cast<uint16_t>(*t.getLayer()) : isa::kNoLayer;
      if (t.getShardParts()) {
        d.shardDim = static_cast<uint8_t>(*t.getShardDim());
        d.shardParts = static_cast<uint16_t>(*t.getShardParts());
        d.shardReplicas = static_cast<uint16_t>(*t.getShardReplicas());
      }
      if (t.getProgram())
        d.program = programIds.lookup(t.getProgramAttr().getAttr());
      tensorIds[t.getSymNameAttr()] = plan.tensors.size();
      plan.tensors.push_back(std::move(d));
    }
    for (ProgramOp p : module.getOps<ProgramOp>()) {
      plan.programs.emplace_back();
      if (failed(emitProgram(p, tensorIds, plan.programs.back())))
        return signalPassFailure();
    }
    if (Status s = isa::verifyPlan(plan); !s) {
      module.emitError() << "mk-emit-plan: the plan does not verify: " << s.message();
      return signalPassFailure();
    }
    if (failed(verifyWeightFootprints(module, plan)))
      return signalPassFailure();
    // The module is only read: the pass manager need not verify it again.
    markAllAnalysesPreserved();
    if (output.empty())
      return;
    if (Status s = isa::writePlanFile(output, plan); !s) {
      module.emitError() << "mk-emit-plan: " << s.message();
      return signalPassFailure();
    }
  }
};

} // namespace
