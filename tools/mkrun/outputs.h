//===- outputs.h - mkrun's outputs: logits, profile, stats, summary --------===//
#pragma once

#include "mk/isa/plan.h"
#include "mk/isa/status.h"

namespace mk::mkrun {

struct RunOptions;
struct RunResult;

/// Writes the files the flags ask for: --dump-logits, --profile, --stats-json.
Status writeOutputs(const RunOptions &options, const isa::Plan &plan,
                    const RunResult &result);

/// The one-line summary on stderr: tokens, prefill and decode times, workers.
void printSummary(const RunResult &result);

} // namespace mk::mkrun
