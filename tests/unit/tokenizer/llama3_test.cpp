//===- llama3_test.cpp - A Llama-3-shaped tokenizer.json ------------------===//
//
// Sequence[Split(Llama-3 pattern, Isolated), ByteLevel(use_regex false)],
// ignore_merges, <|begin_of_text|> / <|end_of_text|> added tokens, and the
// post_processor Llama-3 ships: Sequence[ByteLevel, TemplateProcessing(bos $A)].
// Expected pre-tokens are what tokenizers (and Python's `regex`) give.
//===----------------------------------------------------------------------===//

#include "tokenizer_test_util.h"

namespace mk::runtime::testing {
namespace {

using Pieces = std::vector<std::string>;

struct Llama3 {
  TokenizerJson json;
  int32_t hello, spWorld, bos, eos;
  Llama3() {
    json.merge(" ", "w");
    json.merge("o", "r");
    hello = json.word("Hello"); // no merges make these: only ignore_merges finds them
    spWorld = json.word(" world");
    json.doc()["pre_tokenizer"] = TokenizerJson::splitThenByteLevel(kLlama3Pattern);
    bos = json.added("<|begin_of_text|>");
    eos = json.added("<|end_of_text|>");
    json.bosTemplate("<|begin_of_text|>", bos);
    Json templ = json.doc()["post_processor"];
    json.doc()["post_processor"] = {{"type", "Sequence"},
                                    {"processors",
                                     {{{"type", "ByteLevel"},
                                       {"add_prefix_space", true},
                                       {"trim_offsets", false},
                                       {"use_regex", true}},
                                      templ}}};
  }
  Tokenizer load() const { return json.load(true, /*ignoreMerges=*/true); }
};

TEST(Llama3, Contractions) {
  Tokenizer tok = Llama3().load();
  EXPECT_EQ(
      pieces(tok, "I'm sure WE'LL see they've CAN'T"),
      (Pieces{"I", "'m", " sure", " WE", "'LL", " see", " they", "'ve", " CAN", "'T"}));
}

TEST(Llama3, DigitsInGroupsOfThree) {
  Tokenizer tok = Llama3().load();
  EXPECT_EQ(pieces(tok, "12345678 1,000.5 x2024y"),
            (Pieces{"123", "456", "78", " ", "1", ",", "000", ".", "5", " x", "202", "4",
                    "y"}));
  // \p{N} is every number: Arabic-Indic digits, Roman numerals, fractions.
  EXPECT_EQ(pieces(tok, "٣٤٥ Ⅻ ½"), (Pieces{"٣٤٥", " ", "Ⅻ", " ", "½"}));
}

TEST(Llama3, WhitespaceAndNewlines) {
  Tokenizer tok = Llama3().load();
  EXPECT_EQ(
      pieces(tok, "a\n\nb  \n  c   d \t\te\r\n"),
      (Pieces{"a", "\n\n", "b", "  \n", " ", " c", "  ", " d", " \t", "\te", "\r\n"}));
  EXPECT_EQ(pieces(tok, "  leading and trailing  "),
            (Pieces{" ", " leading", " and", " trailing", "  "}));
  EXPECT_EQ(pieces(tok, "def f(x):\n    return x**2\n"),
            (Pieces{"def", " f", "(x", "):\n", "   ", " return", " x", "**", "2", "\n"}));
  EXPECT_EQ(pieces(tok, "Hello world!!! (ok)...\n\n"),
            (Pieces{"Hello", " world", "!!!", " (", "ok", ")...\n\n"}));
}

TEST(Llama3, NonAscii) {
  Tokenizer tok = Llama3().load();
  EXPECT_EQ(pieces(tok, "café 中文字 🎉emoji naïve"),
            (Pieces{"café", " 中文字", " 🎉", "emoji", " naïve"}));
  std::string text = "café 中文字 🎉emoji naïve";
  EXPECT_EQ(tok.decode(encode(tok, text)), text);
}

TEST(Llama3, PreTokensAreByteLevelCharacters) {
  Tokenizer tok = Llama3().load();
  std::vector<std::string> out;
  ASSERT_TRUE(tok.preTokenize("Hi there\n", out));
  EXPECT_EQ(out, (Pieces{"Hi", "Ġthere", "Ċ"}));
}

TEST(Llama3, IgnoreMergesAndBos) {
  Llama3 l;
  Tokenizer tok = l.load();
  EXPECT_EQ(encode(tok, "Hello world"), (std::vector<int32_t>{l.hello, l.spWorld}));
  EXPECT_EQ(tok.bosId(), l.bos);
  EXPECT_EQ(std::vector<int32_t>(tok.bosIds().begin(), tok.bosIds().end()),
            std::vector<int32_t>{l.bos});
  EXPECT_EQ(encode(tok, "Hello world", /*addBos=*/true),
            (std::vector<int32_t>{l.bos, l.hello, l.spWorld}));
  // Only what comes before $A: nothing is appended.
  EXPECT_EQ(encode(tok, "", true), std::vector<int32_t>{l.bos});
  EXPECT_EQ(tok.decode(encode(tok, "Hello world", true)), "<|begin_of_text|>Hello world");
  EXPECT_EQ(tok.decode(encode(tok, "Hello world", true), /*skipSpecial=*/true),
            "Hello world");
}

TEST(Llama3, SpecialTokensInsideText) {
  Llama3 l;
  Tokenizer tok = l.load();
  std::vector<int32_t> ids =
      encode(tok, "<|begin_of_text|>Hello<|end_of_text|> world", true);
  EXPECT_EQ(ids, (std::vector<int32_t>{l.bos, l.bos, l.hello, l.eos, l.spWorld}));
  // In the middle of a word: the word is cut there.
  ids = encode(tok, "ab<|end_of_text|>cd");
  EXPECT_EQ(ids, (std::vector<int32_t>{'a', 'b', l.eos, 'c', 'd'}));
  EXPECT_TRUE(tok.isSpecial(l.eos));
  EXPECT_FALSE(tok.isSpecial(l.hello));
}

TEST(Llama3, MergesStillApplyOutsideVocabularyWords) {
  Llama3 l;
  Tokenizer tok = l.load();
  // " work" is not a vocabulary word: merges " w" and "or" apply.
  std::vector<int32_t> ids = encode(tok, " work");
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(tok.idToToken(ids[0]), "Ġw");
  EXPECT_EQ(tok.idToToken(ids[1]), "or");
  EXPECT_EQ(ids[2], 'k');
}

} // namespace
} // namespace mk::runtime::testing
