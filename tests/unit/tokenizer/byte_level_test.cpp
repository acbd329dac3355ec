//===- byte_level_test.cpp - A pure byte-level vocabulary (the demo's) ----===//
//
// 256 byte tokens (id = byte), no merges, GPT-2's ByteLevel pre-tokenizer and
// two special tokens, as models/demo/train.py writes it: every byte string
// encodes to its bytes and decodes back unchanged.
//===----------------------------------------------------------------------===//

#include "tokenizer_test_util.h"

#include <random>

namespace mk::runtime::testing {
namespace {

Tokenizer demoLike() {
  TokenizerJson json;
  json.added("<|begin_of_text|>");
  json.added("<|end_of_text|>");
  return json.load();
}

TEST(ByteLevel, AsciiAndUtf8AreTheirBytes) {
  Tokenizer tok = demoLike();
  for (std::string text : {"Hello, world!", "  two  spaces\n\nand\ttabs ", "café naïve",
                           "中文字符", "emoji 🎉🦀", "x", ""}) {
    EXPECT_EQ(encode(tok, text), bytesOf(text)) << text;
    EXPECT_EQ(tok.decode(encode(tok, text)), text);
  }
}

TEST(ByteLevel, EveryByteRoundTrips) {
  Tokenizer tok = demoLike();
  std::string all;
  for (int b = 0; b < 256; ++b)
    all += char(b);
  EXPECT_EQ(encode(tok, all), bytesOf(all));
  EXPECT_EQ(tok.decode(bytesOf(all)), all);
  for (int b = 0; b < 256; ++b) {
    std::string one(1, char(b));
    EXPECT_EQ(encode(tok, one), bytesOf(one)) << b;
  }
}

TEST(ByteLevel, RandomByteStringsRoundTrip) {
  Tokenizer tok = demoLike();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> length(0, 64), byte(0, 255), small(0, 7);
  const char alphabet[] = {' ', '\n', 'a', '1', '\'', '\xC3', '\xA9', '\xFF'};
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    int n = length(rng);
    for (int k = 0; k < n; ++k)
      text += i % 2 ? char(byte(rng)) : alphabet[small(rng)]; // half: regex-heavy
    std::vector<int32_t> ids;
    ASSERT_TRUE(tok.encode(text, ids, false));
    EXPECT_EQ(ids, bytesOf(text));
    EXPECT_EQ(tok.decode(ids), text);
  }
}

TEST(ByteLevel, SpecialTokensInTextAreOneId) {
  Tokenizer tok = demoLike();
  std::vector<int32_t> expected = {256};
  for (int32_t b : bytesOf("Hi"))
    expected.push_back(b);
  expected.push_back(257);
  EXPECT_EQ(encode(tok, "<|begin_of_text|>Hi<|end_of_text|>"), expected);
  // A near miss is just bytes.
  EXPECT_EQ(encode(tok, "<|begin_of_text|"), bytesOf("<|begin_of_text|"));
  EXPECT_EQ(tok.decode(expected), "<|begin_of_text|>Hi<|end_of_text|>");
  EXPECT_EQ(tok.decode(expected, /*skipSpecial=*/true), "Hi");
}

TEST(ByteLevel, Metadata) {
  Tokenizer tok = demoLike();
  EXPECT_TRUE(tok.loaded());
  EXPECT_EQ(tok.source(), "test/tokenizer.json");
  EXPECT_EQ(tok.vocabSize(), 258);
  // No post_processor: addBos adds nothing (config.json's bos_token_id is not
  // the tokenizer's business).
  EXPECT_FALSE(tok.bosId());
  EXPECT_EQ(encode(tok, "a", /*addBos=*/true), bytesOf("a"));
  EXPECT_EQ(tok.tokenToId("<|end_of_text|>"), 257);
  EXPECT_EQ(tok.tokenToId("Ġ"), 32);
  EXPECT_FALSE(tok.tokenToId("nope"));
  EXPECT_EQ(tok.idToToken(32), "Ġ");
  EXPECT_EQ(tok.idToToken(256), "<|begin_of_text|>");
  EXPECT_FALSE(tok.idToToken(258));
  EXPECT_TRUE(tok.isSpecial(256));
  EXPECT_FALSE(tok.isSpecial(65));
  EXPECT_FALSE(tok.isSpecial(-1));
}

TEST(ByteLevel, DecodeSkipsIdsWithNoToken) {
  Tokenizer tok = demoLike();
  std::vector<int32_t> ids = {-5, 'o', 258, 1 << 30, 'k', INT32_MIN, INT32_MAX};
  EXPECT_EQ(tok.decode(ids), "ok");
}

TEST(ByteLevel, UnloadedTokenizerIsHarmless) {
  Tokenizer tok;
  EXPECT_FALSE(tok.loaded());
  std::vector<int32_t> ids = {1, 2};
  EXPECT_FALSE(tok.encode("x", ids, true));
  EXPECT_TRUE(ids.empty());
  EXPECT_EQ(tok.decode(std::vector<int32_t>{1, 2}), "");
  EXPECT_EQ(tok.vocabSize(), 0);
  EXPECT_FALSE(tok.bosId());
  EXPECT_FALSE(tok.tokenToId("a"));
  Tokenizer::StreamDecoder stream(tok);
  EXPECT_EQ(stream.push(1), "");
  EXPECT_EQ(stream.flush(), "");
}

TEST(ByteLevel, CopiesShareTheTables) {
  Tokenizer a = demoLike();
  Tokenizer b = a;
  Tokenizer c = std::move(a);
  EXPECT_EQ(encode(b, "hey"), encode(c, "hey"));
}

#ifdef MK_DEMO_TOKENIZER
TEST(ByteLevel, DemoModelTokenizer) {
  Tokenizer tok;
  Status s = Tokenizer::load(MK_DEMO_TOKENIZER, tok);
  if (!s && s.message().find("no such file") != std::string::npos)
    GTEST_SKIP() << "no demo tokenizer yet: " << s.message();
  ASSERT_TRUE(s) << s.message();
  std::string text = "In the beginning God created the heaven and the earth. é中🎉";
  EXPECT_EQ(encode(tok, text), bytesOf(text));
  EXPECT_EQ(tok.decode(bytesOf(text)), text);
  EXPECT_EQ(tok.tokenToId("<|begin_of_text|>"), 256);
}
#endif

} // namespace
} // namespace mk::runtime::testing
