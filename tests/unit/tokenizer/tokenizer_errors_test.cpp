//===- tokenizer_errors_test.cpp - Every load error: one line, the file named ==//

#include "tokenizer_test_util.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace mk::runtime::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kName = "m/tokenizer.json";

/// Loads `doc`; expects an error, one line, starting with the file name.
std::string loadError(const Json &doc) {
  Tokenizer tok;
  Status s = Tokenizer::loadFromText(doc.dump(), kName, tok);
  EXPECT_FALSE(s) << doc.dump().substr(0, 200);
  EXPECT_FALSE(tok.loaded());
  EXPECT_THAT(s.message(), StartsWith(kName + ": "));
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  return s.message();
}

Json valid() {
  TokenizerJson json;
  json.merge("a", "b");
  json.added("<s>");
  return Json::parse(json.text());
}

class TempDir {
public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("mk_tokenizer_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path &path() const { return path_; }

private:
  std::filesystem::path path_;
};

TEST(TokenizerErrors, Files) {
  Tokenizer tok;
  Status s = Tokenizer::load("/nonexistent/mk/tokenizer.json", tok);
  EXPECT_EQ(s.message(), "/nonexistent/mk/tokenizer.json: cannot open: no such file");

  TempDir dir;
  s = Tokenizer::load(dir.path().string(), tok);
  EXPECT_EQ(s.message(),
            (dir.path() / "tokenizer.json").string() + ": cannot open: no such file");
  std::ofstream(dir.path() / "tokenizer.json") << valid().dump();
  s = Tokenizer::load(dir.path().string(), tok);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(tok.source(), (dir.path() / "tokenizer.json").string());
  // The file itself works too.
  Tokenizer again;
  ASSERT_TRUE(Tokenizer::load((dir.path() / "tokenizer.json").string(), again));

  std::ofstream(dir.path() / "empty.json");
  s = Tokenizer::load((dir.path() / "empty.json").string(), tok);
  EXPECT_THAT(s.message(), HasSubstr("empty.json: invalid JSON: the file is empty"));
  EXPECT_TRUE(tok.loaded()); // a failed load leaves the old tokenizer in place
}

TEST(TokenizerErrors, InvalidJsonNamesThePosition) {
  Tokenizer tok;
  Status s =
      Tokenizer::loadFromText("{\n  \"model\": {\"vocab\": {\"a\": 0,}}\n}", kName, tok);
  // Worded as config.json's errors are; the column is that of the stray '}'.
  EXPECT_EQ(s.message(), kName + ": invalid JSON: parse error at line 2, column 30: "
                                 "syntax error while parsing object key - unexpected "
                                 "'}'; expected string literal");
  EXPECT_THAT(loadError(Json::array()),
              HasSubstr("expected a JSON object at the top, got "
                        "an array"));
}

TEST(TokenizerErrors, UnsupportedModels) {
  for (const char *type : {"WordPiece", "Unigram", "WordLevel"}) {
    Json doc = valid();
    doc["model"]["type"] = type;
    EXPECT_EQ(loadError(doc), kName + ": model.type: '" + type +
                                  "' is not supported; mk reads BPE tokenizers only");
  }
  Json doc = valid();
  doc.erase("model");
  EXPECT_EQ(loadError(doc), kName + ": model: missing");
  doc = valid();
  doc["model"]["continuing_subword_prefix"] = "##";
  EXPECT_THAT(loadError(doc), HasSubstr("model.continuing_subword_prefix: '##' is not "
                                        "supported"));
  doc = valid();
  doc["model"]["vocab"] = Json::array();
  EXPECT_THAT(loadError(doc), HasSubstr("model.vocab: expected an object of token -> id, "
                                        "got an array"));
}

TEST(TokenizerErrors, VocabularyIds) {
  Json doc = valid();
  doc["model"]["vocab"]["x"] = -1;
  EXPECT_THAT(loadError(doc), HasSubstr("model.vocab['x']: token id -1 is outside"));
  doc["model"]["vocab"]["x"] = 1u << 30;
  EXPECT_THAT(loadError(doc),
              HasSubstr("model.vocab['x']: token id 1073741824 is outside"));
  doc["model"]["vocab"]["x"] = 1.5;
  EXPECT_THAT(loadError(doc), HasSubstr("model.vocab['x']: expected a token id (an "
                                        "integer), got a non-integer number"));
  doc["model"]["vocab"]["x"] = "3";
  EXPECT_THAT(loadError(doc), HasSubstr("got a string"));
}

TEST(TokenizerErrors, Merges) {
  Json doc = valid();
  doc["model"]["merges"].push_back({"a", "zz"});
  EXPECT_EQ(loadError(doc), kName + ": model.merges: merge 1 'a zz': 'zz' is not in the "
                                    "vocabulary");
  doc = valid();
  doc["model"]["merges"].push_back({"b", "a"}); // both exist, "ba" does not
  EXPECT_EQ(loadError(doc), kName +
                                ": model.merges: merge 1 'b a': the merged token 'ba' "
                                "is not in the vocabulary");
  doc = valid();
  doc["model"]["merges"] = {"a b", "abc"};
  EXPECT_EQ(loadError(doc), kName +
                                ": model.merges[1]: 'abc' is not two tokens separated "
                                "by one space");
  doc["model"]["merges"] = {"a b c"};
  EXPECT_THAT(loadError(doc), HasSubstr("'a b c' is not two tokens"));
  doc["model"]["merges"] = {{"a"}};
  EXPECT_THAT(loadError(doc), HasSubstr("model.merges[0]: expected \"a b\" or [\"a\", "
                                        "\"b\"], got an array"));
  doc["model"]["merges"] = {7};
  EXPECT_THAT(loadError(doc), HasSubstr("got an integer"));
}

TEST(TokenizerErrors, Normalizers) {
  for (const char *type :
       {"Lowercase", "NFKC", "NFD", "BertNormalizer", "Precompiled", "Strip"}) {
    Json doc = valid();
    doc["normalizer"] = {{"type", type}};
    EXPECT_EQ(loadError(doc), kName + ": normalizer: normalizer '" + type +
                                  "' is not supported (mk supports NFC, Prepend, "
                                  "Replace and Sequence)");
  }
  Json doc = valid();
  doc["normalizer"] = {{"type", "Sequence"},
                       {"normalizers", {{{"type", "NFC"}}, {{"type", "Lowercase"}}}}};
  EXPECT_THAT(loadError(doc), HasSubstr("normalizer.normalizers[1]: normalizer "
                                        "'Lowercase' is not supported"));
  doc["normalizer"] = {{"kind", "NFC"}};
  EXPECT_THAT(loadError(doc), HasSubstr("normalizer: missing \"type\""));
  doc["normalizer"] = {{"type", "Prepend"}, {"prepend", 3}};
  EXPECT_EQ(loadError(doc),
            kName + ": normalizer.prepend: expected a string, got an integer");
  doc["normalizer"] = {{"type", "Replace"}, {"content", "x"}};
  EXPECT_THAT(loadError(doc),
              HasSubstr("normalizer.pattern: expected {\"Regex\": \"...\"} or "
                        "{\"String\": \"...\"}, got null"));
  doc["normalizer"] = {
      {"type", "Replace"}, {"pattern", {{"Regex", "(a"}}}, {"content", "x"}};
  EXPECT_THAT(loadError(doc), HasSubstr("normalizer.pattern: PCRE2 cannot compile '(a': "
                                        "missing closing parenthesis"));
  doc["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", " "}}}};
  EXPECT_EQ(loadError(doc), kName + ": normalizer.content: expected a string, got null");
}

TEST(TokenizerErrors, PreTokenizers) {
  for (const char *type : {"Whitespace", "WhitespaceSplit", "BertPreTokenizer",
                           "Punctuation", "UnicodeScripts"}) {
    Json doc = valid();
    doc["pre_tokenizer"] = {{"type", type}};
    EXPECT_EQ(loadError(doc), kName + ": pre_tokenizer: pre_tokenizer '" + type +
                                  "' is not supported (mk supports ByteLevel, Split, "
                                  "Digits, Metaspace and Sequence)");
  }
  Json doc = valid();
  doc["pre_tokenizer"] = TokenizerJson::splitThenByteLevel("(a|b");
  EXPECT_EQ(loadError(doc),
            kName +
                ": pre_tokenizer.pretokenizers[0].pattern: PCRE2 cannot compile '(a|b': "
                "missing closing parenthesis at offset 4");
  doc["pre_tokenizer"] = TokenizerJson::splitThenByteLevel("\\p{Bogus}");
  EXPECT_THAT(loadError(doc), HasSubstr("PCRE2 cannot compile '\\p{Bogus}': unknown "
                                        "property"));
  Json split = TokenizerJson::split("a");
  split["behavior"] = "Sideways";
  doc["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers", {split, TokenizerJson::byteLevel(false, false)}}};
  EXPECT_THAT(loadError(doc), HasSubstr("pre_tokenizer.pretokenizers[0].behavior: "
                                        "'Sideways' is not one of"));
  split = TokenizerJson::split("a");
  split["pattern"] = {{"Glob", "a*"}};
  doc["pre_tokenizer"]["pretokenizers"][0] = split;
  EXPECT_THAT(loadError(doc), HasSubstr("pattern kind 'Glob' is not Regex or String"));
}

TEST(TokenizerErrors, AddedTokens) {
  Json doc = valid();
  doc["added_tokens"].push_back({{"content", "<x>"}});
  EXPECT_EQ(loadError(doc), kName + ": added_tokens[1].id: missing");
  doc["added_tokens"][1]["id"] = 300;
  doc["added_tokens"][1]["special"] = "yes";
  EXPECT_EQ(loadError(doc), kName +
                                ": added_tokens[1].special: expected a boolean, got a "
                                "string");
  doc["added_tokens"] = {{{"id", 1}}};
  EXPECT_EQ(loadError(doc), kName + ": added_tokens[0].content: missing");
}

TEST(TokenizerErrors, PostProcessorsAndDecoders) {
  Json doc = valid();
  doc["post_processor"] = {{"type", "Wordy"}};
  EXPECT_THAT(loadError(doc), HasSubstr("post_processor: post_processor 'Wordy' is not "
                                        "supported"));
  doc["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}}},
      {"special_tokens", Json::object()}};
  EXPECT_EQ(loadError(doc), kName + ": post_processor.single[0]: special token '<s>' is "
                                    "not in post_processor.special_tokens");
  doc = valid();
  doc["decoder"] = {{"type", "WordPiece"}};
  EXPECT_EQ(loadError(doc), kName + ": decoder: decoder 'WordPiece' is not supported (mk "
                                    "supports ByteLevel, Replace, ByteFallback, Fuse, "
                                    "Strip, Metaspace and Sequence)");
}

TEST(TokenizerErrors, AcceptedVariants) {
  // Absent optional sections, a model without "type" (inferred from merges),
  // Roberta-style post-processing and decoder Sequences load fine.
  Json doc = valid();
  doc.erase("normalizer");
  doc.erase("post_processor");
  doc.erase("decoder");
  doc.erase("added_tokens");
  doc["model"].erase("type");
  Tokenizer tok;
  ASSERT_TRUE(Tokenizer::loadFromText(doc.dump(), kName, tok));
  doc["post_processor"] = {
      {"type", "RobertaProcessing"}, {"sep", {"</s>", 2}}, {"cls", {"<s>", 0}}};
  doc["decoder"] = {{"type", "Sequence"}, {"decoders", {{{"type", "ByteLevel"}}}}};
  Status s = Tokenizer::loadFromText(doc.dump(), kName, tok);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(tok.bosId(), 0);
}

} // namespace
} // namespace mk::runtime::testing
