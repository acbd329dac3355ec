//===- tokenizer_robustness_test.cpp - Bad bytes give errors, never crashes ==//

#include "tokenizer_test_util.h"

#include <random>
#include <thread>

namespace mk::runtime::testing {
namespace {

using ::testing::StartsWith;

const std::string kName = "x/tokenizer.json";

/// Whatever happens: no crash, and an error is one line naming the file.
bool loads(std::string_view text) {
  Tokenizer tok;
  Status s = Tokenizer::loadFromText(text, kName, tok);
  if (!s) {
    EXPECT_THAT(s.message(), StartsWith(kName + ": "));
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
    EXPECT_FALSE(tok.loaded());
  }
  return s.isOk();
}

std::string llama3Text() {
  TokenizerJson json;
  json.merge(" ", "t");
  json.merge("h", "e");
  json.merge(" t", "he");
  json.doc()["pre_tokenizer"] = TokenizerJson::splitThenByteLevel(kLlama3Pattern);
  int32_t bos = json.added("<|begin_of_text|>");
  json.added("<|end_of_text|>");
  json.bosTemplate("<|begin_of_text|>", bos);
  return json.text(true, true);
}

TEST(TokenizerRobustness, EveryTruncationFails) {
  std::string text = llama3Text();
  for (size_t len = 0; len < text.size(); ++len)
    EXPECT_FALSE(loads(std::string_view(text).substr(0, len))) << len;
  EXPECT_TRUE(loads(text));
}

TEST(TokenizerRobustness, GarbageBytes) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> byte(0, 255), length(1, 300);
  for (int i = 0; i < 500; ++i) {
    std::string text;
    for (int n = length(rng); n > 0; --n)
      text += char(byte(rng));
    EXPECT_FALSE(loads(text));
  }
  for (const char *text :
       {"null", "true", "1", "\"BPE\"", "[]", "{}", "{\"model\": null}",
        "{\"model\": {}}", "{\"model\": {\"type\": 3}}"})
    EXPECT_FALSE(loads(text)) << text;
}

TEST(TokenizerRobustness, MutatedDocuments) {
  Json base = Json::parse(llama3Text());
  std::mt19937 rng(5);
  int ok = 0;
  for (int i = 0; i < 1500; ++i) {
    Json doc = base;
    for (int m = 0; m <= i % 3; ++m)
      mutate(doc, rng);
    Tokenizer tok;
    Status s = Tokenizer::loadFromText(doc.dump(), kName, tok);
    if (!s) {
      EXPECT_THAT(s.message(), StartsWith(kName + ": "));
      EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
      continue;
    }
    ++ok;
    // A tokenizer that loads must encode anything without crashing.
    std::vector<int32_t> ids;
    (void)tok.encode("The theme: <|begin_of_text|>  x\n\xFF 12345", ids, true);
    (void)tok.decode(ids);
  }
  EXPECT_GT(ok, 0);
}

TEST(TokenizerRobustness, AnyInputRoundTrips) {
  Tokenizer tok;
  ASSERT_TRUE(Tokenizer::loadFromText(llama3Text(), kName, tok));
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 200), kind(0, 9);
  const std::string bits[] = {
      " the", "\n", "  ", "<|end_of_text|>", "<|begin_of", "é", "中", "🎉", "'S", "123"};
  for (int i = 0; i < 1000; ++i) {
    std::string text;
    for (int n = length(rng); n > 0; n -= 4)
      text += i % 2 ? std::string(1, char(byte(rng))) : bits[kind(rng)];
    std::vector<int32_t> ids;
    Status s = tok.encode(text, ids, false);
    ASSERT_TRUE(s) << s.message();
    ASSERT_EQ(tok.decode(ids), text);
    for (int32_t id : ids)
      ASSERT_TRUE(id >= 0 && id < tok.vocabSize());
  }
}

TEST(TokenizerRobustness, ConcurrentEncodeAndDecode) {
  // encode/decode are const and keep their scratch state per call.
  Tokenizer tok;
  ASSERT_TRUE(Tokenizer::loadFromText(llama3Text(), kName, tok));
  const std::string text = "The theme of the day: 12345, <|end_of_text|> é中🎉\n\n  end";
  std::vector<int32_t> expected = encode(tok, text);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      Tokenizer copy = tok; // copies share the tables
      for (int i = 0; i < 200; ++i) {
        std::vector<int32_t> ids;
        if (!(t % 2 ? copy : tok).encode(text, ids, false) || ids != expected ||
            tok.decode(ids) != text)
          ++failures[size_t(t)];
      }
    });
  for (std::thread &th : threads)
    th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

} // namespace
} // namespace mk::runtime::testing
