// Sampler: greedy argmax (ties low, NaN never wins); temperature/top-k/top-p limits
// reduce to greedy; the same seed gives the same tokens; draw frequencies match the
// softmax they sample from.
#include "mk/runtime/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

using namespace mk;
using namespace mk::runtime;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

SamplingParams sampling(float temperature, int topK = 0, float topP = 1,
                        uint64_t seed = 1) {
  return {.greedy = false,
          .temperature = temperature,
          .topK = topK,
          .topP = topP,
          .seed = seed};
}

std::vector<float> randomLogits(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = normal(rng);
  return v;
}

/// Frequencies of `draws` samples.
std::vector<double> frequencies(Sampler &s, const std::vector<float> &logits, int draws) {
  std::vector<double> f(logits.size(), 0.0);
  for (int i = 0; i < draws; ++i) {
    int32_t t = s.sample(logits);
    EXPECT_GE(t, 0);
    EXPECT_LT(size_t(t), logits.size());
    f[size_t(t)] += 1.0 / draws;
  }
  return f;
}

std::vector<double> softmax(const std::vector<float> &logits, double temperature) {
  std::vector<double> p(logits.size());
  double m = *std::max_element(logits.begin(), logits.end()), sum = 0;
  for (size_t i = 0; i < logits.size(); ++i)
    sum += p[i] = std::exp((logits[i] - m) / temperature);
  for (double &x : p)
    x /= sum;
  return p;
}

} // namespace

TEST(Sampler, GreedyIsArgmaxWithLowestIndexOnTies) {
  Sampler s(SamplingParams{});
  EXPECT_EQ(s.sample(std::vector<float>{1, 3, 2}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{1, 3, 3, 2}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{5, 5, 5}), 0);
  EXPECT_EQ(s.sample(std::vector<float>{-kInf, -kInf}), 0);
  EXPECT_EQ(s.sample(std::vector<float>{-1, kInf, kInf}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{-2.5f}), 0);
}

TEST(Sampler, NaNNeverWins) {
  Sampler s(SamplingParams{});
  EXPECT_EQ(s.sample(std::vector<float>{kNaN, 1, 2}), 2);
  EXPECT_EQ(s.sample(std::vector<float>{1, kNaN, 0}), 0);
  EXPECT_EQ(s.sample(std::vector<float>{kNaN, -kInf, kNaN}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{kNaN, kNaN}), -1);
  EXPECT_EQ(s.sample(std::vector<float>{}), -1);
  Sampler r(sampling(1.0f));
  for (int i = 0; i < 200; ++i)
    ASSERT_NE(r.sample(std::vector<float>{kNaN, 0, kNaN, 0}) % 2, 0);
  EXPECT_EQ(r.sample(std::vector<float>{kNaN, kNaN}), -1);
  EXPECT_EQ(r.sample(std::vector<float>{}), -1);
  EXPECT_EQ(r.sample(std::vector<float>{-kInf, -kInf, kNaN}), 0);
  // +inf logits share all the mass.
  for (int i = 0; i < 200; ++i) {
    int32_t t = r.sample(std::vector<float>{0, kInf, 100, kInf});
    ASSERT_TRUE(t == 1 || t == 3) << t;
  }
}

TEST(Sampler, LimitsReduceToGreedy) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    std::vector<float> logits = randomLogits(1000, seed);
    const int32_t greedy = Sampler::argmax(logits);
    Sampler cold(sampling(1e-6f, 0, 1, seed));
    Sampler top1(sampling(5.0f, 1, 1, seed));
    Sampler tinyP(sampling(5.0f, 0, 1e-6f, seed));
    for (int k = 0; k < 5; ++k) {
      EXPECT_EQ(cold.sample(logits), greedy);
      EXPECT_EQ(top1.sample(logits), greedy);
      EXPECT_EQ(tinyP.sample(logits), greedy);
    }
  }
}

TEST(Sampler, SameSeedSameTokens) {
  std::vector<float> logits = randomLogits(500, 3);
  for (SamplingParams p : {sampling(0.8f, 0, 1, 42), sampling(1.2f, 40, 1, 42),
                           sampling(1.0f, 0, 0.9f, 42), sampling(0.7f, 50, 0.95f, 42)}) {
    Sampler a(p), b(p);
    std::vector<int32_t> ta, tb;
    for (int i = 0; i < 100; ++i) {
      ta.push_back(a.sample(logits));
      tb.push_back(b.sample(logits));
    }
    EXPECT_EQ(ta, tb);
    // And the tokens are not all the same (the sampler really samples).
    EXPECT_GT(std::set<int32_t>(ta.begin(), ta.end()).size(), 3u);
    p.seed = 43;
    Sampler c(p);
    std::vector<int32_t> tc;
    for (int i = 0; i < 100; ++i)
      tc.push_back(c.sample(logits));
    EXPECT_NE(ta, tc);
  }
}

TEST(Sampler, FrequenciesMatchSoftmax) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f};
  constexpr int kDraws = 200000;
  // Standard error of a frequency is at most 0.5 / sqrt(200000) ~ 0.0011; allow 5x.
  constexpr double kTol = 0.006;
  for (double t : {1.0, 0.7, 2.0}) {
    Sampler s(sampling(float(t), 0, 1, 9));
    std::vector<double> f = frequencies(s, logits, kDraws), p = softmax(logits, t);
    for (size_t i = 0; i < 4; ++i)
      EXPECT_NEAR(f[i], p[i], kTol) << "temperature " << t << " token " << i;
  }
  // top_k = 2 renormalizes over the two most likely (tokens 1 and 0).
  {
    Sampler s(sampling(1.0f, 2, 1, 10));
    std::vector<double> f = frequencies(s, logits, kDraws), p = softmax(logits, 1.0);
    EXPECT_NEAR(f[1], p[1] / (p[0] + p[1]), kTol);
    EXPECT_NEAR(f[0], p[0] / (p[0] + p[1]), kTol);
    EXPECT_EQ(f[2], 0.0);
    EXPECT_EQ(f[3], 0.0);
  }
  // top_p: the smallest prefix of {1, 0, 2, 3} (by probability) with mass >= p.
  {
    std::vector<double> p = softmax(logits, 1.0); // ~ [0.23, 0.63, 0.14, 0.03]
    Sampler s(sampling(1.0f, 0, float(p[1] + p[0] + 0.01), 11)); // needs three tokens
    std::vector<double> f = frequencies(s, logits, kDraws);
    double kept = p[0] + p[1] + p[2];
    for (size_t i = 0; i < 3; ++i)
      EXPECT_NEAR(f[i], p[i] / kept, kTol) << i;
    EXPECT_EQ(f[3], 0.0);
    Sampler two(sampling(1.0f, 0, float(p[1] + 0.01), 12)); // token 1 alone is < p
    f = frequencies(two, logits, 20000);
    EXPECT_EQ(f[2] + f[3], 0.0);
    EXPECT_GT(f[0], 0.0);
  }
}

TEST(Sampler, ValidateParams) {
  EXPECT_TRUE(Sampler::validate(SamplingParams{}));
  EXPECT_TRUE(Sampler::validate(sampling(0.5f, 10, 0.9f)));
  // Greedy ignores the temperature (0 often means greedy).
  EXPECT_TRUE(Sampler::validate({.greedy = true, .temperature = 0}));
  struct Case {
    SamplingParams p;
    const char *message;
  } cases[] = {
      {sampling(0.0f), "sampling: temperature must be a finite number > 0, got 0 (for "
                       "deterministic output use greedy decoding)"},
      {sampling(-1.0f), "sampling: temperature must be a finite number > 0, got -1 (for "
                        "deterministic output use greedy decoding)"},
      {sampling(kNaN), "sampling: temperature must be a finite number > 0, got nan (for "
                       "deterministic output use greedy decoding)"},
      {sampling(kInf), "sampling: temperature must be a finite number > 0, got inf (for "
                       "deterministic output use greedy decoding)"},
      {sampling(1.0f, 0, 0.0f), "sampling: top_p must be in (0, 1], got 0"},
      {sampling(1.0f, 0, 1.5f), "sampling: top_p must be in (0, 1], got 1.5"},
      {sampling(1.0f, 0, kNaN), "sampling: top_p must be in (0, 1], got nan"},
      {sampling(1.0f, -1), "sampling: top_k must be >= 0 (0 = off), got -1"},
  };
  for (const Case &c : cases) {
    Status s = Sampler::validate(c.p);
    ASSERT_FALSE(s) << c.message;
    EXPECT_EQ(s.message(), c.message);
  }
  // Invalid params never crash the sampler: they are clamped.
  std::vector<float> logits = randomLogits(50, 5);
  for (const Case &c : cases) {
    Sampler s(c.p);
    int32_t t = s.sample(logits);
    EXPECT_GE(t, 0);
    EXPECT_LT(t, 50);
  }
}
