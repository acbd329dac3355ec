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
  MkTileOptions tile;
  tile.target = options.target;
  tile.maxSeqLen = options.maxSeqLen;
  tile.kvBlockSize = options.kvBlockSize;
  pm.addPass(createMkTile(tile));
  pm.addPass(createMkScoreboard());
  MkScheduleOptions schedule;
  schedule.target = options.target;
  pm.addPass(createMkSchedule(schedule));
  pm.addPass(createMkPlanMemory());
  MkEmitPlanOptions emit;
  emit.output = options.output;
  emit.target = options.target;
  pm.addPass(createMkEmitPlan(emit));
}
