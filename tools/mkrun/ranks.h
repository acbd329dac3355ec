//===- ranks.h - mkrun's tensor-parallel runs ------------------------------===//
//
// A tensor-parallel plan (mkc compile --tp N) knows its N; mkrun runs every rank SPMD:
// the same prompts and options, each rank its own executor, weight slices, KV cache
// and session, only rank 0 printing. On --backend host the ranks are thread groups of
// this process (runtime::HostRanks).
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"
#include "mk/isa/status.h"
#include "mk/runtime/safetensors.h"

namespace mk::mkrun {

struct RunOptions;
struct Prompts;
struct RunResult;

/// --tp against the plan's ranks, and whether --backend can run them.
Status checkTensorParallel(const RunOptions &options, const isa::Plan &plan);

/// Runs the plan's ranks as threads of this process on the host executor, --workers
/// each (default: the hardware threads shared among the ranks). A failure on any rank
/// stops every rank and is reported as "rank R: <message>". The result is rank 0's,
/// with every rank's launch profiles; every rank must have generated the same tokens.
Status runHostRanks(const RunOptions &options, const isa::Plan &plan,
                    const runtime::SafetensorsSet &weights, const Prompts &prompts,
                    RunResult &out);

} // namespace mk::mkrun
