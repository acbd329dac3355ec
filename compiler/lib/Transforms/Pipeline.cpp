//===- Pipeline.cpp - The mkc pipeline and dialect registration -------------===//
#include "mk/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"

void mk::registerMkDialects(mlir::DialectRegistry &registry) {
  // Only what mk uses: registering everything costs ~50 s per TU and an 80 MB tool.
  registry.insert<mlir::func::FuncDialect, mk::graph::MKGDialect, mk::task::MKTDialect>();
}

void mk::buildCompilePipeline(mlir::OpPassManager &pm, const PipelineOptions &options) {
  pm.addPass(createMkFuse());
  MkShardOptions shard;
  shard.ranks = options.tensorParallel;
  pm.addPass(createMkShard(shard));
  MkTileOptions tile;
  tile.target = options.target;
  tile.maxSeqLen = options.maxSeqLen;
  tile.kvBlockSize = options.kvBlockSize;
  pm.addPass(createMkTile(tile));
  // Verifying ~90k tasks costs about as much as a pass: the checkpoints are where the
  // task IR is built and where it is serialized (the plan verifier then re-checks the
  // plan). The passes between them only add waits, events, order and offsets.
  if (!options.verifyEachPass)
    pm.addPass(createMkVerify());
  pm.addPass(createMkScoreboard());
  MkScheduleOptions schedule;
  schedule.target = options.target;
  pm.addPass(createMkSchedule(schedule));
  pm.addPass(createMkPlanMemory());
  if (!options.verifyEachPass)
    pm.addPass(createMkVerify());
  MkEmitPlanOptions emit;
  emit.output = options.output;
  emit.target = options.target;
  pm.addPass(createMkEmitPlan(emit));
}
