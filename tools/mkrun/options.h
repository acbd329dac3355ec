//===- options.h - mkrun's flags, parsed and resolved ----------------------===//
#pragma once

#include "mk/isa/status.h"
#include "mk/runtime/session.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mk::mkrun {

struct MpiRank;

/// Every mkrun flag. parseOptions fills it from argv; resolveOptions then applies the
/// demo's defaults and checks the flags that depend on each other.
struct RunOptions {
  std::string planPath;   // "" = the bundled demo's
  std::string weightsDir; // *.safetensors, and tokenizer.json for text prompts
  std::string promptText, promptIds, promptsFile; // at most one is given
  std::string backend = "host";                   // "host" or "cuda"
  std::string profilePath, statsPath, logitsPath; // "" = not written
  std::string simdTarget;                         // "" = the best this CPU has
  runtime::GenerateOptions gen;                   // sampling set by resolveOptions
  unsigned workers = 0;                           // 0 = the backend's default
  uint32_t tp = 0; // tensor-parallel ranks; 0 = the plan's (checked against it)
  int device = 0;
  bool greedy = false, noBos = false, noLookahead = false, mapWeights = false;
  float temperature = 1.0f, topP = 1.0f;
  int topK = 0;
  uint64_t seed = 0;
  /// Whether --temperature, --top-k or --top-p was given (sampling, not greedy).
  bool samplingGiven = false;
  /// Whether --max-new-tokens was given (an explicit 0 is kept).
  bool maxNewTokensGiven = false;
  /// This process's rank under mpirun (mpi_launch.h); null otherwise.
  const MpiRank *mpi = nullptr;
};

/// Parses argv into `options`. std::nullopt: go on; otherwise the process exit code
/// (0 after --help; 1 after a usage error, printed on one line).
std::optional<int> parseOptions(int argc, char **argv, RunOptions &options);

/// Probes the CUDA device for --backend cuda (first: without a GPU nothing else
/// matters), applies the demo's plan, weights, prompt and sampling when no plan is
/// given, resolves the sampling and token-count defaults, and checks flag combinations.
Status resolveOptions(RunOptions &options);

} // namespace mk::mkrun
