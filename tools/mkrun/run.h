//===- run.h - mkrun's run: plan, backend, session, generation -------------===//
#pragma once

#include "mk/isa/plan.h"
#include "mk/isa/status.h"
#include "mk/runtime/session.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mk::mkrun {

struct RunOptions;
struct Prompts;

/// What a run produced, for the output files and the summary line.
struct RunResult {
  std::vector<runtime::SequenceOutput> outputs; // [prompt]
  runtime::GenerateStats stats;
  std::vector<runtime::LaunchProfile> profiles; // with --profile
  unsigned workers = 0;                         // per rank
  uint32_t ranks = 1;                           // tensor-parallel ranks that ran
  std::string simdTarget;     // the host kernels' SIMD target; "" on other backends
  uint64_t weightBytes = 0;   // of one rank (rank 0)
  uint64_t hugePageBytes = 0; // of those, copied into 2 MiB pages
  std::string hugePagesNote;  // why none were, where they were meant to be
};

/// Reads the plan file and verifies it.
Status readPlan(const std::string &path, isa::Plan &out);

/// Opens the weights, builds the --backend executor, loads the session and generates;
/// a tensor-parallel plan runs its ranks (ranks.h). One prompt's text streams to
/// stdout as it is generated; a batch prints at the end.
Status runPlan(const RunOptions &options, const isa::Plan &plan, const Prompts &prompts,
               RunResult &out);

/// Loads `session`'s weights where --backend and --map-weights put them; `ranksHere`
/// sessions of this process load theirs at the same time (host ranks).
Status loadWeights(const RunOptions &options, const runtime::SafetensorsSet &weights,
                   runtime::Session &session, uint32_t ranksHere = 1);

/// Generates the prompts on a loaded session into `out` (outputs, stats, profiles,
/// workers, weight bytes). With `print`, the text goes to stdout as runPlan says (the
/// rank that prints: the only one, or rank 0).
Status generate(const RunOptions &options, const Prompts &prompts,
                runtime::Session &session, bool print, RunResult &out);

} // namespace mk::mkrun
