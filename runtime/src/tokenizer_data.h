//===- tokenizer_data.h - What a loaded tokenizer.json holds --------------===//
//
// Private to the tokenizer: tokenizer_load.cpp fills it, tokenizer.cpp uses it.
// Immutable once loaded; the matchers point into `added`, so it never moves.
//===----------------------------------------------------------------------===//
#pragma once

#include "tokenizer_added.h"
#include "tokenizer_bpe.h"
#include "tokenizer_decode.h"
#include "tokenizer_normalize.h"
#include "tokenizer_pretokenize.h"

#include "mk/isa/status.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mk::runtime::detail {

/// Ids past this are refused: a table indexed by id is allocated at load.
constexpr int32_t kMaxTokenId = (1 << 24) - 1;

struct TokenizerData {
  TokenizerData() = default;
  TokenizerData(const TokenizerData &) = delete;
  TokenizerData &operator=(const TokenizerData &) = delete;

  std::string source;
  BpeModel model;
  std::vector<AddedToken> added; // in file order
  std::unordered_map<int32_t, size_t> addedById;
  TokenMap addedByContent;
  AddedTokenMatcher rawMatcher;        // normalized == false
  AddedTokenMatcher normalizedMatcher; // normalized == true, matched after normalizing
  Normalizer normalizer;
  PreTokenizer preTokenizer;
  Decoder decoder;
  std::vector<int32_t> bosIds;
  int32_t vocabSize = 0;
};

/// Fills `out` (freshly constructed) from tokenizer.json text. Errors are one line
/// starting with "<source>: ".
Status parseTokenizerJson(std::string_view text, const std::string &source,
                          TokenizerData &out);

} // namespace mk::runtime::detail
