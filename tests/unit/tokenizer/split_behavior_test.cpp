//===- split_behavior_test.cpp - Split behaviors, invert, String, Digits --===//
//
// The expectations are tokenizers' own (pre_tokenizers/split.rs tests and the
// NormalizedString::split documentation).
//===----------------------------------------------------------------------===//

#include "tokenizer_test_util.h"

namespace mk::runtime::testing {
namespace {

using Pieces = std::vector<std::string>;

Tokenizer withSteps(Json steps) {
  steps.push_back(TokenizerJson::byteLevel(false, false));
  TokenizerJson json;
  json.doc()["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", steps}};
  return json.load();
}

Json stringSplit(const char *text, const char *behavior) {
  return {{"type", "Split"},
          {"pattern", {{"String", text}}},
          {"behavior", behavior},
          {"invert", false}};
}

TEST(SplitBehavior, InvertedWordPattern) {
  const char *regex = R"(\w+|[^\w\s]+)";
  const std::string text = "How are you doing?";
  auto run = [&](const char *behavior) {
    return pieces(withSteps({TokenizerJson::split(regex, behavior, /*invert=*/true)}),
                  text);
  };
  EXPECT_EQ(run("Removed"), (Pieces{"How", "are", "you", "doing", "?"}));
  EXPECT_EQ(run("Isolated"), (Pieces{"How", " ", "are", " ", "you", " ", "doing", "?"}));
  EXPECT_EQ(run("MergedWithPrevious"), (Pieces{"How ", "are ", "you ", "doing", "?"}));
  EXPECT_EQ(run("MergedWithNext"), (Pieces{"How", " are", " you", " doing", "?"}));
  EXPECT_EQ(run("Contiguous"), (Pieces{"How", " ", "are", " ", "you", " ", "doing?"}));
}

TEST(SplitBehavior, StringPatternOnDashes) {
  const std::string text = "the-final--countdown";
  auto run = [&](const char *behavior) {
    return pieces(withSteps({stringSplit("-", behavior)}), text);
  };
  EXPECT_EQ(run("Removed"), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(run("Isolated"), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(run("MergedWithPrevious"), (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(run("MergedWithNext"), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(run("Contiguous"), (Pieces{"the", "-", "final", "--", "countdown"}));
}

TEST(SplitBehavior, StringPatternIsLiteral) {
  EXPECT_EQ(pieces(withSteps({stringSplit(".*", "Isolated")}), "a.*b.c"),
            (Pieces{"a", ".*", "b.c"}));
}

TEST(SplitBehavior, InvertedStringRemoved) {
  // Splitting on " " equals keeping only "Hello" with invert (split.rs's test).
  Json invert = stringSplit("Hello", "Removed");
  invert["invert"] = true;
  EXPECT_EQ(pieces(withSteps({invert}), "Hello Hello Hello"),
            pieces(withSteps({stringSplit(" ", "Removed")}), "Hello Hello Hello"));
}

TEST(SplitBehavior, Digits) {
  auto digits = [](bool individual) {
    return Json{{"type", "Digits"}, {"individual_digits", individual}};
  };
  EXPECT_EQ(pieces(withSteps({digits(true)}), "abc123def4"),
            (Pieces{"abc", "1", "2", "3", "def", "4"}));
  EXPECT_EQ(pieces(withSteps({digits(false)}), "abc123def4"),
            (Pieces{"abc", "123", "def", "4"}));
}

TEST(SplitBehavior, StepsApplyInOrder) {
  // Split on spaces (removed), then each word's digits alone.
  EXPECT_EQ(pieces(withSteps({stringSplit(" ", "Removed"),
                              {{"type", "Digits"}, {"individual_digits", true}}}),
                   "ab12 c3"),
            (Pieces{"ab", "1", "2", "c", "3"}));
}

TEST(SplitBehavior, EmptyMatchesTerminateAndLoseNothing) {
  Tokenizer tok = withSteps({TokenizerJson::split("x*")});
  std::string text = "abxxc" + std::string(1000, 'y') + "xx";
  std::string joined;
  for (const std::string &p : pieces(tok, text))
    joined += p;
  EXPECT_EQ(joined, text);
}

TEST(SplitBehavior, OtherModelFamiliesPatterns) {
  // GPT-4o's o200k pattern (letter subcategories, marks, an optional contraction
  // suffix) and a pattern with possessive quantifiers, as some tokenizer.json
  // files have; expectations from Python's `regex`.
  const char *o200k =
      R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  EXPECT_EQ(
      pieces(withSteps({TokenizerJson::split(o200k)}),
             "HelloWorld's CAN'T x/y\n\n 123456"),
      (Pieces{"Hello", "World's", " CAN'T", " x", "/y", "\n\n", " ", "123", "456"}));
  const char *possessive =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s*[\r\n]|\s+(?!\S)|\s+)";
  EXPECT_EQ(
      pieces(withSteps({TokenizerJson::split(possessive)}), "it's 1234567 ok!!\n\nyes"),
      (Pieces{"it", "'s", " ", "123", "456", "7", " ok", "!!\n\n", "yes"}));
}

TEST(SplitBehavior, ByteLevelAfterSplitSeesRawText) {
  // A Split after ByteLevel sees byte-level characters (as in tokenizers): " "
  // has become "Ġ", so a String " " split finds nothing.
  TokenizerJson json;
  json.doc()["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {TokenizerJson::byteLevel(false, false), stringSplit(" ", "Removed")}}};
  EXPECT_EQ(pieces(json.load(), "a b"), (Pieces{"a b"}));
}

} // namespace
} // namespace mk::runtime::testing
