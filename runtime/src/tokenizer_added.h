//===- tokenizer_added.h - Added tokens: found in text before anything else ===//
//
// Private to the tokenizer. Follows tokenizers' AddedVocabulary::find_matches:
// the leftmost match wins, the longest among those starting there; matching
// goes on after its end (so a discarded match hides what it overlapped).
//   single_word  discard a match with a word character (\w) just before or after
//   lstrip       the match takes the whitespace before it (not past the
//                previous match)
//   rstrip       the match takes the whitespace after it
// Tokens with normalized=false are found in the raw text; the rest, in the
// normalizer's output (their content normalized the same way).
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mk::runtime::detail {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool normalized = true;
  bool singleWord = false;
  bool lstrip = false;
  bool rstrip = false;
};

/// A piece of text, or an added token found in it (id >= 0).
struct TextSegment {
  std::string_view text;
  int32_t id = -1;
};

class AddedTokenMatcher {
public:
  /// `tokens` must outlive the matcher; `contents[i]` is what tokens[i] is
  /// matched as (its content, normalized where it applies). Empty ones never match.
  void build(const std::vector<AddedToken> &tokens, std::vector<std::string> contents);
  bool empty() const { return patterns_.empty(); }

  /// Appends the segments of `text` (which they view) to `out`, in order.
  void split(std::string_view text, std::vector<TextSegment> &out) const;

private:
  struct Pattern {
    std::string text;
    const AddedToken *token;
  };
  /// Indices into patterns_ by first byte, longest first.
  std::vector<std::vector<uint32_t>> byFirstByte_;
  std::vector<Pattern> patterns_;
};

} // namespace mk::runtime::detail
