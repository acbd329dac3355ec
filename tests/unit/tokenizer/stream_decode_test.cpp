//===- stream_decode_test.cpp - Multi-byte characters across tokens -------===//

#include "tokenizer_test_util.h"

namespace mk::runtime::testing {
namespace {

/// Byte tokens plus tokens that end or start inside a character: "a\xC3"
/// (a + first byte of é) and "\xA9b" (last byte of é + b).
struct Fixture {
  Tokenizer tok;
  int32_t aLead, trailB;
  Fixture() {
    TokenizerJson json;
    aLead = json.merge("a", "\xC3");
    trailB = json.merge("\xA9", "b");
    json.doc()["pre_tokenizer"] = TokenizerJson::byteLevel(false, false);
    tok = json.load();
  }
};

std::vector<std::string> streamAll(const Tokenizer &tok,
                                   const std::vector<int32_t> &ids) {
  Tokenizer::StreamDecoder stream(tok);
  std::vector<std::string> out;
  for (int32_t id : ids)
    out.push_back(stream.push(id));
  out.push_back(stream.flush());
  return out;
}

TEST(StreamDecode, TwoByteCharacterSplitAcrossByteTokens) {
  Fixture f;
  std::vector<int32_t> ids = {0xC3, 0xA9, 'x'};
  EXPECT_EQ(f.tok.decode(ids), "éx");
  EXPECT_EQ(f.tok.decode(std::vector<int32_t>{0xC3}), "\xC3"); // partial UTF-8, as is
  EXPECT_EQ(streamAll(f.tok, ids), (std::vector<std::string>{"", "é", "x", ""}));
}

TEST(StreamDecode, FourByteEmojiOneByteAtATime) {
  Fixture f;
  std::string emoji = "🎉"; // F0 9F 8E 89
  std::vector<int32_t> ids = bytesOf(emoji + "!");
  EXPECT_EQ(streamAll(f.tok, ids),
            (std::vector<std::string>{"", "", "", emoji, "!", ""}));
}

TEST(StreamDecode, MergedTokensThatCutACharacter) {
  Fixture f;
  std::vector<int32_t> ids;
  ASSERT_TRUE(f.tok.encode("aéb", ids, false));
  EXPECT_EQ(ids, (std::vector<int32_t>{f.aLead, f.trailB}));
  EXPECT_EQ(f.tok.decode(ids), "aéb");
  EXPECT_EQ(streamAll(f.tok, ids), (std::vector<std::string>{"a", "éb", ""}));
}

TEST(StreamDecode, InvalidBytesAreNotHeldBack) {
  Fixture f;
  // 0xFF can start nothing; a lone continuation byte completes nothing.
  EXPECT_EQ(streamAll(f.tok, {0xFF, 'a', 0x80, 'b'}),
            (std::vector<std::string>{"\xFF", "a", "\x80", "b", ""}));
  // A lead byte cut short by ASCII: both come out once the ASCII arrives.
  EXPECT_EQ(streamAll(f.tok, {0xE4, 'z'}), (std::vector<std::string>{"", "\xE4z", ""}));
}

TEST(StreamDecode, FlushReturnsAnIncompleteTail) {
  Fixture f;
  Tokenizer::StreamDecoder stream(f.tok);
  EXPECT_EQ(stream.push('o'), "o");
  EXPECT_EQ(stream.push(0xE4), "");
  EXPECT_EQ(stream.push(0xB8), "");
  EXPECT_EQ(stream.pendingBytes(), 2u);
  EXPECT_EQ(stream.flush(), "\xE4\xB8");
  EXPECT_EQ(stream.pendingBytes(), 0u);
  EXPECT_EQ(stream.flush(), "");
}

TEST(StreamDecode, ConcatenationEqualsDecode) {
  Fixture f;
  std::string text = "naïve 中文 🦀 done";
  std::vector<int32_t> ids;
  ASSERT_TRUE(f.tok.encode(text, ids, false));
  std::string joined;
  for (const std::string &s : streamAll(f.tok, ids))
    joined += s;
  EXPECT_EQ(joined, text);
}

TEST(StreamDecode, SpecialTokensAndSkipping) {
  TokenizerJson json;
  int32_t eot = json.added("<|eot|>");
  Tokenizer tok = json.load();
  Tokenizer::StreamDecoder keep(tok), skip(tok, /*skipSpecial=*/true);
  EXPECT_EQ(keep.push(eot), "<|eot|>");
  EXPECT_EQ(skip.push(eot), "");
  EXPECT_EQ(skip.push('k'), "k");
  EXPECT_EQ(keep.push(-1), ""); // no token: nothing
}

} // namespace
} // namespace mk::runtime::testing
