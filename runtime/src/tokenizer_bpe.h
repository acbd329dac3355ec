//===- tokenizer_bpe.h - The BPE model: vocabulary, merges, merging -------===//
//
// Private to the tokenizer. tokenize() follows tokenizers' BPE::merge_word: a
// pre-token starts as one symbol per character (byte-level characters, so one
// per input byte) and the adjacent pair with the lowest merge rank is merged
// until none is left; among equal ranks (the same pair twice) the leftmost goes
// first. A priority queue keeps this O(n log n) for long pre-tokens (a 10k-space
// run is one Llama-3 pre-token).
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/status.h"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mk::runtime::detail {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct BpeOptions {
  /// A pre-token that is itself in the vocabulary is one token (Llama-3).
  bool ignoreMerges = false;
  /// Characters with no token become this token, if it is in the vocabulary
  /// (empty: none).
  std::string unkToken;
  /// Consecutive unknown characters become one unk token.
  bool fuseUnk = false;
  /// Characters with no token become <0xNN> tokens, one per byte, when all exist.
  bool byteFallback = false;
};

class BpeModel {
public:
  /// `vocab`: token -> id (ids already range-checked). `merges`: in rank order.
  /// Errors name the merge ("merge 12 'a b': 'b' is not in the vocabulary").
  static Status build(TokenMap vocab,
                      const std::vector<std::pair<std::string, std::string>> &merges,
                      const BpeOptions &options, BpeModel &out);

  std::optional<int32_t> tokenToId(std::string_view token) const;
  /// The token string of `id`, or null for an id with none.
  const std::string *idToToken(int32_t id) const;
  /// One past the largest id (0 when empty).
  int32_t idLimit() const { return int32_t(tokens_.size()); }
  size_t mergeCount() const { return merges_.size(); }

  /// Appends the ids of `word`, one pre-token in the model's alphabet.
  Status tokenize(std::string_view word, std::vector<int32_t> &ids) const;

private:
  struct Merge {
    uint32_t rank;
    int32_t result;
  };
  static uint64_t pairKey(int32_t left, int32_t right) {
    return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
  }
  const Merge *findMerge(int32_t left, int32_t right) const;
  /// Ids for one character that has no token; false if there are none. Its
  /// <0xNN> tokens go out at once; an unk token waits in `pendingUnk` until the
  /// next character with a token, or the word's end, as in tokenizers'
  /// merge_word (so with fuse_unk, unknown characters around a byte-fallback
  /// one give one unk, after its bytes). That order differs from the text only
  /// where some <0xNN> tokens are missing, which converted files never lack.
  bool unknownChar(std::string_view ch, bool &pendingUnk,
                   std::vector<int32_t> &ids) const;

  TokenMap vocab_;
  std::vector<std::string> tokens_; // by id
  std::vector<bool> hasToken_;      // by id
  std::unordered_map<uint64_t, Merge> merges_;
  /// Ids of the single characters below U+0144 (the byte-level alphabet); -1 none.
  std::array<int32_t, 0x144> charIds_{};
  BpeOptions options_;
  std::optional<int32_t> unkId_;
};

} // namespace mk::runtime::detail
