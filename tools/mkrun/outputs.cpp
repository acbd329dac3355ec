//===- outputs.cpp - mkrun's outputs: logits, profile, stats, summary ------===//
#include "outputs.h"

#include "options.h"
#include "run.h"

#include "mk/runtime/npy.h"
#include "mk/runtime/profile_dump.h"
#include "mk/runtime/run_stats.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mk::mkrun {
namespace {

/// Derived rates: both 0 when nothing was decoded.
struct DecodeRates {
  double msPerStep = 0.0;
  double tokensPerSec = 0.0;
};

DecodeRates decodeRates(const runtime::GenerateStats &stats) {
  return {stats.decodeSteps ? stats.decodeMs / stats.decodeSteps : 0.0,
          stats.decodeMs > 0 ? stats.decodeTokens * 1000.0 / stats.decodeMs : 0.0};
}

uint64_t generatedTokens(const RunResult &r) {
  uint64_t tokens = 0;
  for (const auto &o : r.outputs)
    tokens += o.tokens.size();
  return tokens;
}

Status writeLogits(const std::string &path, const isa::Plan &plan, const RunResult &r) {
  const uint32_t vocab = plan.model.vocabSize;
  return runtime::writeNpyF32(path, r.outputs[0].logits,
                              {r.outputs[0].tokens.size(), vocab});
}

Status writeProfile(const std::string &path, const isa::Plan &plan, const RunResult &r) {
  runtime::TraceWriter trace;
  for (const auto &p : r.profiles)
    if (Status a = trace.add(plan, p.program, p.records, p.startUs, p.rank); !a)
      return Status::error(path + ": " + a.message());
  return trace.write(path);
}

Status writeStats(const std::string &path, const RunOptions &o, const RunResult &r) {
  const runtime::GenerateStats &stats = r.stats;
  const DecodeRates rates = decodeRates(stats);
  nlohmann::json j = {{"prefill_ms", stats.prefillMs},
                      {"prefill_tokens", stats.prefillTokens},
                      {"decode_ms", stats.decodeMs},
                      {"decode_steps", stats.decodeSteps},
                      {"decode_ms_per_token", rates.msPerStep},
                      {"decode_tokens_per_s", rates.tokensPerSec},
                      {"tokens", generatedTokens(r)},
                      {"sequences", r.outputs.size()},
                      {"launches", stats.launches},
                      {"workers", r.workers},
                      {"tensor_parallel", r.ranks},
                      {"backend", o.backend},
                      {"weights_bytes", r.weightBytes},
                      {"weights_huge_page_bytes", r.hugePageBytes}};
  if (!r.simdTarget.empty())
    j["simd_target"] = r.simdTarget;
  // The mean over decode steps; left out when the executor does not count.
  if (stats.decodeSteps == 0)
    j["decode_weight_bytes_per_step"] = 0;
  else if (stats.decodeWeightBytes)
    j["decode_weight_bytes_per_step"] =
        double(*stats.decodeWeightBytes) / double(stats.decodeSteps);
  return runtime::writeStatsJson(path, j);
}

} // namespace

Status writeOutputs(const RunOptions &o, const isa::Plan &plan, const RunResult &r) {
  if (!o.logitsPath.empty())
    if (Status s = writeLogits(o.logitsPath, plan, r); !s)
      return s;
  if (!o.profilePath.empty())
    if (Status s = writeProfile(o.profilePath, plan, r); !s)
      return s;
  if (!o.statsPath.empty())
    if (Status s = writeStats(o.statsPath, o, r); !s)
      return s;
  return Status::ok();
}

void printSummary(const RunResult &r) {
  const DecodeRates rates = decodeRates(r.stats);
  fmt::print(stderr,
             "mkrun: {} tokens ({} prompt(s)); prefill {:.1f} ms for {} tokens; decode "
             "{:.2f} ms/token over {} steps ({:.1f} tokens/s, {}{} workers{}){}\n",
             generatedTokens(r), r.outputs.size(), r.stats.prefillMs,
             r.stats.prefillTokens, rates.msPerStep, r.stats.decodeSteps,
             rates.tokensPerSec,
             r.ranks > 1 ? fmt::format("{} ranks x ", r.ranks) : std::string(), r.workers,
             r.simdTarget.empty() ? "" : ", SIMD " + r.simdTarget,
             // Only when it matters: the weights were meant for huge pages.
             r.hugePagesNote.empty()
                 ? std::string()
                 : "; weights in the file mapping (4 KiB pages): " + r.hugePagesNote);
}

} // namespace mk::mkrun
