//===- sentencepiece_test_util.h - Small sentencepiece-style tokenizer.json ==//
//
// The layout Llama-2, Mistral and Mixtral ship, on a vocabulary a test builds:
// <unk> 0, <s> 1, </s> 2 (special added tokens), <0x00>..<0xFF> as ids 3..258,
// then whatever pieces and merges the test adds. BPE with byte_fallback and
// fuse_unk; TemplateProcessing puts <s> first; the decoder is
// Sequence[Replace("▁" -> " "), ByteFallback, Fuse, Strip(" ", 1, 0)]. The
// normalizer and pre_tokenizer are the legacy pair (Prepend("▁") + Replace(" ",
// "▁"), no pre_tokenizer) or a Metaspace pre_tokenizer, as the test picks.
//===----------------------------------------------------------------------===//
#pragma once

#include "tokenizer_test_util.h"

#include <cstdio>

namespace mk::runtime::testing {

/// U+2581 LOWER ONE EIGHTH BLOCK, sentencepiece's space.
inline const std::string kMeta = "\xE2\x96\x81";

/// `text` with spaces as "▁" (" Hi there" -> "▁Hi▁there").
inline std::string meta(std::string_view text) {
  std::string out;
  for (char c : text)
    out += c == ' ' ? kMeta : std::string(1, c);
  return out;
}

inline std::string byteToken(unsigned char b) {
  char name[8];
  std::snprintf(name, sizeof name, "<0x%02X>", unsigned(b));
  return name;
}

class SentencepieceJson {
public:
  static constexpr int32_t kUnk = 0, kBos = 1, kEos = 2;
  static int32_t byteId(unsigned char b) { return 3 + b; }

  SentencepieceJson() {
    vocab_["<unk>"] = kUnk;
    vocab_["<s>"] = kBos;
    vocab_["</s>"] = kEos;
    for (int b = 0; b < 256; ++b)
      vocab_[byteToken(static_cast<unsigned char>(b))] =
          byteId(static_cast<unsigned char>(b));
    doc_["version"] = "1.0";
    doc_["added_tokens"] = Json::array();
    for (auto [content, id] :
         {std::pair{"<unk>", kUnk}, std::pair{"<s>", kBos}, std::pair{"</s>", kEos}})
      doc_["added_tokens"].push_back({{"id", id},
                                      {"content", content},
                                      {"single_word", false},
                                      {"lstrip", false},
                                      {"rstrip", false},
                                      {"normalized", false},
                                      {"special", true}});
    legacy();
    doc_["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair", Json::array()},
        {"special_tokens",
         {{"<s>", {{"id", "<s>"}, {"ids", {kBos}}, {"tokens", {"<s>"}}}}}}};
    doc_["decoder"] = {
        {"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"}, {"pattern", {{"String", kMeta}}}, {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}},
          {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
  }

  /// The older conversion: the normalizer adds "▁" and replaces spaces.
  void legacy() {
    doc_["normalizer"] = {
        {"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", kMeta}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kMeta}}}}};
    doc_["pre_tokenizer"] = nullptr;
  }
  /// The newer one: no normalizer, a Metaspace pre_tokenizer.
  void metaspace(const char *prependScheme, bool split) {
    doc_["normalizer"] = nullptr;
    doc_["pre_tokenizer"] = {{"type", "Metaspace"},
                             {"replacement", kMeta},
                             {"prepend_scheme", prependScheme},
                             {"split", split}};
  }

  /// A vocabulary entry (text with spaces written as "▁" by the caller).
  int32_t piece(const std::string &token) {
    auto [it, inserted] = vocab_.emplace(token, nextId_);
    if (inserted)
      ++nextId_;
    return it->second;
  }
  /// Merges `left` and `right` (both made pieces if they are not); the result's id.
  int32_t merge(const std::string &left, const std::string &right) {
    piece(left);
    piece(right);
    merges_.push_back(left + " " + right);
    return piece(left + right);
  }
  /// Pieces for every character of `text` (UTF-8, spaces as "▁").
  void characters(std::string_view text) {
    for (size_t i = 0; i < text.size();) {
      size_t len = 1;
      unsigned char c = static_cast<unsigned char>(text[i]);
      len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      piece(std::string(text.substr(i, len)));
      i += len;
    }
  }
  void removePiece(const std::string &token) { vocab_.erase(token); }

  Json &doc() { return doc_; }
  std::string text() const {
    Json doc = doc_;
    doc["model"] = {{"type", "BPE"},
                    {"dropout", nullptr},
                    {"unk_token", "<unk>"},
                    {"continuing_subword_prefix", nullptr},
                    {"end_of_word_suffix", nullptr},
                    {"fuse_unk", true},
                    {"byte_fallback", true},
                    {"ignore_merges", false},
                    {"vocab", vocab_},
                    {"merges", merges_}};
    return doc.dump();
  }
  Tokenizer load() const {
    Tokenizer tok;
    Status s = Tokenizer::loadFromText(text(), "sp/tokenizer.json", tok);
    EXPECT_TRUE(s) << s.message();
    return tok;
  }

private:
  Json doc_;
  std::map<std::string, int32_t> vocab_;
  std::vector<std::string> merges_;
  int32_t nextId_ = 259;
};

} // namespace mk::runtime::testing
