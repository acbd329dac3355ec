//===- WeightFootprint.cpp - mk-tile's weight boxes against the ISA footprints ===//
#include "mk/Analysis/WeightFootprint.h"

#include "mk/Dialect/Task/TaskDialect.h"
#include "mk/isa/task_footprint.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <vector>

using namespace mlir;
using namespace mk;
using namespace mk::task;

namespace {

/// A footprint entry as the box it stands for.
struct FootprintBox {
  uint32_t role;
  uint16_t tensor;
  SmallVector<int64_t, 4> lo, hi;
};

std::string formatBox(llvm::StringRef tensor, llvm::ArrayRef<int64_t> lo,
                      llvm::ArrayRef<int64_t> hi) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "@" << tensor << " [";
  llvm::interleaveComma(lo, os);
  os << "] to [";
  llvm::interleaveComma(hi, os);
  os << "]";
  return s;
}

bool sameBox(BoxAttr box, const FootprintBox &f) {
  return box.getLo() == llvm::ArrayRef<int64_t>(f.lo) &&
         box.getHi() == llvm::ArrayRef<int64_t>(f.hi);
}

LogicalResult verifyTask(TaskOp op, const isa::TaskRecord &record, const isa::Plan &plan,
                         const std::vector<isa::TensorView> &views,
                         llvm::ArrayRef<StringAttr> tensorNames,
                         const llvm::DenseMap<StringAttr, unsigned> &tensorIds) {
  const auto kind = static_cast<isa::TaskKind>(record.kind);
  const isa::TaskKindInfo &info = isa::taskKindInfo(kind);
  SmallVector<FootprintBox> footprint;
  auto emit = [&](uint32_t role, int64_t begin, int64_t end) {
    const uint16_t id = record.operand[role];
    FootprintBox f{role, id, {begin}, {end}};
    for (uint32_t d = 1; d < views[id].rank; ++d) {
      f.lo.push_back(0);
      f.hi.push_back(views[id].shape[d]);
    }
    footprint.push_back(std::move(f));
  };
  isa::forEachWeightRows({record, views.data(), plan.model.headDim}, emit);

  for (const FootprintBox &f : footprint) {
    llvm::StringRef name = tensorNames[f.tensor].getValue();
    const std::string role(isa::roleName(info.operandRoles[f.role]));
    if (plan.tensors[f.tensor].placement != isa::Placement::Weight)
      return op.emitOpError()
             << "mk-emit-plan: its footprint (task_footprint.h) streams operand '" << role
             << "' (@" << name << "), whose placement is '"
             << isa::placementName(plan.tensors[f.tensor].placement)
             << "', not 'weight': workers prefetch it before they wait";
    const int64_t rows = views[f.tensor].rank ? views[f.tensor].shape[0] : 0;
    if (f.lo[0] < 0 || f.lo[0] > f.hi[0] || f.hi[0] > rows)
      return op.emitOpError() << "mk-emit-plan: its footprint (task_footprint.h) streams "
                              << formatBox(name, f.lo, f.hi) << " of operand '" << role
                              << "', outside the tensor's " << rows << " rows";
    if (llvm::none_of(op.getReads().getAsRange<BoxAttr>(), [&](BoxAttr box) {
          return box.getTensor().getAttr() == tensorNames[f.tensor] && sameBox(box, f);
        }))
      return op.emitOpError() << "mk-emit-plan: its footprint (task_footprint.h) streams "
                              << formatBox(name, f.lo, f.hi) << " of operand '" << role
                              << "', which its reads do not list";
  }

  const uint32_t late = isa::lateWeightRoles(kind);
  for (BoxAttr box : op.getReads().getAsRange<BoxAttr>()) {
    auto it = tensorIds.find(box.getTensor().getAttr());
    if (it == tensorIds.end() ||
        plan.tensors[it->second].placement != isa::Placement::Weight)
      continue;
    const uint16_t id = static_cast<uint16_t>(it->second);
    bool readLate = false;
    for (uint32_t role = 0; role < record.numOperands; ++role)
      readLate |= record.operand[role] == id && (late >> role & 1u);
    if (readLate || llvm::any_of(footprint, [&](const FootprintBox &f) {
          return f.tensor == id && sameBox(box, f);
        }))
      continue;
    return op.emitOpError() << "mk-emit-plan: reads weight "
                            << formatBox(box.getTensor().getValue(), box.getLo(),
                                         box.getHi())
                            << ", which is not in its footprint (task_footprint.h): "
                               "no worker would prefetch it";
  }
  return success();
}

} // namespace

LogicalResult mk::verifyWeightFootprints(ModuleOp module, const isa::Plan &plan) {
  SmallVector<StringAttr> tensorNames;
  llvm::DenseMap<StringAttr, unsigned> tensorIds;
  std::vector<isa::TensorView> views(plan.tensors.size());
  for (auto [i, t] : llvm::enumerate(plan.tensors)) {
    views[i].dtype = t.dtype;
    views[i].rank = t.rank;
    std::copy(t.shape, t.shape + isa::kMaxRank, views[i].shape);
  }
  for (TensorOp t : module.getOps<TensorOp>()) {
    tensorIds[t.getSymNameAttr()] = tensorNames.size();
    tensorNames.push_back(t.getSymNameAttr());
  }
  for (auto [p, program] : llvm::enumerate(module.getOps<ProgramOp>())) {
    const isa::Program &emitted = plan.programs[p];
    for (auto [t, task] : llvm::enumerate(program.getBody().front().getOps<TaskOp>()))
      if (failed(verifyTask(task, emitted.tasks[t], plan, views, tensorNames, tensorIds)))
        return failure();
  }
  return success();
}
