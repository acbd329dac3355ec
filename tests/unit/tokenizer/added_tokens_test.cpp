//===- added_tokens_test.cpp - Leftmost-longest, lstrip/rstrip, single_word ==//

#include "tokenizer_test_util.h"

#include <variant>

namespace mk::runtime::testing {
namespace {

/// `parts`: text (its bytes) or an added token's id, in order.
std::vector<int32_t>
idsOf(std::initializer_list<std::variant<std::string, int32_t>> parts) {
  std::vector<int32_t> out;
  for (const auto &p : parts) {
    if (const std::string *text = std::get_if<std::string>(&p))
      for (int32_t b : bytesOf(*text))
        out.push_back(b);
    else
      out.push_back(std::get<int32_t>(p));
  }
  return out;
}

TEST(AddedTokens, LeftmostThenLongest) {
  TokenizerJson json;
  int32_t a = json.added("<a>");
  int32_t ab = json.added("<a><b>");
  int32_t b = json.added("<b>");
  int32_t xy = json.added("xy");
  int32_t yz = json.added("yz");
  Tokenizer tok = json.load();
  EXPECT_EQ(encode(tok, "<a><b><b>"), idsOf({ab, b}));
  EXPECT_EQ(encode(tok, "<a> <b>"), idsOf({a, " ", b}));
  // "xy" starts first, so "yz" (overlapping it) never matches.
  EXPECT_EQ(encode(tok, "xyz"), idsOf({xy, "z"}));
  EXPECT_EQ(encode(tok, "yzy"), idsOf({yz, "y"}));
}

TEST(AddedTokens, LstripAndRstripTakeTheWhitespace) {
  TokenizerJson json;
  int32_t mask = json.added("<mask>", true, {{"lstrip", true}});
  int32_t end = json.added("<end>", true, {{"rstrip", true}});
  Tokenizer tok = json.load();
  EXPECT_EQ(encode(tok, "hi   <mask> there"), idsOf({"hi", mask, " there"}));
  EXPECT_EQ(encode(tok, "hi\t\n<mask>"), idsOf({"hi", mask}));
  EXPECT_EQ(encode(tok, "<end>  \n x"), idsOf({end, "x"}));
  // lstrip stops at the previous match.
  EXPECT_EQ(encode(tok, "<end><mask>"), idsOf({end, mask}));
  EXPECT_EQ(encode(tok, "<mask>  <mask>"), idsOf({mask, mask}));
  // Unicode whitespace counts (U+3000 IDEOGRAPHIC SPACE).
  EXPECT_EQ(encode(tok, "a\xE3\x80\x80<mask>"), idsOf({"a", mask}));
  // The decoded text is the tokens' content: the stripped whitespace is gone.
  EXPECT_EQ(tok.decode(encode(tok, "hi   <mask> there")), "hi<mask> there");
}

TEST(AddedTokens, SingleWord) {
  TokenizerJson json;
  int32_t cat = json.added("cat", false, {{"single_word", true}, {"normalized", false}});
  Tokenizer tok = json.load();
  EXPECT_EQ(encode(tok, "a cat sat"), idsOf({"a ", cat, " sat"}));
  EXPECT_EQ(encode(tok, "cat"), idsOf({cat}));
  EXPECT_EQ(encode(tok, "(cat)"), idsOf({"(", cat, ")"}));
  EXPECT_EQ(encode(tok, "concat cats"), idsOf({"concat cats"}));
  EXPECT_EQ(encode(tok, "cat_"), idsOf({"cat_"})); // _ is a word character
  EXPECT_EQ(encode(tok, "écat"), idsOf({"écat"})); // so is é
}

TEST(AddedTokens, RawBeforeNormalized) {
  // normalized=false tokens are found first, in the raw text; normalized ones in
  // what remains (tokenizers' two tries).
  TokenizerJson json;
  int32_t ab = json.added("ab", false, {{"normalized", true}});
  int32_t bc = json.added("bc", false, {{"normalized", false}});
  Tokenizer tok = json.load();
  EXPECT_EQ(encode(tok, "abc"), idsOf({"a", bc}));
  EXPECT_EQ(encode(tok, "abab"), idsOf({ab, ab}));
}

TEST(AddedTokens, DuplicatesAndEmptyContent) {
  TokenizerJson json;
  int32_t first = json.added("<x>");
  json.added("<x>"); // ignored: the first wins
  json.added("");    // ignored
  Tokenizer tok = json.load();
  EXPECT_EQ(encode(tok, "<x>"), idsOf({first}));
  EXPECT_EQ(tok.tokenToId("<x>"), first);
}

TEST(AddedTokens, AddedTokenThatIsAlsoInTheVocabulary) {
  // The demo's layout: <|begin_of_text|> is both a vocab entry and an added token.
  TokenizerJson json;
  int32_t bos = json.word("<s>");
  Json doc = Json::parse(json.text());
  doc["added_tokens"] = {{{"id", bos}, {"content", "<s>"}, {"special", true}}};
  Tokenizer tok;
  ASSERT_TRUE(Tokenizer::loadFromText(doc.dump(), "t.json", tok));
  EXPECT_EQ(encode(tok, "a<s>b"), idsOf({"a", bos, "b"}));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{bos}), "<s>");
  EXPECT_TRUE(tok.isSpecial(bos));
}

} // namespace
} // namespace mk::runtime::testing
