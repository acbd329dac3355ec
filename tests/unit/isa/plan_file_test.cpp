//===- plan_file_test.cpp - Plan serialization: round trip and bad input ---===//
#include "mk/isa/plan_file.h"
#include "mk/isa/plan_verify.h"

#include "toy_plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

namespace mk::isa {
namespace {

using test::expectPlansEqual;
using test::makeToyPlan;

std::vector<uint8_t> bytesOf(const Plan &plan) {
  std::vector<uint8_t> bytes;
  Status s = writePlan(plan, bytes);
  EXPECT_TRUE(s.isOk()) << s.message();
  return bytes;
}

uint32_t getU32(const std::vector<uint8_t> &b, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(b[at + i]) << (8 * i);
  return v;
}
uint64_t getU64(const std::vector<uint8_t> &b, size_t at) {
  return getU32(b, at) | static_cast<uint64_t>(getU32(b, at + 4)) << 32;
}
void putU32(std::vector<uint8_t> &b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
void putU64(std::vector<uint8_t> &b, size_t at, uint64_t v) {
  putU32(b, at, static_cast<uint32_t>(v));
  putU32(b, at + 4, static_cast<uint32_t>(v >> 32));
}

/// Rewrites payload size and checksum after an edit, so the parsers see the edit.
void reseal(std::vector<uint8_t> &b) {
  putU64(b, kPlanPayloadBytesOffset, b.size() - kPlanHeaderBytes);
  putU64(b, kPlanChecksumOffset,
         fnv1a64(std::span(b.data() + kPlanHeaderBytes, b.size() - kPlanHeaderBytes)));
}

/// Offset of the section with `tag` (its tag bytes), walking the section headers.
size_t sectionAt(const std::vector<uint8_t> &b, const char *tag) {
  size_t at = kPlanHeaderBytes;
  while (at + 12 <= b.size()) {
    if (std::memcmp(b.data() + at, tag, 4) == 0)
      return at;
    at += 12 + getU64(b, at + 4);
  }
  ADD_FAILURE() << "no section " << tag;
  return 0;
}

std::string readError(const std::vector<uint8_t> &bytes) {
  Plan plan;
  Status s = readPlan(bytes, plan);
  EXPECT_FALSE(s.isOk());
  return s.message();
}

TEST(Fnv1a64, KnownVectorsAndChaining) {
  EXPECT_EQ(fnv1a64(std::string_view()), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64(std::string_view("a")), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64(std::string_view("foobar")), 0x85944171f73967e8ull);
  EXPECT_EQ(fnv1a64("bar", fnv1a64("foo")), fnv1a64("foobar"));
}

TEST(PlanFile, RoundTripIsFieldExactAndRewritesIdenticalBytes) {
  Plan plan = makeToyPlan();
  ASSERT_TRUE(verifyPlan(plan).isOk()) << verifyPlan(plan).message();
  std::vector<uint8_t> bytes = bytesOf(plan);
  Plan back;
  Status s = readPlan(bytes, back);
  ASSERT_TRUE(s.isOk()) << s.message();
  expectPlansEqual(plan, back);
  EXPECT_EQ(bytesOf(back), bytes);
  EXPECT_TRUE(verifyPlan(back).isOk());
}

TEST(PlanFile, RoundTripKeepsUnusualValues) {
  Plan plan = makeToyPlan();
  plan.target = TargetKind::H200;
  plan.tensorParallel = 8;
  plan.model.family = std::string("qwen3\0x\xff", 8);
  plan.model.ropeStyle = RopeStyle::Interleaved;
  plan.model.rmsNormEps = -0.0f;
  plan.model.ropeTheta = 1e38f;
  plan.model.tieWordEmbeddings = true;
  plan.model.attentionBias = true;
  plan.model.qkNorm = true;
  plan.model.slidingWindow = 4096;
  plan.model.bosTokenId = -1;
  plan.model.eosTokenIds.clear();
  plan.model.configHash = ~0ull;
  plan.tensors[0].shape[3] = -7; // beyond rank: kept as is
  plan.tensors[1].shardDim = 1;
  plan.tensors[1].shardParts = 4;
  plan.tensors[1].shardReplicas = 2;
  plan.tensors[0].name = std::string(kPlanMaxStringBytes, 'n');
  plan.programs[0].tasks[0].reserved1 = 0xdeadbeef;
  plan.programs[1].events.clear();
  plan.programs.push_back(Program{}); // empty program: no name, tasks or order
  std::vector<uint8_t> bytes = bytesOf(plan);
  Plan back;
  Status s = readPlan(bytes, back);
  ASSERT_TRUE(s.isOk()) << s.message();
  expectPlansEqual(plan, back);
  EXPECT_TRUE(std::signbit(back.model.rmsNormEps));
  EXPECT_EQ(bytesOf(back), bytes);
}

TEST(PlanFile, LargePlanRoundTrips) {
  Plan plan = test::makeLargePlan(4);
  std::vector<uint8_t> bytes = bytesOf(plan);
  Plan back;
  Status s = readPlan(bytes, back);
  ASSERT_TRUE(s.isOk()) << s.message();
  expectPlansEqual(plan, back);
}

TEST(PlanFile, HeaderLayout) {
  Plan plan = makeToyPlan();
  plan.target = TargetKind::A100;
  plan.tensorParallel = 2;
  std::vector<uint8_t> b = bytesOf(plan);
  ASSERT_GT(b.size(), kPlanHeaderBytes);
  EXPECT_EQ(std::memcmp(b.data(), "MKPLAN\0\1", 8), 0);
  EXPECT_EQ(getU32(b, 8), kPlanFormatVersion);
  EXPECT_EQ(getU32(b, 12), kIsaVersion);
  EXPECT_EQ(getU32(b, 16), static_cast<uint32_t>(TargetKind::A100));
  EXPECT_EQ(getU32(b, 20), 2u);
  EXPECT_EQ(getU64(b, kPlanPayloadBytesOffset), b.size() - kPlanHeaderBytes);
  EXPECT_EQ(getU64(b, kPlanChecksumOffset),
            fnv1a64(std::span(b.data() + kPlanHeaderBytes, b.size() - kPlanHeaderBytes)));
  EXPECT_EQ(sectionAt(b, "META"), kPlanHeaderBytes);
  EXPECT_LT(sectionAt(b, "META"), sectionAt(b, "TENS"));
  EXPECT_LT(sectionAt(b, "TENS"), sectionAt(b, "PROG"));
}

TEST(PlanFile, RefusesOtherFormatVersionSayingWhichItReads) {
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  putU32(b, 8, 7);
  EXPECT_EQ(readError(b), "plan format version 7 is not supported (this build reads "
                          "version 3); rebuild the plan with this build's mkc");
  // Version 2 (no shard fields) is refused the same way, not misread.
  putU32(b, 8, 2);
  EXPECT_EQ(readError(b), "plan format version 2 is not supported (this build reads "
                          "version 3); rebuild the plan with this build's mkc");
}

TEST(PlanFile, RefusesOtherIsaVersion) {
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  putU32(b, 12, 4);
  EXPECT_EQ(readError(b), "plan ISA version 4 is not supported (this build executes ISA "
                          "version 3); rebuild the plan with this build's mkc");
  // ISA 2: the table of fourteen kinds, without the comm kinds.
  putU32(b, 12, 2);
  EXPECT_EQ(readError(b), "plan ISA version 2 is not supported (this build executes ISA "
                          "version 3); rebuild the plan with this build's mkc");
}

TEST(PlanFile, MoeMetadataRoundTrips) {
  Plan plan = makeToyPlan();
  plan.model.family = "qwen3_moe";
  plan.model.numExperts = 128;
  plan.model.numExpertsPerTok = 8;
  plan.model.normTopkProb = true;
  plan.model.moeIntermediateSize = 768;
  std::vector<uint8_t> bytes = bytesOf(plan);
  Plan back;
  Status s = readPlan(bytes, back);
  ASSERT_TRUE(s.isOk()) << s.message();
  expectPlansEqual(plan, back);
  EXPECT_EQ(back.model.numExperts, 128u);
  EXPECT_EQ(back.model.numExpertsPerTok, 8u);
  EXPECT_TRUE(back.model.normTopkProb);
  EXPECT_EQ(back.model.moeIntermediateSize, 768u);
}

TEST(PlanFile, RefusesEmptyInputBadMagicAndShortHeader) {
  EXPECT_EQ(readError({}), "empty plan: 0 bytes, expected a 40-byte header starting with "
                           "the magic \"MKPLAN\\0\\1\"");
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  std::vector<uint8_t> bad = b;
  bad[1] = 'X';
  EXPECT_EQ(readError(bad),
            "not an mk plan: the file does not start with the magic \"MKPLAN\\0\\1\"");
  EXPECT_EQ(readError({'{', '"'}),
            "not an mk plan: the file does not start with the magic \"MKPLAN\\0\\1\"");
  EXPECT_EQ(readError(std::vector<uint8_t>(b.begin(), b.begin() + 5)),
            "truncated header: need 40 bytes at offset 0, file has 5");
  EXPECT_EQ(readError(std::vector<uint8_t>(b.begin(), b.begin() + 39)),
            "truncated header: need 40 bytes at offset 0, file has 39");
}

TEST(PlanFile, PayloadSizeMustMatchTheFile) {
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  const size_t payload = b.size() - kPlanHeaderBytes;
  std::vector<uint8_t> cut(b.begin(), b.end() - 1);
  EXPECT_EQ(readError(cut), "truncated payload: the header says " +
                                std::to_string(payload) + " bytes, file has " +
                                std::to_string(payload - 1) +
                                " after the 40-byte header");
  std::vector<uint8_t> longer = b;
  longer.push_back(0);
  longer.push_back(0);
  EXPECT_EQ(readError(longer), "2 unexpected bytes after the payload (offset " +
                                   std::to_string(b.size()) +
                                   "; the header says the payload is " +
                                   std::to_string(payload) + " bytes)");
}

TEST(PlanFile, ChecksumMismatchIsAnError) {
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  b[b.size() / 2] ^= 0x10;
  std::string m = readError(b);
  EXPECT_EQ(m.rfind("checksum mismatch: the header says 0x", 0), 0u) << m;
  EXPECT_NE(m.find("; the file is corrupted"), std::string::npos) << m;
}

TEST(PlanFile, FailedReadLeavesOutputUnchanged) {
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  b.pop_back();
  Plan out;
  out.tensorParallel = 77;
  EXPECT_FALSE(readPlan(b, out).isOk());
  EXPECT_EQ(out.tensorParallel, 77u);
  EXPECT_TRUE(out.tensors.empty());
}

// Section parsers, reached by resealing an edited payload.

TEST(PlanFileSections, HugeCountIsRefusedBeforeAllocating) {
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  size_t tens = sectionAt(b, "TENS");
  size_t end = tens + 12 + getU64(b, tens + 4);
  putU32(b, tens + 12, 0xffffffffu);
  reseal(b);
  EXPECT_EQ(readError(b),
            "truncated tensor table: 4294967295 tensors need at least 257698037700 bytes "
            "after offset " +
                std::to_string(tens + 12) + ", the section ends at offset " +
                std::to_string(end));
}

TEST(PlanFileSections, OneTensorTooManyRunsOffTheSection) {
  Plan plan = makeToyPlan();
  std::vector<uint8_t> b = bytesOf(plan);
  size_t tens = sectionAt(b, "TENS");
  size_t end = tens + 12 + getU64(b, tens + 4);
  putU32(b, tens + 12, static_cast<uint32_t>(plan.tensors.size() + 1));
  reseal(b);
  EXPECT_EQ(readError(b), "truncated tensor table (tensor 43): need 4 bytes at offset " +
                              std::to_string(end) + ", the section ends at offset " +
                              std::to_string(end));
}

TEST(PlanFileSections, SectionLongerThanTheFile) {
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  size_t prog = sectionAt(b, "PROG");
  b.resize(b.size() - 100);
  reseal(b);
  size_t body = getU64(b, prog + 4);
  EXPECT_EQ(readError(b), "truncated program table: the section is " +
                              std::to_string(body) + " bytes at offset " +
                              std::to_string(prog + 12) + ", file has " +
                              std::to_string(b.size()));
}

TEST(PlanFileSections, WrongSectionTag) {
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  size_t tens = sectionAt(b, "TENS");
  std::memcpy(b.data() + tens, "TEN\x01", 4);
  reseal(b);
  EXPECT_EQ(readError(b), "tensor table: expected section tag 'TENS' at offset " +
                              std::to_string(tens) + ", found 'TEN\\x01'");
}

TEST(PlanFileSections, OverlongStringIsRefused) {
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  const size_t familyAt = kPlanHeaderBytes + 12;
  putU32(b, familyAt, 5000);
  reseal(b);
  EXPECT_EQ(readError(b), "model metadata: family is 5000 bytes long at offset 52, the "
                          "limit is 4096");
}

TEST(PlanFileSections, FlagsAndReservedBytesAreChecked) {
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  // META body: u32 len + "llama", 10 x u32, 2 x f32, u8 rope style, u8 llama3
  const size_t llama3At = kPlanHeaderBytes + 12 + 4 + 5 + 40 + 8 + 1;
  ASSERT_EQ(b[llama3At], 1);
  b[llama3At] = 2;
  reseal(b);
  EXPECT_EQ(readError(b), "model metadata: ropeLlama3 is 2 at offset " +
                              std::to_string(llama3At) + ", expected 0 or 1");

  b = bytesOf(makeToyPlan());
  size_t prog = sectionAt(b, "PROG");
  // program 0: u32 count, u32 len + "decode", u8 kind, then 3 reserved bytes
  size_t reservedAt = prog + 12 + 4 + 4 + 6 + 1;
  b[reservedAt + 1] = 9;
  reseal(b);
  EXPECT_EQ(readError(b), "program table (program 0): reserved byte (after kind) is 9 at "
                          "offset " +
                              std::to_string(reservedAt + 1) + ", expected 0");
}

TEST(PlanFileSections, RankAboveFourIsRefusedByTheReader) {
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  size_t tens = sectionAt(b, "TENS");
  // tensor 0: u32 len + name (25 bytes), u8 dtype, u8 placement, u8 rank
  size_t rankAt = tens + 12 + 4 + 4 + 25 + 2;
  ASSERT_EQ(b[rankAt], 2);
  b[rankAt] = 9;
  reseal(b);
  EXPECT_EQ(readError(b),
            "tensor table: tensor 0 'model.embed_tokens.weight' has rank 9, "
            "at most 4 is allowed");
}

TEST(PlanFileSections, TrailingBytesInASection) {
  std::vector<uint8_t> b = bytesOf(makeToyPlan());
  size_t tens = sectionAt(b, "TENS");
  b.insert(b.begin() + static_cast<ptrdiff_t>(tens), {0, 0, 0, 0});
  putU64(b, kPlanHeaderBytes + 4, getU64(b, kPlanHeaderBytes + 4) + 4);
  reseal(b);
  EXPECT_EQ(readError(b), "model metadata: 4 unexpected bytes at the end of the section "
                          "(offset " +
                              std::to_string(tens) + ")");
}

TEST(PlanFileWrite, RefusesWhatTheFormatCannotHold) {
  Plan plan = makeToyPlan();
  plan.tensors[3].name = std::string(kPlanMaxStringBytes + 1, 'x');
  std::vector<uint8_t> out = {1, 2, 3};
  Status s = writePlan(plan, out);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message(),
            "cannot write plan: the name of tensor 3 is 4097 bytes long, the "
            "plan format allows at most 4096");

  plan = makeToyPlan();
  plan.tensors[1].rank = 5;
  s = writePlan(plan, out);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message(), "cannot write plan: tensor 1 "
                         "'model.layers.0.input_layernorm.weight' has rank 5, the plan "
                         "format allows at most 4");

  plan = makeToyPlan();
  plan.programs[1].events[2].name = std::string(5000, 'e');
  s = writePlan(plan, out);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message(), "cannot write plan: the name of event 2 of program 1 is 5000 "
                         "bytes long, the plan format allows at most 4096");
}

} // namespace
} // namespace mk::isa
