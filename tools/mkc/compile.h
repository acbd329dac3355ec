//===- compile.h - mkc compile: config -> plan (no MLIR types here) ---------===//
//
// The MLIR side of mkc is built without exceptions and RTTI like LLVM; the CLI side
// uses CLI11 (which needs exceptions). This header is the boundary between them.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/status.h"

#include <cstdint>
#include <string>

namespace mk::mkc {

struct CompileRequest {
  std::string model; // model dir, config.json path or preset name
  std::string target = "host";
  int64_t batch = 1;
  int64_t prefillChunk = 64;
  int64_t maxSeqLen = 0; // 0: min(4096, max_position_embeddings)
  int64_t kvBlockSize = 16;
  int64_t tensorParallel = 1; // ranks (mk-shard); 1: none
  bool interleavedRope = false;
  std::string emit;   // "" (plan), "graph" or "tasks"
  std::string output; // plan path; for --emit, "-" or "" = stdout
  bool timing = false;
  bool verifyEach = false; // verify the IR after every pass, not at two checkpoints
};

/// Runs the whole pipeline. On success `summary` holds a one-line description.
Status runCompile(const CompileRequest &request, std::string &summary);

} // namespace mk::mkc
