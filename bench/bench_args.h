//===- bench_args.h - What the bench programs share: medians, numeric flags -===//
#pragma once

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace bench {

/// The median of v (the mean of the middle two for an even count).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// A whole decimal number above 0, and nothing after it.
inline bool parsePositive(const char *s, unsigned long &out) {
  char *end = nullptr;
  out = std::strtoul(s, &end, 10);
  return *s && end && *end == 0 && out > 0;
}

} // namespace bench
