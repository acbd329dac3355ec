//===- TestHazards.cpp - mk-test-hazards: print the hazard analysis ---------===//
//
// For lit tests of the analysis behind mk-scoreboard, as Triton's Membar test pass:
//   hazards @decode
//   l0.qkv.q.g0.0 <- embedding.0 RAW @decode.h0
#include "mk/Analysis/Hazards.h"
#include "mk/Transforms/Passes.h"

#include "llvm/Support/raw_ostream.h"

namespace mk {
#define GEN_PASS_DEF_MKTESTHAZARDS
#include "mk/Transforms/Passes.h.inc"
} // namespace mk

using namespace mlir;
using namespace mk;
using namespace mk::task;

namespace {
struct MkTestHazardsPass : mk::impl::MkTestHazardsBase<MkTestHazardsPass> {
  void runOnOperation() override {
    llvm::raw_ostream &os = llvm::outs();
    for (ProgramOp program : getOperation().getOps<ProgramOp>()) {
      SmallVector<TaskOp> tasks(program.getBody().front().getOps<TaskOp>());
      os << "hazards @" << program.getSymName() << "\n";
      HazardAnalysis hazards(tasks);
      for (const Hazard &h : hazards.pairs())
        os << tasks[h.to].getSymName() << " <- " << tasks[h.from].getSymName() << " "
           << hazardKindName(h.kind) << " " << h.tensor << "\n";
      for (auto [writer, reader] : hazards.loopCarriedReads(getOperation()))
        os << tasks[reader].getSymName() << " <- " << tasks[writer].getSymName()
           << " loop-carried RAW\n";
    }
  }
};
} // namespace
