//===- WeightFootprint.h - mk-tile's weight boxes against the ISA footprints ===//
//
// Both executors prefetch a task's weights from its kind's footprint
// (megakernel/include/mk/isa/task_footprint.h), before the task waits; mk-scoreboard
// orders tasks by the read boxes mk-tile wrote. The two must describe the same bytes:
// a footprint over a tensor that is not a weight would be read before its producer
// signals, and a weight box outside the footprint would never be prefetched.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

namespace mk {

/// Checks, for every task of every program of `module`, that its footprint (over the
/// emitted `plan`'s records and tensor shapes) names weights only, within their rows,
/// and that its read boxes of weights are exactly the footprint's boxes: rows [b, e)
/// over the first dimension and all of the others. Weights a kind reads at rows an
/// event decides (the footprint's kLateWeights, e.g. the embedding table) may have any
/// box. `plan` must be what mk-emit-plan built from `module`: tensors, programs and
/// tasks in module order. Emits an error at the first task that disagrees.
mlir::LogicalResult verifyWeightFootprints(mlir::ModuleOp module, const isa::Plan &plan);

} // namespace mk
