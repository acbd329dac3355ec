//===- tokenizer_load.h - The tokenizer.json reader, shared by its two files ==//
//
// Private to the tokenizer. tokenizer_load.cpp reads the model, the added tokens
// and the post_processor; tokenizer_load_pipeline.cpp the normalizer,
// pre_tokenizer and decoder. Every problem is reported as
// "<file>: <json path>: <what is wrong>", and nothing throws: every JSON value's
// type is checked before it is read.
//===----------------------------------------------------------------------===//
#pragma once

#include "tokenizer_data.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace mk::runtime::detail {

using Json = nlohmann::json;

/// "an array", "a string", ...: what a value is, for messages.
std::string jsonKindOf(const Json &v);

class TokenizerLoader {
public:
  TokenizerLoader(const std::string &source, TokenizerData &out)
      : source_(source), out_(out) {}

  Status load(std::string_view text);

private:
  Status fail(const std::string &path, const std::string &what) const {
    return Status::error(source_ + ": " + path + ": " + what);
  }
  Status expected(const std::string &path, const char *what, const Json &got) const {
    return fail(path, std::string("expected ") + what + ", got " + jsonKindOf(got));
  }
  /// Absent and null read alike: as nullptr.
  static const Json *member(const Json &object, const char *key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }
  Status readBool(const Json &object, const char *key, const std::string &path,
                  bool &out) const;
  Status readId(const Json &value, const std::string &path, int32_t &out) const;
  Status readType(const Json &object, const std::string &path, std::string &type) const;
  Status readString(const Json &object, const char *key, const std::string &path,
                    std::string &out) const;
  /// A string of exactly one character (Metaspace's replacement, Strip's content).
  Status readChar(const Json &object, const char *key, const std::string &path,
                  std::string &utf8, char32_t &cp) const;
  /// {"String": "..."} or {"Regex": "..."}: the text, and whether it is a String.
  Status readPattern(const Json &object, const std::string &path, std::string &text,
                     bool &literal) const;
  /// Metaspace's prepend_scheme, or the older add_prefix_space.
  Status readPrependScheme(const Json &object, const std::string &path,
                           PrependScheme &out) const;

  // tokenizer_load.cpp
  Status loadModel(const Json &model);
  Status loadMerges(const Json &merges,
                    std::vector<std::pair<std::string, std::string>> &out) const;
  Status loadAddedTokens(const Json *tokens);
  Status buildAddedTokenMatchers();
  Status loadPostProcessor(const Json &processor, const std::string &path);

  // tokenizer_load_pipeline.cpp
  Status loadNormalizer(const Json &normalizer, const std::string &path);
  Status loadPreTokenizer(const Json &step, const std::string &path);
  Status loadDecoder(const Json *decoder);
  Status loadDecoderStep(const Json &step, const std::string &path, bool afterFuse,
                         bool &fused);

  const std::string &source_;
  TokenizerData &out_;
};

} // namespace mk::runtime::detail
