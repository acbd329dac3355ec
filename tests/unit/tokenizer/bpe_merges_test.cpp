//===- bpe_merges_test.cpp - Merge order, ties, ignore_merges, unk --------===//
//
// A GPT-2-style tokenizer with a dozen merges, each expectation worked out by
// hand below, and a randomized comparison against the textbook O(n^2) loop.
//===----------------------------------------------------------------------===//

#include "tokenizer_test_util.h"

#include <map>
#include <random>

namespace mk::runtime::testing {
namespace {

struct Gpt2Like {
  TokenizerJson json;
  int32_t ll, he, spW, orr, hell, hello, spWor, spWorl, spWorld, el, aa, aaa;
  Gpt2Like() {
    ll = json.merge("l", "l");          // rank 0
    he = json.merge("h", "e");          // rank 1
    spW = json.merge(" ", "w");         // rank 2
    orr = json.merge("o", "r");         // rank 3
    hell = json.merge("he", "ll");      // rank 4
    hello = json.merge("hell", "o");    // rank 5
    spWor = json.merge(" w", "or");     // rank 6
    spWorl = json.merge(" wor", "l");   // rank 7
    spWorld = json.merge(" worl", "d"); // rank 8
    el = json.merge("e", "l");          // rank 9: after "l l"
    aa = json.merge("a", "a");          // rank 10
    aaa = json.merge("aa", "a");        // rank 11
  }
};

TEST(BpeMerges, WholeWords) {
  Gpt2Like g;
  Tokenizer tok = g.json.load();
  // h e l l o -> h e ll o (rank 0) -> he ll o (1) -> hell o (4) -> hello (5)
  EXPECT_EQ(encode(tok, "hello"), std::vector<int32_t>{g.hello});
  // Ġ w o r l d -> Ġw o r l d (2) -> Ġw or l d (3) -> Ġwor (6) -> Ġworl (7) -> (8)
  EXPECT_EQ(encode(tok, "hello world"), (std::vector<int32_t>{g.hello, g.spWorld}));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{g.hello, g.spWorld}), "hello world");
}

TEST(BpeMerges, PartialWords) {
  Gpt2Like g;
  Tokenizer tok = g.json.load();
  // h e l: "h e" (1) beats "e l" (9); "he l" has no merge.
  EXPECT_EQ(encode(tok, "hel"), (std::vector<int32_t>{g.he, 'l'}));
  // w o r l d without the space: only "o r" applies; "w or" is no merge.
  EXPECT_EQ(encode(tok, "world"), (std::vector<int32_t>{'w', g.orr, 'l', 'd'}));
  // "hellow": hello is made before "o w" could matter (there is no such merge).
  EXPECT_EQ(encode(tok, "hellow"), (std::vector<int32_t>{g.hello, 'w'}));
}

TEST(BpeMerges, LowerRankWinsOverLeftmost) {
  Gpt2Like g;
  Tokenizer tok = g.json.load();
  // e l l: "e l" is leftmost but rank 9; "l l" is rank 0 and goes first, after
  // which "e ll" has no merge.
  EXPECT_EQ(encode(tok, "ell"), (std::vector<int32_t>{'e', g.ll}));
  // e l: only "e l".
  EXPECT_EQ(encode(tok, "el"), std::vector<int32_t>{g.el});
}

TEST(BpeMerges, TiesGoLeftmostFirst) {
  Gpt2Like g;
  Tokenizer tok = g.json.load();
  // a a a: both pairs are rank 10; the left one merges, then "aa a" (11).
  EXPECT_EQ(encode(tok, "aaa"), std::vector<int32_t>{g.aaa});
  // a a a a: aa a a -> "a a" (10) beats "aa a" (11) -> aa aa (no merge).
  EXPECT_EQ(encode(tok, "aaaa"), (std::vector<int32_t>{g.aa, g.aa}));
  // a a a a a: aa a a a -> aa aa a -> aa aaa.
  EXPECT_EQ(encode(tok, "aaaaa"), (std::vector<int32_t>{g.aa, g.aaa}));
  // Six: aa aa aa.
  EXPECT_EQ(encode(tok, "aaaaaa"), (std::vector<int32_t>{g.aa, g.aa, g.aa}));
}

TEST(BpeMerges, StringAndPairMergesAgree) {
  Gpt2Like g;
  Tokenizer pairs = g.json.load(/*pairMerges=*/true);
  Tokenizer strings = g.json.load(/*pairMerges=*/false);
  for (std::string text : {"hello world", "ell aaaaa hel", "world worlds", " w or"})
    EXPECT_EQ(encode(pairs, text), encode(strings, text)) << text;
}

TEST(BpeMerges, Gpt2RegexPreTokens) {
  Gpt2Like g;
  Tokenizer tok = g.json.load();
  // ByteLevel with use_regex: GPT-2's pattern, contractions lowercase only.
  EXPECT_EQ(pieces(tok, "I'm here's 42x, OK'S  \n  end"),
            (std::vector<std::string>{"I", "'m", " here", "'s", " 42", "x", ",", " OK",
                                      "'", "S", "  \n ", " end"}));
  EXPECT_EQ(pieces(tok, "a  b"), (std::vector<std::string>{"a", " ", " b"}));
  EXPECT_EQ(pieces(tok, "12345 ..."), (std::vector<std::string>{"12345", " ..."}));
}

TEST(BpeMerges, AddPrefixSpace) {
  Gpt2Like g;
  g.json.doc()["pre_tokenizer"] = TokenizerJson::byteLevel(/*addPrefixSpace=*/true, true);
  int32_t sep = g.json.added("<sep>");
  Tokenizer tok = g.json.load();
  // The space goes before the first word, and before each piece after an added
  // token (tokenizers pre-tokenizes those pieces separately).
  EXPECT_EQ(encode(tok, "world"), std::vector<int32_t>{g.spWorld});
  EXPECT_EQ(encode(tok, " world"), std::vector<int32_t>{g.spWorld});
  EXPECT_EQ(encode(tok, "hello<sep>world"),
            (std::vector<int32_t>{' ', g.hello, sep, g.spWorld}));
}

TEST(BpeMerges, IgnoreMergesTakesWholeVocabularyWords) {
  TokenizerJson json;
  int32_t ab = json.merge("a", "b");
  int32_t abc = json.word("abc"); // in the vocabulary, but no merge makes it
  Tokenizer plain = json.load(true, /*ignoreMerges=*/false);
  Tokenizer ignoring = json.load(true, /*ignoreMerges=*/true);
  EXPECT_EQ(encode(plain, "abc"), (std::vector<int32_t>{ab, 'c'}));
  EXPECT_EQ(encode(ignoring, "abc"), std::vector<int32_t>{abc});
  EXPECT_EQ(encode(ignoring, "abcd"), (std::vector<int32_t>{ab, 'c', 'd'}));
}

TEST(BpeMerges, LongRunIsFast) {
  TokenizerJson json;
  json.merge(" ", " ");
  json.merge("  ", "  ");
  json.merge("    ", "    ");
  Tokenizer tok = json.load();
  std::string spaces(200000, ' ');
  std::vector<int32_t> ids = encode(tok, spaces + "x");
  // One pre-token of 199999 spaces (then " x"), merged into 8-space tokens.
  EXPECT_EQ(ids.size(), 199999u / 8 + 3 + 2); // 24999 eights, 4+2+1, then ' ', 'x'
  EXPECT_EQ(tok.decode(ids), spaces + "x");
}

TEST(BpeMerges, UnknownCharacters) {
  // A vocabulary missing byte 'z': an error naming it, unless unk_token is set.
  TokenizerJson json;
  Json doc = Json::parse(json.text());
  doc["model"]["vocab"].erase("z");
  Tokenizer tok;
  ASSERT_TRUE(Tokenizer::loadFromText(doc.dump(), "t.json", tok));
  std::vector<int32_t> ids;
  Status s = tok.encode("lazy", ids, false);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), ::testing::StartsWith("t.json: cannot encode 'lazy': "));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("'z' (U+007A, byte 0x7A)"));

  doc["model"]["vocab"]["<unk>"] = 300;
  doc["model"]["unk_token"] = "<unk>";
  ASSERT_TRUE(Tokenizer::loadFromText(doc.dump(), "t.json", tok));
  EXPECT_EQ(encode(tok, "lazzy"), (std::vector<int32_t>{'l', 'a', 300, 300, 'y'}));
  doc["model"]["fuse_unk"] = true;
  ASSERT_TRUE(Tokenizer::loadFromText(doc.dump(), "t.json", tok));
  EXPECT_EQ(encode(tok, "lazzy zz"),
            (std::vector<int32_t>{'l', 'a', 300, 'y', ' ', 300}));
}

/// The textbook loop: merge the lowest-ranked adjacent pair, leftmost on ties.
std::vector<std::string>
naiveBpe(std::string word,
         const std::map<std::pair<std::string, std::string>, int> &rank) {
  std::vector<std::string> symbols;
  for (char c : word)
    symbols.emplace_back(1, c);
  for (;;) {
    int best = -1;
    size_t at = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto it = rank.find({symbols[i], symbols[i + 1]});
      if (it != rank.end() && (best < 0 || it->second < best)) {
        best = it->second;
        at = i;
      }
    }
    if (best < 0)
      return symbols;
    symbols[at] += symbols[at + 1];
    symbols.erase(symbols.begin() + long(at) + 1);
  }
}

TEST(BpeMerges, MatchesTheNaiveLoopOnRandomTables) {
  std::mt19937 rng(42);
  for (int table = 0; table < 40; ++table) {
    TokenizerJson json;
    json.doc()["pre_tokenizer"] = TokenizerJson::byteLevel(false, /*useRegex=*/false);
    std::vector<std::string> tokens = {"a", "b", "c"};
    std::map<std::pair<std::string, std::string>, int> rank;
    std::map<std::string, int32_t> ids = {{"a", 'a'}, {"b", 'b'}, {"c", 'c'}};
    std::uniform_int_distribution<int> count(5, 40);
    int merges = count(rng);
    for (int m = 0; m < merges; ++m) {
      std::uniform_int_distribution<size_t> pick(0, tokens.size() - 1);
      std::string l = tokens[pick(rng)], r = tokens[pick(rng)];
      if (rank.count({l, r}) || l.size() + r.size() > 12)
        continue;
      rank[{l, r}] = int(rank.size());
      int32_t id = json.merge(l, r);
      if (!ids.count(l + r))
        tokens.push_back(l + r);
      ids[l + r] = id;
    }
    Tokenizer tok = json.load();
    std::uniform_int_distribution<int> length(1, 30), letter(0, 2);
    for (int w = 0; w < 50; ++w) {
      std::string word;
      for (int n = length(rng); n > 0; --n)
        word += char('a' + letter(rng));
      std::vector<int32_t> expected;
      for (const std::string &s : naiveBpe(word, rank))
        expected.push_back(ids.at(s));
      ASSERT_EQ(encode(tok, word), expected) << "table " << table << " word " << word;
    }
  }
}

} // namespace
} // namespace mk::runtime::testing
