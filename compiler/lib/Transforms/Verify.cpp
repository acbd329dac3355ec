//===- Verify.cpp - mk-verify: a verification checkpoint of a pipeline -----===//
#include "mk/Transforms/Passes.h"

#include "mlir/IR/Verifier.h"

namespace mk {
#define GEN_PASS_DEF_MKVERIFY
#include "mk/Transforms/Passes.h.inc"
} // namespace mk

namespace {
struct MkVerifyPass : mk::impl::MkVerifyBase<MkVerifyPass> {
  void runOnOperation() override {
    if (mlir::failed(mlir::verify(getOperation())))
      return signalPassFailure();
    // Nothing changed: the pass manager need not verify the module again.
    markAllAnalysesPreserved();
  }
};
} // namespace
