//===- tokenizer_test_util.h - Small tokenizer.json files built in tests --===//
//
// Every tokenizer here is written by the test itself: a byte-level alphabet
// (GPT-2's bytes_to_unicode, re-derived below rather than taken from the library)
// plus whatever merges, added tokens and pipeline sections a test needs.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/runtime/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mk::runtime::testing {

using Json = nlohmann::json;

/// The Llama-3 and Qwen2 Split patterns, as their tokenizer.json files hold them.
inline const char *const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline const char *const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

/// GPT-2's byte -> character map: printable bytes stay, the rest go to U+0100...
inline char32_t byteChar(unsigned char b) {
  auto kept = [](unsigned c) {
    return (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) ||
           (c >= 0xAE && c <= 0xFF);
  };
  if (kept(b))
    return b;
  char32_t n = 0;
  for (unsigned c = 0; c < b; ++c)
    n += !kept(c);
  return 0x100 + n;
}

inline void appendUtf8(std::string &out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

/// `raw` in byte-level form: "Ġworld" for " world".
inline std::string bl(std::string_view raw) {
  std::string out;
  for (unsigned char c : raw)
    appendUtf8(out, byteChar(c));
  return out;
}

/// Builds a tokenizer.json. The vocabulary starts as the 256 byte characters,
/// byte b having id b; merges add their result as the next id.
class TokenizerJson {
public:
  TokenizerJson() {
    for (int b = 0; b < 256; ++b)
      vocab_[bl(std::string(1, char(b)))] = b;
    doc_["version"] = "1.0";
    doc_["normalizer"] = nullptr;
    doc_["pre_tokenizer"] = byteLevel(false, true);
    doc_["post_processor"] = nullptr;
    doc_["decoder"] = {{"type", "ByteLevel"}};
    doc_["added_tokens"] = Json::array();
  }

  static Json byteLevel(bool addPrefixSpace, bool useRegex) {
    return {{"type", "ByteLevel"},
            {"add_prefix_space", addPrefixSpace},
            {"trim_offsets", true},
            {"use_regex", useRegex}};
  }
  static Json split(const std::string &regex, const char *behavior = "Isolated",
                    bool invert = false) {
    return {{"type", "Split"},
            {"pattern", {{"Regex", regex}}},
            {"behavior", behavior},
            {"invert", invert}};
  }
  /// Sequence[Split(regex), ByteLevel(use_regex false)], as Llama-3 and Qwen2 do.
  static Json splitThenByteLevel(const std::string &regex) {
    return {{"type", "Sequence"},
            {"pretokenizers", {split(regex), byteLevel(false, false)}}};
  }

  /// Merges "a b" (raw bytes; stored in byte-level form); returns the new id.
  int32_t merge(std::string_view left, std::string_view right) {
    std::string l = bl(left), r = bl(right);
    merges_.push_back({l, r});
    auto [it, inserted] = vocab_.emplace(l + r, nextId_);
    if (inserted)
      ++nextId_;
    return it->second;
  }
  /// A vocabulary entry without a merge that makes it (raw bytes).
  int32_t word(std::string_view raw) {
    auto [it, inserted] = vocab_.emplace(bl(raw), nextId_);
    if (inserted)
      ++nextId_;
    return it->second;
  }
  int32_t added(const std::string &content, bool special = true,
                Json extra = Json::object()) {
    Json t = {{"id", nextId_},     {"content", content}, {"single_word", false},
              {"lstrip", false},   {"rstrip", false},    {"normalized", !special},
              {"special", special}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
      t[it.key()] = it.value();
    doc_["added_tokens"].push_back(t);
    return nextId_++;
  }
  /// TemplateProcessing with `bos` (an added token's content) before $A.
  void bosTemplate(const std::string &bos, int32_t id) {
    doc_["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair", Json::array()},
        {"special_tokens", {{bos, {{"id", bos}, {"ids", {id}}, {"tokens", {bos}}}}}}};
  }

  Json &doc() { return doc_; }
  /// Merges as ["a", "b"] pairs (newer files) or "a b" strings (older ones).
  std::string text(bool pairMerges = true, bool ignoreMerges = false) const {
    Json doc = doc_;
    Json merges = Json::array();
    for (const auto &[l, r] : merges_)
      merges.push_back(pairMerges ? Json::array({l, r}) : Json(l + " " + r));
    doc["model"] = {{"type", "BPE"},
                    {"dropout", nullptr},
                    {"unk_token", nullptr},
                    {"continuing_subword_prefix", nullptr},
                    {"end_of_word_suffix", nullptr},
                    {"fuse_unk", false},
                    {"byte_fallback", false},
                    {"ignore_merges", ignoreMerges},
                    {"vocab", vocab_},
                    {"merges", merges}};
    return doc.dump();
  }

  Tokenizer load(bool pairMerges = true, bool ignoreMerges = false) const {
    Tokenizer tok;
    Status s = Tokenizer::loadFromText(text(pairMerges, ignoreMerges),
                                       "test/tokenizer.json", tok);
    EXPECT_TRUE(s) << s.message();
    return tok;
  }

private:
  Json doc_;
  std::map<std::string, int32_t> vocab_;
  std::vector<std::pair<std::string, std::string>> merges_;
  int32_t nextId_ = 256;
};

inline std::vector<int32_t> encode(const Tokenizer &tok, std::string_view text,
                                   bool addBos = false) {
  std::vector<int32_t> ids;
  Status s = tok.encode(text, ids, addBos);
  EXPECT_TRUE(s) << s.message();
  return ids;
}

/// Pre-tokens of `text`, back in raw bytes (" world" rather than "Ġworld").
inline std::vector<std::string> pieces(const Tokenizer &tok, std::string_view text) {
  std::vector<std::string> out;
  Status s = tok.preTokenize(text, out);
  EXPECT_TRUE(s) << s.message();
  for (std::string &p : out) {
    // Byte-level characters are below U+0800 (one or two UTF-8 bytes), and in
    // these files the token of byte b's character has id b.
    std::string raw;
    for (size_t i = 0; i < p.size();) {
      size_t len = (static_cast<unsigned char>(p[i]) < 0x80) ? 1 : 2;
      std::string ch = p.substr(i, len);
      auto id = tok.tokenToId(ch);
      EXPECT_TRUE(id && *id < 256) << ch;
      raw += char(id.value_or(0));
      i += len;
    }
    p = raw;
  }
  return out;
}

/// Replaces one randomly chosen value anywhere in `doc` with a value of another type.
inline void mutate(Json &doc, std::mt19937 &rng) {
  static const Json kReplacements[] = {nullptr,
                                       true,
                                       -1,
                                       7,
                                       1e300,
                                       "",
                                       "x",
                                       "(?<",
                                       Json::array(),
                                       Json::object(),
                                       Json::array({1, "a"}),
                                       Json::object({{"type", "Sequence"}})};
  std::vector<Json *> all;
  std::vector<Json *> stack = {&doc};
  while (!stack.empty()) {
    Json *v = stack.back();
    stack.pop_back();
    all.push_back(v);
    if (v->is_structured() && v->size() < 40) // keep the vocabulary's 256 out of it
      for (auto &child : *v)
        stack.push_back(&child);
  }
  std::uniform_int_distribution<size_t> pick(0, all.size() - 1);
  std::uniform_int_distribution<size_t> with(0, std::size(kReplacements) - 1);
  *all[pick(rng)] = kReplacements[with(rng)];
}

inline std::vector<int32_t> bytesOf(std::string_view text) {
  std::vector<int32_t> ids;
  for (unsigned char c : text)
    ids.push_back(c);
  return ids;
}

} // namespace mk::runtime::testing
