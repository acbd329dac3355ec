//===- tokenizer.h - Hugging Face tokenizer.json byte-level BPE ------------===//
//
// Encodes and decodes as the Hugging Face `tokenizers` library does for the
// byte-level BPE family (GPT-2, Llama-3, Qwen2/Qwen3, the demo model):
//
//   text -> split out added tokens whose `normalized` is false (leftmost-longest)
//        -> normalizer on each remaining piece (none, or NFC)
//        -> split out added tokens whose `normalized` is true
//        -> pre_tokenizer steps (Split regexes, Digits, ByteLevel) -> pre-tokens
//        -> BPE merges per pre-token (lowest rank first, then leftmost) -> ids
//        -> with addBos, the post_processor's special tokens before $A in front
//   ids  -> token strings (added tokens as written, vocab tokens through the
//           ByteLevel decoder's char -> byte table) -> bytes
//
// Supported tokenizer.json sections (anything else is refused at load with a
// one-line error that names the file and the unsupported type):
//   model           BPE (vocab, merges as "a b" strings or ["a", "b"] pairs,
//                   ignore_merges, unk_token, fuse_unk, byte_fallback; dropout is
//                   ignored: encoding is always deterministic)
//   added_tokens    content, id, special, normalized, lstrip, rstrip, single_word
//   normalizer      null, NFC, or a Sequence of those
//   pre_tokenizer   ByteLevel, Split (Regex or String pattern, every behavior,
//                   invert), Digits, Sequence; it must contain a ByteLevel step
//   post_processor  null, ByteLevel, TemplateProcessing, RobertaProcessing,
//                   BertProcessing, Sequence
//   decoder         null or ByteLevel (or a Sequence of ByteLevel)
// Regexes are compiled with PCRE2 (UTF, Unicode properties, JIT when available);
// tokenizers compiles them with Oniguruma, and the two agree on the patterns these
// models ship (\p{L}, \p{N}, \s, (?i:...), lookahead, possessive quantifiers) for
// every code point but two kinds: PCRE2's \s also takes U+180E MONGOLIAN VOWEL
// SEPARATOR, and characters newer than PCRE2's Unicode tables (Unicode 14 in 10.42)
// count as unassigned.
//
// Input text is any bytes: invalid UTF-8 never matches a regex class, so it lands
// in the gaps between matches, and the byte-level vocabulary still encodes it byte
// by byte. decode() of the result gives the same bytes back, unless NFC,
// add_prefix_space or an lstrip/rstrip added token changed them on the way in.
//
// Where this departs from tokenizers, on purpose:
//   - a character with no token, no unk_token and no byte fallback is an encode
//     error naming it (tokenizers drops it silently);
//   - addBos adds only the template's tokens before $A, never an EOS after it;
//   - after an rstrip added token, matching resumes past the stripped whitespace.
//
// A Tokenizer is immutable once loaded; copies share the loaded tables, and
// encode/decode may be called from several threads at once.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mk::runtime {

namespace detail {
struct TokenizerData;
} // namespace detail

class Tokenizer {
public:
  Tokenizer();
  ~Tokenizer();
  Tokenizer(const Tokenizer &);
  Tokenizer(Tokenizer &&) noexcept;
  Tokenizer &operator=(const Tokenizer &);
  Tokenizer &operator=(Tokenizer &&) noexcept;

  /// Loads `pathOrDir`, or `pathOrDir`/tokenizer.json when it is a directory.
  /// On failure `out` is left as it was.
  static Status load(const std::string &pathOrDir, Tokenizer &out);
  /// The same from text; `source` names it in messages ("x/tokenizer.json").
  static Status loadFromText(std::string_view json, const std::string &source,
                             Tokenizer &out);

  bool loaded() const { return data_ != nullptr; }
  /// The file it was loaded from.
  const std::string &source() const;

  /// Replaces `ids` with the tokens of `text` (any bytes). With `addBos`, the
  /// post-processor's special tokens before the sequence come first (Llama-3:
  /// <|begin_of_text|>; Qwen2/3: none); tokens after it (an EOS a template may
  /// append) are never added, since a prompt is to be continued.
  /// Fails (one line, naming the file) only when a byte has no token and the
  /// model has neither unk_token nor byte_fallback, or PCRE2 gives up on a match.
  Status encode(std::string_view text, std::vector<int32_t> &ids, bool addBos) const;

  /// The bytes of `ids`, concatenated; the last may be partial UTF-8. Ids with no
  /// token (negative, past the vocabulary, or a gap in it) are skipped. With
  /// `skipSpecial`, special added tokens are skipped too.
  std::string decode(std::span<const int32_t> ids, bool skipSpecial = false) const;

  /// Decodes one token at a time, holding back the bytes of a UTF-8 sequence
  /// until it is complete, so that every returned string is whole characters.
  /// Bytes that can never become valid UTF-8 are passed on as they are.
  class StreamDecoder {
  public:
    explicit StreamDecoder(const Tokenizer &tokenizer, bool skipSpecial = false);
    /// The text `id` completes (often empty while a character is pending).
    std::string push(int32_t id);
    /// Whatever is still held back (an incomplete sequence at the very end).
    std::string flush();
    /// Bytes held back right now (at most 3).
    size_t pendingBytes() const { return pending_.size(); }

  private:
    const Tokenizer *tokenizer_;
    bool skipSpecial_;
    std::string pending_;
  };

  /// One past the largest id of the vocabulary and the added tokens.
  int32_t vocabSize() const;
  /// The first token addBos puts in front, if any.
  std::optional<int32_t> bosId() const;
  /// Every token addBos puts in front (usually zero or one).
  std::span<const int32_t> bosIds() const;
  /// The id of a vocabulary or added token, by its string as written in the file
  /// ("<|end_of_text|>", "Ġthe").
  std::optional<int32_t> tokenToId(std::string_view token) const;
  /// The string of `id` as written in the file, if it has one.
  std::optional<std::string> idToToken(int32_t id) const;
  /// Whether `id` is an added token marked "special".
  bool isSpecial(int32_t id) const;

  /// The pre-tokens of `text` as the pre_tokenizer gives them (after the
  /// normalizer, without splitting out added tokens), in byte-level form
  /// ("Ġworld"), as tokenizers' pre_tokenize_str shows them. For tests and tools.
  Status preTokenize(std::string_view text, std::vector<std::string> &pieces) const;

private:
  std::shared_ptr<const detail::TokenizerData> data_;
};

} // namespace mk::runtime
