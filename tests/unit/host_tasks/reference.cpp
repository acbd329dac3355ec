//===- reference.cpp - float64 references for the host task kernels -------===//
#include "reference.h"

#include <cmath>
#include <limits>
#include <numbers>

namespace mk::host::test {

std::vector<double> toDouble(const bf16 *p, int64_t n) {
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    out[i] = bf16ToFloat(p[i]);
  return out;
}

std::vector<double> refRmsNorm(const std::vector<double> &x, const bf16 *w, double eps) {
  double sumSquares = 0;
  for (double v : x)
    sumSquares += v * v;
  const double inv = 1.0 / std::sqrt(sumSquares / double(x.size()) + eps);
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    out[i] = double(bf16ToFloat(w[i])) * x[i] * inv;
  return out;
}

std::vector<double> refRmsNormBf16(const std::vector<double> &x, const bf16 *w,
                                   double eps) {
  double sumSquares = 0;
  for (double v : x)
    sumSquares += v * v;
  const double inv = 1.0 / std::sqrt(sumSquares / double(x.size()) + eps);
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double normalized = roundToBf16(static_cast<float>(x[i] * inv));
    out[i] = roundToBf16(static_cast<float>(double(bf16ToFloat(w[i])) * normalized));
  }
  return out;
}

std::vector<double> refMatVec(const std::vector<double> &x, const bf16 *w, int64_t n0,
                              int64_t n1, const bf16 *bias) {
  const int64_t k = static_cast<int64_t>(x.size());
  std::vector<double> out;
  for (int64_t n = n0; n < n1; ++n) {
    double acc = bias ? double(bf16ToFloat(bias[n])) : 0.0;
    for (int64_t i = 0; i < k; ++i)
      acc += x[i] * double(bf16ToFloat(w[n * k + i]));
    out.push_back(acc);
  }
  return out;
}

std::vector<double> refInvFreq(const isa::ModelMeta &model, bool llama3, uint32_t hd) {
  std::vector<double> inv(hd / 2);
  for (uint32_t i = 0; i < hd / 2; ++i) {
    double f = std::pow(double(model.ropeTheta), -2.0 * i / hd);
    if (llama3) {
      const double orig = model.ropeOriginalMaxPos;
      const double low = model.ropeLowFreqFactor, high = model.ropeHighFreqFactor;
      const double wavelen = 2 * std::numbers::pi / f;
      if (wavelen > orig / low) {
        f /= model.ropeFactor;
      } else if (wavelen >= orig / high) {
        const double smooth = (orig / wavelen - low) / (high - low);
        f = (1 - smooth) * f / model.ropeFactor + smooth * f;
      }
    }
    inv[i] = f;
  }
  return inv;
}

void refRope(std::vector<double> &x, const std::vector<double> &invFreq, int64_t pos,
             bool interleaved) {
  const size_t half = x.size() / 2;
  for (size_t i = 0; i < half; ++i) {
    const double c = std::cos(double(pos) * invFreq[i]);
    const double s = std::sin(double(pos) * invFreq[i]);
    const size_t a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
    const double xa = x[a], xb = x[b];
    x[a] = xa * c - xb * s;
    x[b] = xb * c + xa * s;
  }
}

RefAttention refAttention(const bf16 *q, const std::vector<const bf16 *> &keys,
                          const std::vector<const bf16 *> &values, uint32_t hd) {
  RefAttention r{std::vector<double>(hd, 0.0), -std::numeric_limits<double>::infinity()};
  if (keys.empty())
    return r;
  std::vector<double> s(keys.size());
  double m = -std::numeric_limits<double>::infinity();
  for (size_t j = 0; j < keys.size(); ++j) {
    double dot = 0;
    for (uint32_t d = 0; d < hd; ++d)
      dot += double(bf16ToFloat(q[d])) * double(bf16ToFloat(keys[j][d]));
    s[j] = dot / std::sqrt(double(hd));
    m = std::max(m, s[j]);
  }
  double l = 0;
  for (size_t j = 0; j < keys.size(); ++j)
    l += std::exp(s[j] - m);
  for (size_t j = 0; j < keys.size(); ++j) {
    const double p = std::exp(s[j] - m) / l;
    for (uint32_t d = 0; d < hd; ++d)
      r.o[d] += p * double(bf16ToFloat(values[j][d]));
  }
  r.lse = m + std::log(l);
  return r;
}

} // namespace mk::host::test
