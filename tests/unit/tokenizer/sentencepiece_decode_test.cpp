//===- sentencepiece_decode_test.cpp - Decoding and streaming ▁ and <0xNN> ==//

#include "sentencepiece_test_util.h"

namespace mk::runtime::testing {
namespace {

using Ids = std::vector<int32_t>;
using Texts = std::vector<std::string>;

const std::string kFffd = "\xEF\xBF\xBD"; // U+FFFD

int32_t b(unsigned char c) { return SentencepieceJson::byteId(c); }

struct Fixture {
  SentencepieceJson sp;
  int32_t hi, there, meta1, meta2, x;
  Fixture() {
    hi = sp.piece(meta(" Hi"));
    there = sp.piece(meta(" there"));
    meta1 = sp.piece(kMeta);
    meta2 = sp.piece(meta("  "));
    x = sp.piece("x");
  }
  Tokenizer load() const { return sp.load(); }
  void decoder(Json steps) {
    sp.doc()["decoder"] = {{"type", "Sequence"}, {"decoders", steps}};
  }
};

Texts streamAll(const Tokenizer &tok, const Ids &ids, bool skipSpecial = false) {
  Tokenizer::StreamDecoder stream(tok, skipSpecial);
  Texts out;
  for (int32_t id : ids)
    out.push_back(stream.push(id));
  out.push_back(stream.flush());
  return out;
}

TEST(SentencepieceDecode, SpacesAndTheFirstStrip) {
  Fixture f;
  Tokenizer tok = f.load();
  EXPECT_EQ(tok.decode(Ids{f.hi, f.there}), "Hi there");
  // Strip(" ", 1, 0) takes one space off the whole text, not off each token.
  EXPECT_EQ(tok.decode(Ids{f.meta2, f.hi}), "  Hi");
  EXPECT_EQ(tok.decode(Ids{f.meta1}), "");
  EXPECT_EQ(tok.decode(Ids{f.x, f.meta1}), "x ");
  // Added tokens go through the decoder too: after "<s>" the space stays.
  Ids withBos = {SentencepieceJson::kBos, f.hi};
  EXPECT_EQ(tok.decode(withBos), "<s> Hi");
  EXPECT_EQ(tok.decode(withBos, /*skipSpecial=*/true), "Hi");
  EXPECT_EQ(tok.decode(Ids{f.hi, SentencepieceJson::kEos, f.there}), "Hi</s> there");
  EXPECT_EQ(tok.decode(Ids{-1, 99999, f.hi}), "Hi"); // no token: skipped
  EXPECT_EQ(tok.decode(Ids{}), "");
}

TEST(SentencepieceDecode, ByteRuns) {
  Tokenizer tok = Fixture().load();
  EXPECT_EQ(tok.decode(Ids{b(0xE4), b(0xB8), b(0xAD)}), "中");
  EXPECT_EQ(tok.decode(Ids{b('\n'), b('\n')}), "\n\n");
  // A run that is not valid UTF-8 as a whole: U+FFFD for each of its bytes.
  EXPECT_EQ(tok.decode(Ids{b('A'), b(0xE4), b('A')}), kFffd + kFffd + kFffd);
  EXPECT_EQ(tok.decode(Ids{b(0xE4), b(0xB8)}), kFffd + kFffd);
  EXPECT_EQ(tok.decode(Ids{b(0xFF)}), kFffd);
  // <0x20> is a byte, not "▁": the decoder's Strip still sees a space.
  EXPECT_EQ(tok.decode(Ids{b(' '), b(' '), b('x')}), " x");
}

TEST(SentencepieceDecode, ByteTokenSpellings) {
  // ByteFallback reads the two characters as tokenizers' u8::from_str_radix
  // does: lower-case digits count, and so does a '+' before one digit.
  Fixture f;
  int32_t lower = f.sp.piece("<0xe9>");
  int32_t plus = f.sp.piece("<0x+A>");
  int32_t notHex = f.sp.piece("<0xZZ>");
  Tokenizer tok = f.load();
  EXPECT_EQ(tok.decode(Ids{b(0xC3), lower}), kFffd + kFffd); // C3 E9: not UTF-8
  EXPECT_EQ(tok.decode(Ids{f.x, plus, f.x}), "x\nx");
  EXPECT_EQ(tok.decode(Ids{f.x, notHex}), "x<0xZZ>");
}

TEST(SentencepieceDecode, MetaspaceDecoder) {
  Fixture f;
  f.sp.doc()["decoder"] = {{"type", "Metaspace"},
                           {"replacement", kMeta},
                           {"prepend_scheme", "always"},
                           {"split", true}};
  Tokenizer tok = f.load();
  // Every "▁" of the first token goes; later ones become spaces. No byte fallback.
  EXPECT_EQ(tok.decode(Ids{f.meta2, f.hi, f.there}), " Hi there");
  EXPECT_EQ(tok.decode(Ids{b(0xE4), f.hi}), "<0xE4> Hi");
  EXPECT_EQ((streamAll(tok, Ids{f.meta2, f.hi, f.there})),
            (Texts{"", " Hi", " there", ""}));
  f.sp.doc()["decoder"]["prepend_scheme"] = "never";
  EXPECT_EQ(f.load().decode(Ids{f.meta2, f.hi}), "   Hi");
}

TEST(SentencepieceStream, CharacterSplitAcrossByteTokens) {
  Tokenizer tok = Fixture().load();
  Tokenizer::StreamDecoder stream(tok);
  EXPECT_EQ(stream.push(b(0xE4)), "");
  EXPECT_EQ(stream.pendingBytes(), 1u);
  EXPECT_EQ(stream.push(b(0xB8)), "");
  EXPECT_EQ(stream.pendingBytes(), 2u);
  EXPECT_EQ(stream.push(b(0xAD)), "中");
  EXPECT_EQ(stream.pendingBytes(), 0u);
  EXPECT_EQ(stream.flush(), "");
  // A four-byte emoji, then a character run that continues after ASCII bytes.
  EXPECT_EQ(streamAll(tok, Ids{b(0xF0), b(0x9F), b(0x8E), b(0x89), b('!')}),
            (Texts{"", "", "", "🎉", "!", ""}));
  EXPECT_EQ(streamAll(tok, Ids{b('a'), b(0xC3), b(0xA9), b('b')}),
            (Texts{"a", "", "é", "b", ""}));
}

TEST(SentencepieceStream, StripsOnlyTheFirstSpaceOfTheText) {
  Fixture f;
  Tokenizer tok = f.load();
  EXPECT_EQ(streamAll(tok, Ids{f.hi, f.there}), (Texts{"Hi", " there", ""}));
  EXPECT_EQ(streamAll(tok, Ids{f.meta1, f.meta1, f.hi}), (Texts{"", " ", " Hi", ""}));
  Ids withBos = {SentencepieceJson::kBos, f.hi};
  EXPECT_EQ(streamAll(tok, withBos), (Texts{"<s>", " Hi", ""}));
  EXPECT_EQ(streamAll(tok, withBos, /*skipSpecial=*/true), (Texts{"", "Hi", ""}));
}

TEST(SentencepieceStream, ConsumeContinuesAPrompt) {
  Fixture f;
  Tokenizer tok = f.load();
  // Generated tokens after a prompt keep their leading space.
  Tokenizer::StreamDecoder stream(tok);
  stream.consume(Ids{SentencepieceJson::kBos, f.hi});
  EXPECT_EQ(stream.push(f.there), " there");
  Tokenizer::StreamDecoder noBos(tok);
  noBos.consume(Ids{f.hi});
  EXPECT_EQ(noBos.push(f.there), " there");
  Tokenizer::StreamDecoder fresh(tok);
  EXPECT_EQ(fresh.push(f.there), "there");
  // A prompt that is only "▁" used the strip up: the next space stays.
  Tokenizer::StreamDecoder afterSpace(tok);
  afterSpace.consume(Ids{f.meta1});
  EXPECT_EQ(afterSpace.push(f.hi), " Hi");
}

TEST(SentencepieceStream, InvalidRuns) {
  Tokenizer tok = Fixture().load();
  // decode() sees the whole run and replaces all of it; the stream has already
  // given the "A" by the time the run goes wrong.
  Ids ids = {b('A'), b(0xE4), b('A')};
  EXPECT_EQ(tok.decode(ids), kFffd + kFffd + kFffd);
  EXPECT_EQ(streamAll(tok, ids), (Texts{"A", "", kFffd + kFffd, ""}));
  // An incomplete character at the end: what decode() gives, at flush.
  EXPECT_EQ(streamAll(tok, Ids{b(0xE4), b(0xB8)}), (Texts{"", "", kFffd + kFffd}));
  EXPECT_EQ(streamAll(tok, Ids{b(0xFF), b('x')}), (Texts{kFffd, "x", ""}));
}

TEST(SentencepieceStream, HoldsRunsWhenAStepFollowsByteFallback) {
  // With a per-token step after ByteFallback, token boundaries matter: the run
  // is held until it ends, and the stream still equals decode().
  Fixture f;
  f.decoder({{{"type", "ByteFallback"}},
             {{"type", "Replace"}, {"pattern", {{"String", kMeta}}}, {"content", " "}},
             {{"type", "Strip"}, {"content", "A"}, {"start", 1}, {"stop", 0}},
             {{"type", "Fuse"}}});
  Tokenizer tok = f.load();
  Ids ids = {b(0xE4), b(0xB8), b(0xAD), f.there, b('A'), b('A'), f.hi};
  EXPECT_EQ(tok.decode(ids), "中 thereA Hi"); // the run "AA" lost one A
  EXPECT_EQ(streamAll(tok, ids), (Texts{"", "", "", "中 there", "", "", "A Hi", ""}));
}

TEST(SentencepieceStream, TrailingStripHeldUntilTheEnd) {
  Fixture f;
  f.decoder({{{"type", "Replace"}, {"pattern", {{"String", kMeta}}}, {"content", " "}},
             {{"type", "ByteFallback"}},
             {{"type", "Fuse"}},
             {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 2}}});
  Tokenizer tok = f.load();
  Ids ids = {f.hi, f.meta2, f.meta1};
  EXPECT_EQ(tok.decode(ids), "Hi ");
  Tokenizer::StreamDecoder stream(tok);
  EXPECT_EQ(stream.push(f.hi), "Hi");
  EXPECT_EQ(stream.push(f.meta2), "");
  EXPECT_EQ(stream.pendingBytes(), 2u);
  EXPECT_EQ(stream.push(f.meta1), " "); // only the last two can still go
  EXPECT_EQ(stream.push(f.x), "  x");
  EXPECT_EQ(stream.flush(), "");
  EXPECT_EQ(streamAll(tok, ids), (Texts{"Hi", "", " ", ""}));
  // Where the cuts cross (tokenizers panics there), nothing is left.
  EXPECT_EQ(tok.decode(Ids{f.meta2}), "");
}

TEST(SentencepieceStream, TheTokenizerMayGoFirst) {
  Fixture f;
  std::optional<Tokenizer> tok = f.load();
  Tokenizer::StreamDecoder stream(*tok);
  tok.reset();
  EXPECT_EQ(stream.push(f.hi), "Hi");
  Tokenizer unloaded;
  Tokenizer::StreamDecoder none(unloaded);
  EXPECT_EQ(none.push(f.hi), "");
  EXPECT_EQ(none.flush(), "");
}

} // namespace
} // namespace mk::runtime::testing
