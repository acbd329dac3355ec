//===- qwen_test.cpp - A Qwen2/Qwen3-shaped tokenizer.json ----------------===//
//
// Qwen's pattern (single digits), the NFC normalizer, chat-format special tokens,
// a non-special added token (<think>), and a ByteLevel post_processor: no BOS.
//===----------------------------------------------------------------------===//

#include "tokenizer_test_util.h"

namespace mk::runtime::testing {
namespace {

using Pieces = std::vector<std::string>;

struct Qwen {
  TokenizerJson json;
  int32_t endOfText, imStart, imEnd, think;
  Qwen() {
    json.merge("u", "s");
    json.merge("us", "e");
    json.merge("use", "r");
    json.doc()["normalizer"] = {{"type", "NFC"}};
    json.doc()["pre_tokenizer"] = TokenizerJson::splitThenByteLevel(kQwen2Pattern);
    json.doc()["post_processor"] = {{"type", "ByteLevel"},
                                    {"add_prefix_space", false},
                                    {"trim_offsets", false},
                                    {"use_regex", false}};
    endOfText = json.added("<|endoftext|>");
    imStart = json.added("<|im_start|>");
    imEnd = json.added("<|im_end|>");
    think = json.added("<think>", /*special=*/false, {{"normalized", false}});
  }
};

TEST(Qwen, DigitsOneByOne) {
  Tokenizer tok = Qwen().json.load();
  EXPECT_EQ(pieces(tok, "12345678 1,000.5 x2024y"),
            (Pieces{"1", "2", "3", "4", "5", "6",  "7", "8", " ", "1", ",",
                    "0", "0", "0", ".", "5", " x", "2", "0", "2", "4", "y"}));
  EXPECT_EQ(pieces(tok, "٣٤٥ Ⅻ ½"), (Pieces{"٣", "٤", "٥", " ", "Ⅻ", " ", "½"}));
}

TEST(Qwen, SharedRulesWithLlama3) {
  Tokenizer tok = Qwen().json.load();
  EXPECT_EQ(
      pieces(tok, "I'm sure WE'LL see they've CAN'T"),
      (Pieces{"I", "'m", " sure", " WE", "'LL", " see", " they", "'ve", " CAN", "'T"}));
  EXPECT_EQ(
      pieces(tok, "a\n\nb  \n  c   d \t\te\r\n"),
      (Pieces{"a", "\n\n", "b", "  \n", " ", " c", "  ", " d", " \t", "\te", "\r\n"}));
  EXPECT_EQ(pieces(tok, "café 中文字 🎉emoji naïve"),
            (Pieces{"café", " 中文字", " 🎉", "emoji", " naïve"}));
}

TEST(Qwen, NfcNormalizer) {
  Tokenizer tok = Qwen().json.load();
  // "e" + U+0301 COMBINING ACUTE composes to U+00E9; U+212B ANGSTROM SIGN is
  // canonically U+00C5.
  EXPECT_EQ(encode(tok, "cafe\xCC\x81"), encode(tok, "caf\xC3\xA9"));
  EXPECT_EQ(encode(tok, "caf\xC3\xA9"), bytesOf("caf\xC3\xA9"));
  EXPECT_EQ(encode(tok, "\xE2\x84\xAB"), bytesOf("\xC3\x85"));
  EXPECT_EQ(pieces(tok, "cafe\xCC\x81 x"), (Pieces{"caf\xC3\xA9", " x"}));
  // Invalid bytes pass through the normalizer untouched.
  EXPECT_EQ(encode(tok, "e\xFF\xCC\x81"), bytesOf("e\xFF\xCC\x81"));
}

TEST(Qwen, ChatFormat) {
  Qwen q;
  Tokenizer tok = q.json.load();
  std::vector<int32_t> ids = encode(tok, "<|im_start|>user\nHi<|im_end|>\n");
  std::vector<int32_t> expected = {q.imStart};
  expected.push_back(*tok.tokenToId("user"));
  for (int32_t b : bytesOf("\nHi"))
    expected.push_back(b);
  expected.push_back(q.imEnd);
  expected.push_back('\n');
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(tok.decode(ids), "<|im_start|>user\nHi<|im_end|>\n");
}

TEST(Qwen, NoBosAndNonSpecialAddedTokens) {
  Qwen q;
  Tokenizer tok = q.json.load();
  EXPECT_FALSE(tok.bosId());
  EXPECT_TRUE(tok.bosIds().empty());
  EXPECT_EQ(encode(tok, "x", /*addBos=*/true), bytesOf("x"));
  std::vector<int32_t> ids = encode(tok, "<think>ok</think>");
  EXPECT_EQ(ids.front(), q.think);
  EXPECT_FALSE(tok.isSpecial(q.think));
  EXPECT_TRUE(tok.isSpecial(q.imEnd));
  // skipSpecial keeps non-special added tokens, as tokenizers does.
  EXPECT_EQ(tok.decode(ids, /*skipSpecial=*/true), "<think>ok</think>");
  EXPECT_EQ(tok.vocabSize(), q.think + 1);
}

TEST(Qwen, NormalizedAddedTokenMatchesAfterNfc) {
  Qwen q;
  // normalized=true: matched in NFC text, its content NFC'd too (U+212B -> U+00C5).
  int32_t angstrom = q.json.added("\xE2\x84\xAB", false, {{"normalized", true}});
  Tokenizer tok = q.json.load();
  EXPECT_EQ(encode(tok, "1\xE2\x84\xAB"), (std::vector<int32_t>{'1', angstrom}));
  EXPECT_EQ(encode(tok, "1\xC3\x85"), (std::vector<int32_t>{'1', angstrom}));
}

} // namespace
} // namespace mk::runtime::testing
