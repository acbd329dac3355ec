//===- sampler.cpp - Greedy, temperature, top-k and top-p sampling --------===//

#include "mk/runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace mk::runtime {

namespace {

std::string formatFloat(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// More probable first; equal probabilities by token index.
bool moreLikely(const std::pair<double, int32_t> &a,
                const std::pair<double, int32_t> &b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

/// Uniform double in [0, 1) from the generator's top 53 bits.
double uniform01(std::mt19937_64 &rng) { return double(rng() >> 11) * 0x1.0p-53; }

} // namespace

Sampler::Sampler(SamplingParams params) : params_(params), rng_(params.seed) {
  if (!(params_.temperature > 0) || !std::isfinite(params_.temperature))
    params_.greedy = true;
  params_.topK = std::max(params_.topK, 0);
  if (!(params_.topP > 0)) // also NaN: keep only the most likely token
    params_.topP = std::numeric_limits<float>::min();
  params_.topP = std::min(params_.topP, 1.0f);
}

Status Sampler::validate(const SamplingParams &p) {
  if (!p.greedy && !(std::isfinite(p.temperature) && p.temperature > 0))
    return Status::error("sampling: temperature must be a finite number > 0, got " +
                         formatFloat(p.temperature) +
                         " (for deterministic output use greedy decoding)");
  if (!(p.topP > 0 && p.topP <= 1))
    return Status::error("sampling: top_p must be in (0, 1], got " + formatFloat(p.topP));
  if (p.topK < 0)
    return Status::error("sampling: top_k must be >= 0 (0 = off), got " +
                         std::to_string(p.topK));
  return Status::ok();
}

int32_t Sampler::argmax(std::span<const float> logits) {
  int32_t best = -1;
  for (size_t i = 0; i < logits.size(); ++i)
    if (!std::isnan(logits[i]) && (best < 0 || logits[i] > logits[size_t(best)]))
      best = static_cast<int32_t>(i);
  return best;
}

int32_t Sampler::sample(std::span<const float> logits) {
  const int32_t best = argmax(logits);
  if (params_.greedy || best < 0)
    return best;
  const double maxLogit = logits[size_t(best)];
  if (maxLogit == -std::numeric_limits<double>::infinity())
    return best; // every logit is -inf: nothing to weigh

  // Unnormalized softmax weights relative to the maximum (the max has weight 1, so
  // the set is never empty). +inf logits share the mass equally.
  candidates_.clear();
  const bool infinite = std::isinf(maxLogit);
  const double invT = 1.0 / double(params_.temperature);
  for (size_t i = 0; i < logits.size(); ++i) {
    const double l = logits[i];
    if (std::isnan(l))
      continue;
    const double w =
        infinite ? (l == maxLogit ? 1.0 : 0.0) : std::exp((l - maxLogit) * invT);
    if (w > 0)
      candidates_.emplace_back(w, static_cast<int32_t>(i));
  }

  if (params_.topK > 0 && size_t(params_.topK) < candidates_.size()) {
    auto kth = candidates_.begin() + params_.topK;
    std::nth_element(candidates_.begin(), kth, candidates_.end(), moreLikely);
    candidates_.erase(kth, candidates_.end());
    // nth_element leaves an unspecified order; sort so the draw below does not
    // depend on the standard library.
    std::sort(candidates_.begin(), candidates_.end(), moreLikely);
  }
  if (params_.topP < 1) {
    std::sort(candidates_.begin(), candidates_.end(), moreLikely);
    double total = 0;
    for (const auto &c : candidates_)
      total += c.first;
    const double target = double(params_.topP) * total;
    double mass = 0;
    size_t keep = 0;
    while (keep < candidates_.size()) {
      mass += candidates_[keep++].first;
      if (mass >= target)
        break;
    }
    candidates_.resize(keep);
  }

  double total = 0;
  for (const auto &c : candidates_)
    total += c.first;
  const double u = uniform01(rng_) * total;
  double acc = 0;
  for (const auto &c : candidates_) {
    acc += c.first;
    if (u < acc)
      return c.second;
  }
  return candidates_.back().second; // u within rounding of the total
}

} // namespace mk::runtime
