//===- Passes.h - The mk compiler passes ------------------------------------===//
#pragma once

#include "mk/Dialect/Graph/GraphDialect.h"
#include "mk/Dialect/Task/TaskDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace mk {

#define GEN_PASS_DECL
#include "mk/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mk/Transforms/Passes.h.inc"

/// Options of the whole mkc pipeline.
struct PipelineOptions {
  std::string target = "host";
  int64_t maxSeqLen = 4096;
  int64_t kvBlockSize = 16;
  int64_t tensorParallel = 1; // ranks of mk-shard (1: none)
  std::string output;         // plan file; empty = verify only
  /// Whether the pass manager verifies the IR after every pass (set it with
  /// pm.enableVerifier). When it does not, the pipeline verifies at two checkpoints
  /// (mk-verify): after mk-tile and before mk-emit-plan.
  bool verifyEachPass = true;
};

/// fuse -> shard -> tile -> scoreboard -> schedule -> plan-memory -> emit-plan, with
/// mk-verify after tile and before emit-plan unless options.verifyEachPass. mk-shard
/// changes nothing when options.tensorParallel is 1.
void buildCompilePipeline(mlir::OpPassManager &pm, const PipelineOptions &options);

/// Registers the dialects mk uses (and only those) into `registry`.
void registerMkDialects(mlir::DialectRegistry &registry);

} // namespace mk
