//===- sentencepiece_reference_test.cpp - Mistral's tokenizer.json vs tokenizers ===//
//
// data/mistral/tokenizer.json is Mistral-7B-v0.1's (also Mixtral-8x7B's), the
// legacy sentencepiece conversion Llama-2 shares. data/sentencepiece_expected.json
// holds what Hugging Face tokenizers 0.22.2 gives for it and for variants with
// other sections swapped in (Metaspace pre_tokenizer with each prepend_scheme,
// Metaspace decoder, Strip variants): ids, decoded text, and decoded text with
// special tokens skipped, for hard strings, seeded random strings and id lists.
// sentencepiece_reference.js wrote it; see data/README.md.
//===----------------------------------------------------------------------===//

#include "tokenizer_test_util.h"

#include <fstream>
#include <iterator>

namespace mk::runtime::testing {
namespace {

const std::string kDataDir = MK_TOKENIZER_DATA;
const char kReplacementChar[] = "\xEF\xBF\xBD";

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

const Json &expected() {
  static const Json doc =
      Json::parse(readFile(kDataDir + "/sentencepiece_expected.json"));
  return doc;
}

const Json &mistral() {
  static const Json doc = Json::parse(readFile(kDataDir + "/mistral/tokenizer.json"));
  return doc;
}

/// Mistral's file with a variant's sections swapped in.
Tokenizer loadVariant(const std::string &name) {
  Json doc = mistral();
  const Json &sections = expected()["variants"][name]["sections"];
  for (auto it = sections.begin(); it != sections.end(); ++it)
    doc[it.key()] = it.value();
  Tokenizer tok;
  Status s = Tokenizer::loadFromText(doc.dump(), name + "/tokenizer.json", tok);
  EXPECT_TRUE(s) << s.message();
  return tok;
}

std::string streamed(const Tokenizer &tok, const std::vector<int32_t> &ids,
                     bool skipSpecial) {
  Tokenizer::StreamDecoder stream(tok, skipSpecial);
  std::string out;
  for (int32_t id : ids)
    out += stream.push(id);
  return out + stream.flush();
}

/// Every entry of `list` (cases or fuzz): ids with and without BOS, decode with
/// and without special tokens, and the streamed text.
void checkEncodings(const Tokenizer &tok, const Json &variant, const char *list) {
  std::vector<int32_t> bos = variant["bos"].get<std::vector<int32_t>>();
  for (const Json &e : variant[list]) {
    std::string text = e["text"].get<std::string>();
    std::vector<int32_t> ids = e["ids"].get<std::vector<int32_t>>();
    std::string decoded = e["decoded"].get<std::string>();
    std::string decodedSkip = e.value("decodedSkip", decoded);
    SCOPED_TRACE(list + (": " + e["text"].dump()));
    EXPECT_EQ(encode(tok, text), ids);
    std::vector<int32_t> withBos = bos;
    withBos.insert(withBos.end(), ids.begin(), ids.end());
    EXPECT_EQ(encode(tok, text, /*addBos=*/true), withBos);
    EXPECT_EQ(tok.decode(ids), decoded);
    EXPECT_EQ(tok.decode(ids, /*skipSpecial=*/true), decodedSkip);
    EXPECT_EQ(streamed(tok, ids, false), decoded);
    EXPECT_EQ(streamed(tok, ids, true), decodedSkip);
  }
}

void checkDecodes(const Tokenizer &tok, const Json &variant) {
  for (const Json &e : variant["decode"]) {
    std::vector<int32_t> ids = e["ids"].get<std::vector<int32_t>>();
    std::string decoded = e["decoded"].get<std::string>();
    SCOPED_TRACE("decode " + e["ids"].dump());
    EXPECT_EQ(tok.decode(ids), decoded);
    EXPECT_EQ(tok.decode(ids, true), e["decodedSkip"].get<std::string>());
    // The stream departs only where a byte run is not valid UTF-8.
    std::string stream = streamed(tok, ids, false);
    if (stream != decoded) {
      EXPECT_NE(decoded.find(kReplacementChar), std::string::npos) << stream;
      EXPECT_NE(stream.find(kReplacementChar), std::string::npos) << stream;
    }
  }
}

class SentencepieceReference : public ::testing::TestWithParam<std::string> {};

TEST_P(SentencepieceReference, HardStrings) {
  Tokenizer tok = loadVariant(GetParam());
  checkEncodings(tok, expected()["variants"][GetParam()], "cases");
}

TEST_P(SentencepieceReference, RandomStrings) {
  Tokenizer tok = loadVariant(GetParam());
  checkEncodings(tok, expected()["variants"][GetParam()], "fuzz");
}

TEST_P(SentencepieceReference, IdLists) {
  Tokenizer tok = loadVariant(GetParam());
  checkDecodes(tok, expected()["variants"][GetParam()]);
}

std::vector<std::string> variantNames() {
  std::vector<std::string> names;
  for (auto it = expected()["variants"].begin(); it != expected()["variants"].end(); ++it)
    names.push_back(it.key());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Variants, SentencepieceReference,
                         ::testing::ValuesIn(variantNames()),
                         [](const auto &info) { return info.param; });

TEST(SentencepieceReference, EveryVariantIsChecked) {
  EXPECT_EQ(variantNames(),
            (std::vector<std::string>{"legacy", "metaspace_always_split",
                                      "metaspace_decoder", "metaspace_first",
                                      "metaspace_never", "no_strip", "strip_both"}));
}

TEST(SentencepieceReference, ShippedFile) {
  Tokenizer tok;
  Status s = Tokenizer::load(kDataDir + "/mistral", tok);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(tok.vocabSize(), 32000);
  EXPECT_EQ(tok.bosId(), 1);
  EXPECT_EQ(tok.tokenToId("<0x0A>"), 13);
  EXPECT_EQ(tok.tokenToId("\xE2\x96\x81"), 28705); // "▁"
  EXPECT_TRUE(tok.isSpecial(2));
  // No pre_tokenizer: the normalized text is one pre-token.
  std::vector<std::string> pieces;
  ASSERT_TRUE(tok.preTokenize("Hi  you", pieces));
  EXPECT_EQ(pieces,
            std::vector<std::string>{"\xE2\x96\x81Hi\xE2\x96\x81\xE2\x96\x81you"});
}

} // namespace
} // namespace mk::runtime::testing
