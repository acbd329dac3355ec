//===- run_stats.h - Machine-readable timing summary of a run -------------===//
//
// What `mkrun --stats stats.json` writes (the caller measures and fills it):
//   {"prefill_ms": 12.5, "prefill_tokens": 6, "prefill_tokens_per_s": 480.0,
//    "decode_ms_per_token": 3.2, "decode_tokens_per_s": 312.5, "tokens": 32,
//    "weights_bytes": 123456, "kv_cache_bytes": 65536, "workers": 16, ...extra}
// Rates are derived (absent when their time is 0). Keys are snake_case.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/status.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace mk::runtime {

struct RunStats {
  double prefillMs = 0;        // wall time of the whole prompt's prefill
  uint64_t prefillTokens = 0;  // prompt tokens prefilled
  double decodeMsPerToken = 0; // mean decode time per generated token
  uint64_t tokens = 0;         // tokens generated
  uint64_t weightsBytes = 0;   // WeightStore::bytes()
  uint64_t kvCacheBytes = 0;   // KvCache::bytes()
  unsigned workers = 0;        // executor workers
  nlohmann::json extra = nlohmann::json::object(); // merged into the top level
};

nlohmann::json toJson(const RunStats &stats);

/// Writes `stats` (pretty-printed, atomically). Errors start with `path`.
Status writeStatsJson(const std::string &path, const nlohmann::json &stats);
inline Status writeStatsJson(const std::string &path, const RunStats &stats) {
  return writeStatsJson(path, toJson(stats));
}

} // namespace mk::runtime
