//===- run_stats.cpp - stats.json ----------------------------------------===//

#include "mk/runtime/run_stats.h"

#include "atomic_file.h"

namespace mk::runtime {

nlohmann::json toJson(const RunStats &s) {
  nlohmann::json j = nlohmann::json::object();
  j["prefill_ms"] = s.prefillMs;
  j["prefill_tokens"] = s.prefillTokens;
  if (s.prefillMs > 0)
    j["prefill_tokens_per_s"] = double(s.prefillTokens) * 1000.0 / s.prefillMs;
  j["decode_ms_per_token"] = s.decodeMsPerToken;
  if (s.decodeMsPerToken > 0)
    j["decode_tokens_per_s"] = 1000.0 / s.decodeMsPerToken;
  j["tokens"] = s.tokens;
  j["weights_bytes"] = s.weightsBytes;
  j["kv_cache_bytes"] = s.kvCacheBytes;
  j["workers"] = s.workers;
  if (s.extra.is_object())
    for (auto it = s.extra.begin(); it != s.extra.end(); ++it)
      j[it.key()] = it.value();
  return j;
}

Status writeStatsJson(const std::string &path, const nlohmann::json &stats) {
  // replace: a string with invalid UTF-8 must not make dump() throw.
  std::string text =
      stats.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return detail::writeFileAtomic(path, {detail::ByteRange(text)});
}

} // namespace mk::runtime
