//===- plan_file_fuzz_test.cpp - Arbitrary bytes never crash the reader ----===//
//
// Mutations of a valid plan (byte flips, truncation, insertion, deletion, garbage),
// with and without the checksum recomputed: without, the checksum must catch nearly
// every edit; with, the section parsers and then the verifier see the edited bytes.
// Either readPlan fails with a one-line message, or it returns a plan that verifyPlan
// and verifyPlanAll can judge without crashing. Run under ASan/UBSan too.
//===----------------------------------------------------------------------===//
#include "mk/isa/plan_file.h"
#include "mk/isa/plan_verify.h"

#include "toy_plan.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

namespace mk::isa {
namespace {

void reseal(std::vector<uint8_t> &b) {
  if (b.size() < kPlanHeaderBytes)
    return;
  uint64_t size = b.size() - kPlanHeaderBytes;
  uint64_t sum = fnv1a64(std::span(b.data() + kPlanHeaderBytes, size));
  for (int i = 0; i < 8; ++i) {
    b[kPlanPayloadBytesOffset + i] = static_cast<uint8_t>(size >> (8 * i));
    b[kPlanChecksumOffset + i] = static_cast<uint8_t>(sum >> (8 * i));
  }
}

struct Outcome {
  int rejected = 0;
  int accepted = 0;
  int acceptedValid = 0;
  int checksumErrors = 0;
};

void print(const char *what, const Outcome &o) {
  std::printf("%s: %d rejected (%d by the checksum), %d parsed (%d of them valid)\n",
              what, o.rejected, o.checksumErrors, o.accepted, o.acceptedValid);
}

void judge(const std::vector<uint8_t> &bytes, Outcome &o, const std::string &what) {
  Plan plan;
  Status s = readPlan(bytes, plan);
  if (!s) {
    ++o.rejected;
    EXPECT_FALSE(s.message().empty()) << what;
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << what << ": " << s.message();
    o.checksumErrors += s.message().rfind("checksum mismatch", 0) == 0;
    return;
  }
  ++o.accepted;
  Status v = verifyPlan(plan);
  std::vector<std::string> all = verifyPlanAll(plan, 10);
  EXPECT_EQ(v.isOk(), all.empty()) << what;
  if (!v.isOk()) {
    EXPECT_EQ(v.message(), all.front()) << what;
    for (const std::string &m : all)
      EXPECT_EQ(m.find('\n'), std::string::npos) << what << ": " << m;
  }
  o.acceptedValid += v.isOk();
}

class PlanFileFuzz : public testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(writePlan(test::makeToyPlan(), good_).isOk()); }
  std::vector<uint8_t> good_;
  static constexpr int kSeeds = 2000;
};

TEST_F(PlanFileFuzz, ByteFlipsAreCaughtByTheChecksum) {
  Outcome o;
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint8_t> b = good_;
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < flips; ++i)
      b[kPlanHeaderBytes + rng() % (b.size() - kPlanHeaderBytes)] ^=
          static_cast<uint8_t>(1 + rng() % 255);
    judge(b, o, "flip seed " + std::to_string(seed));
  }
  print("ByteFlipsAreCaughtByTheChecksum", o);
  EXPECT_EQ(o.rejected, kSeeds);
  EXPECT_EQ(o.checksumErrors, kSeeds);
}

TEST_F(PlanFileFuzz, ByteFlipsWithTheChecksumRecomputedReachTheParsers) {
  Outcome o;
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937_64 rng(1000003 + seed);
    std::vector<uint8_t> b = good_;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      // Mostly the payload; sometimes header fields (target, tensor parallel, versions).
      size_t at = rng() % 8 == 0
                      ? 8 + rng() % 16
                      : kPlanHeaderBytes + rng() % (b.size() - kPlanHeaderBytes);
      b[at] ^= static_cast<uint8_t>(1 + rng() % 255);
    }
    reseal(b);
    judge(b, o, "resealed flip seed " + std::to_string(seed));
  }
  print("ByteFlipsWithTheChecksumRecomputedReachTheParsers", o);
  EXPECT_EQ(o.checksumErrors, 0);
  // Most flips land in task records, names or numbers that still parse; the verifier
  // must then judge them. Make sure both paths were exercised.
  EXPECT_GT(o.accepted, kSeeds / 4);
  EXPECT_GT(o.rejected, 0);
  EXPECT_LT(o.acceptedValid, o.accepted);
}

TEST_F(PlanFileFuzz, TruncationAtEveryKindOfLength) {
  Outcome o;
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937_64 rng(2000003 + seed);
    std::vector<uint8_t> b(good_.begin(), good_.begin() + rng() % good_.size());
    if (seed % 2)
      reseal(b);
    judge(b, o, "truncate seed " + std::to_string(seed));
  }
  print("TruncationAtEveryKindOfLength", o);
  EXPECT_EQ(o.accepted, 0);
}

TEST_F(PlanFileFuzz, InsertedAndDeletedBytes) {
  Outcome o;
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937_64 rng(3000003 + seed);
    std::vector<uint8_t> b = good_;
    size_t at = kPlanHeaderBytes + rng() % (b.size() - kPlanHeaderBytes);
    size_t n = 1 + rng() % 16;
    if (seed % 2) {
      n = std::min(n, b.size() - at);
      b.erase(b.begin() + static_cast<ptrdiff_t>(at),
              b.begin() + static_cast<ptrdiff_t>(at + n));
    } else {
      for (size_t i = 0; i < n; ++i)
        b.insert(b.begin() + static_cast<ptrdiff_t>(at), static_cast<uint8_t>(rng()));
    }
    reseal(b);
    judge(b, o, "splice seed " + std::to_string(seed));
  }
  print("InsertedAndDeletedBytes", o);
  EXPECT_GT(o.rejected, kSeeds / 2);
}

TEST_F(PlanFileFuzz, RandomGarbage) {
  Outcome o;
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937_64 rng(4000003 + seed);
    std::vector<uint8_t> b(rng() % 4096);
    for (uint8_t &x : b)
      x = static_cast<uint8_t>(rng());
    if (seed % 2 && b.size() >= kPlanHeaderBytes) {
      // A valid header over garbage: the parsers see random sections.
      std::copy(good_.begin(), good_.begin() + kPlanHeaderBytes, b.begin());
      if (seed % 4 == 1 && b.size() >= kPlanHeaderBytes + 12)
        std::copy(good_.begin() + kPlanHeaderBytes, good_.begin() + kPlanHeaderBytes + 4,
                  b.begin() + kPlanHeaderBytes);
      reseal(b);
    }
    judge(b, o, "garbage seed " + std::to_string(seed));
  }
  print("RandomGarbage", o);
  EXPECT_EQ(o.accepted, 0);
  judge({}, o, "empty input");
}

} // namespace
} // namespace mk::isa
