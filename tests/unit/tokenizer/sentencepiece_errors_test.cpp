//===- sentencepiece_errors_test.cpp - Unsupported sentencepiece variants ==//
//
// Each is refused at load with one line naming the file, the JSON path and the
// component.
//===----------------------------------------------------------------------===//

#include "sentencepiece_test_util.h"

namespace mk::runtime::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kName = "mistral/tokenizer.json";

std::string loadError(const Json &doc) {
  Tokenizer tok;
  Status s = Tokenizer::loadFromText(doc.dump(), kName, tok);
  EXPECT_FALSE(s) << doc["decoder"].dump() << doc["pre_tokenizer"].dump();
  EXPECT_FALSE(tok.loaded());
  EXPECT_THAT(s.message(), StartsWith(kName + ": "));
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  return s.message();
}

Json valid() { return Json::parse(SentencepieceJson().text()); }

TEST(SentencepieceErrors, Decoders) {
  Json doc = valid();
  doc["decoder"]["decoders"][0]["pattern"] = {{"Regex", "\\s"}};
  EXPECT_EQ(loadError(doc), kName +
                                ": decoder.decoders[0].pattern: a Regex pattern is not "
                                "supported in a decoder's Replace (mk supports String "
                                "patterns)");
  doc["decoder"]["decoders"][0]["pattern"] = {{"String", ""}};
  EXPECT_EQ(loadError(doc),
            kName + ": decoder.decoders[0].pattern: an empty String is not supported");
  doc["decoder"]["decoders"][0]["pattern"] = {{"Glob", "*"}};
  EXPECT_THAT(loadError(doc),
              HasSubstr("decoder.decoders[0].pattern: pattern kind 'Glob' "
                        "is not Regex or String"));

  doc = valid();
  Json replace = doc["decoder"]["decoders"][0];
  doc["decoder"]["decoders"].push_back(replace);
  EXPECT_EQ(loadError(doc), kName +
                                ": decoder.decoders[4]: decoder 'Replace' after Fuse "
                                "is not supported (mk applies only Strip to the fused "
                                "text)");
  doc = valid();
  doc["decoder"]["decoders"].push_back({{"type", "ByteFallback"}});
  EXPECT_THAT(loadError(doc),
              HasSubstr("decoder.decoders[4]: decoder 'ByteFallback' after "
                        "Fuse is not supported"));

  doc = valid();
  doc["decoder"]["decoders"][1] = {{"type", "ByteLevel"}};
  EXPECT_EQ(loadError(doc), kName + ": decoder.decoders[1]: decoder 'ByteLevel' is "
                                    "supported only on its own, not in a Sequence with "
                                    "other decoders");
  for (const char *type : {"CTC", "BPEDecoder", "WordPiece"}) {
    doc = valid();
    doc["decoder"]["decoders"][2] = {{"type", type}};
    EXPECT_EQ(loadError(doc), kName + ": decoder.decoders[2]: decoder '" + type +
                                  "' is not supported (mk supports ByteLevel, Replace, "
                                  "ByteFallback, Fuse, Strip, Metaspace and Sequence)");
  }
  doc = valid();
  doc["decoder"] = {{"type", "Sequence"}, {"decoders", {{{"type", 3}}}}};
  EXPECT_EQ(loadError(doc),
            kName + ": decoder.decoders[0].type: expected a string, got an integer");
  doc["decoder"] = {{"type", "Sequence"}};
  EXPECT_THAT(loadError(doc), HasSubstr("decoder.decoders: expected an array, got null"));
}

TEST(SentencepieceErrors, Strip) {
  Json doc = valid();
  doc["decoder"]["decoders"][3]["content"] = "ab";
  EXPECT_EQ(loadError(doc),
            kName + ": decoder.decoders[3].content: 'ab' is not one character");
  doc["decoder"]["decoders"][3]["content"] = "";
  EXPECT_THAT(loadError(doc), HasSubstr("'' is not one character"));
  doc = valid();
  doc["decoder"]["decoders"][3]["start"] = -1;
  EXPECT_EQ(loadError(doc), kName + ": decoder.decoders[3].start: expected a count (an "
                                    "integer >= 0), got an integer");
  doc["decoder"]["decoders"][3].erase("start");
  EXPECT_THAT(loadError(doc), HasSubstr("decoder.decoders[3].start: expected a count (an "
                                        "integer >= 0), got null"));
  doc = valid();
  doc["decoder"]["decoders"][3]["stop"] = 1.5;
  EXPECT_THAT(loadError(doc), HasSubstr("got a non-integer number"));
}

TEST(SentencepieceErrors, Metaspace) {
  Json doc = valid();
  doc["pre_tokenizer"] = {{"type", "Metaspace"},
                          {"replacement", kMeta},
                          {"prepend_scheme", "sometimes"},
                          {"split", false}};
  EXPECT_EQ(loadError(doc), kName + ": pre_tokenizer.prepend_scheme: 'sometimes' is not "
                                    "one of always, first, never");
  doc["pre_tokenizer"]["prepend_scheme"] = "always";
  doc["pre_tokenizer"]["add_prefix_space"] = false;
  EXPECT_EQ(loadError(doc), kName + ": pre_tokenizer: add_prefix_space false contradicts "
                                    "prepend_scheme 'always'");
  doc["pre_tokenizer"].erase("add_prefix_space");
  doc["pre_tokenizer"]["replacement"] = kMeta + kMeta;
  EXPECT_EQ(loadError(doc), kName + ": pre_tokenizer.replacement: "
                                    "'\\xe2\\x96\\x81\\xe2\\x96\\x81' is not one "
                                    "character");
  doc["pre_tokenizer"]["replacement"] = kMeta;
  doc["pre_tokenizer"]["split"] = "no";
  EXPECT_EQ(loadError(doc),
            kName + ": pre_tokenizer.split: expected a boolean, got a string");
  doc["pre_tokenizer"]["split"] = false;
  doc["pre_tokenizer"]["prepend_scheme"] = 1;
  EXPECT_THAT(loadError(doc),
              HasSubstr("pre_tokenizer.prepend_scheme: expected a string"));

  doc = valid();
  doc["decoder"] = {{"type", "Metaspace"}, {"add_prefix_space", "yes"}};
  EXPECT_THAT(loadError(doc),
              HasSubstr("decoder.replacement: expected a string, got null"));
  doc["decoder"]["replacement"] = kMeta;
  EXPECT_THAT(loadError(doc),
              HasSubstr("decoder.add_prefix_space: expected a boolean, got a string"));
}

TEST(SentencepieceErrors, NoDecoderWithoutByteLevel) {
  Json doc = valid();
  doc["decoder"] = nullptr;
  EXPECT_EQ(loadError(doc), kName + ": decoder: missing; a tokenizer without a ByteLevel "
                                    "pre_tokenizer needs one (tokenizers would join the "
                                    "tokens with spaces)");
  doc["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", kMeta}};
  EXPECT_THAT(loadError(doc), HasSubstr("decoder: missing"));
}

TEST(SentencepieceErrors, AcceptedVariants) {
  // Older files: Metaspace with add_prefix_space instead of prepend_scheme
  // (false means "never"), a Sequence decoder with no steps, Fuse twice.
  Json doc = valid();
  doc["normalizer"] = nullptr;
  doc["pre_tokenizer"] = {{"type", "Metaspace"},
                          {"replacement", kMeta},
                          {"add_prefix_space", false},
                          {"str_rep", kMeta}};
  doc["decoder"] = {{"type", "Sequence"}, {"decoders", Json::array()}};
  Tokenizer tok;
  Status s = Tokenizer::loadFromText(doc.dump(), kName, tok);
  ASSERT_TRUE(s) << s.message();
  std::vector<std::string> pieces;
  ASSERT_TRUE(tok.preTokenize("a b", pieces));
  EXPECT_EQ(pieces, (std::vector<std::string>{"a", meta(" b")}));
  // No steps: the tokens are joined as they are.
  std::vector<int32_t> ids;
  ASSERT_TRUE(tok.encode("\n", ids, false));
  EXPECT_EQ(tok.decode(ids), "<0x0A>");
  doc["decoder"] = {{"type", "Sequence"},
                    {"decoders", {{{"type", "Fuse"}}, {{"type", "Fuse"}}}}};
  ASSERT_TRUE(Tokenizer::loadFromText(doc.dump(), kName, tok));
}

TEST(SentencepieceErrors, MutatedDocuments) {
  // Whatever a section holds: one line naming the file, or a tokenizer that
  // encodes, decodes and streams anything without crashing.
  SentencepieceJson sp;
  sp.merge(kMeta, "t");
  sp.merge("h", "e");
  sp.merge(meta(" t"), "he");
  Json legacy = Json::parse(sp.text());
  sp.metaspace("first", true);
  Json metaspace = Json::parse(sp.text());
  std::mt19937 rng(11);
  int ok = 0;
  for (int i = 0; i < 1500; ++i) {
    Json doc = i % 2 ? legacy : metaspace;
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
    std::vector<int32_t> ids;
    (void)tok.encode(" the  theme<s>\n\xFF 中🎉</s>x", ids, true);
    ids.push_back(SentencepieceJson::byteId(0xE4));
    (void)tok.decode(ids);
    Tokenizer::StreamDecoder stream(tok);
    for (int32_t id : ids)
      (void)stream.push(id);
    (void)stream.flush();
  }
  EXPECT_GT(ok, 0);
}

} // namespace
} // namespace mk::runtime::testing
