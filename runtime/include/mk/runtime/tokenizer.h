//===- tokenizer.h - Hugging Face tokenizer.json BPE tokenizers ----------===//
//
// Encodes and decodes as the Hugging Face `tokenizers` library does for BPE
// tokenizer.json files of two families:
//   byte-level      GPT-2, Llama-3, Qwen2/Qwen3, the demo model: a ByteLevel
//                   pre_tokenizer maps every byte to a character of its own;
//   sentencepiece   Llama-2, Mistral, Mixtral (converted from sentencepiece):
//                   spaces become "▁" (a Prepend + Replace normalizer, or a
//                   Metaspace pre_tokenizer), characters missing from the
//                   vocabulary become <0xNN> byte tokens (byte_fallback), and the
//                   decoder turns both back (Replace, ByteFallback, Fuse, Strip).
//
//   text -> split out added tokens whose `normalized` is false (leftmost-longest)
//        -> normalizer on each remaining piece
//        -> split out added tokens whose `normalized` is true
//        -> pre_tokenizer steps -> pre-tokens
//        -> BPE merges per pre-token (lowest rank first, then leftmost) -> ids
//        -> with addBos, the post_processor's special tokens before $A in front
//   ids  -> token strings (added tokens by content) -> decoder -> text
//
// Supported tokenizer.json sections (anything else is refused at load with a
// one-line error that names the file, the JSON path and the unsupported type):
//   model           BPE (vocab, merges as "a b" strings or ["a", "b"] pairs,
//                   ignore_merges, unk_token, fuse_unk, byte_fallback; dropout is
//                   ignored: encoding is always deterministic)
//   added_tokens    content, id, special, normalized, lstrip, rstrip, single_word
//   normalizer      null, NFC, Prepend, Replace, or a Sequence of those
//   pre_tokenizer   null, ByteLevel, Split (Regex or String pattern, every
//                   behavior, invert), Digits, Metaspace (prepend_scheme always,
//                   first or never; split), Sequence
//   post_processor  null, ByteLevel, TemplateProcessing, RobertaProcessing,
//                   BertProcessing, Sequence
//   decoder         ByteLevel (or null, with a ByteLevel pre_tokenizer); or a
//                   Sequence of Replace (String pattern), ByteFallback, Strip and
//                   Metaspace, then Fuse, then Strip; or Metaspace alone
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
// A sentencepiece vocabulary with byte_fallback encodes any valid UTF-8; decode()
// gives it back (legacy files) or without its first leading space (Metaspace
// "first": " Hi" encodes as "Hi" does), as tokenizers does.
//
// Where this departs from tokenizers, on purpose:
//   - a character with no token, no unk_token and no byte fallback is an encode
//     error naming it (tokenizers drops it silently);
//   - addBos adds only the template's tokens before $A, never an EOS after it;
//   - after an rstrip added token, matching resumes past the stripped whitespace;
//   - the ByteLevel decoder gives raw bytes, where tokenizers writes U+FFFD for
//     a cut character; StreamDecoder differs on invalid byte-fallback runs (see
//     there); where tokenizers' Strip decoder panics (its two cuts cross, or
//     stop > 0 on empty text), the text is "";
//   - a Metaspace with add_prefix_space false and no prepend_scheme means
//     "never" (tokenizers refuses it).
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
class DecodeState;
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
  /// <|begin_of_text|>; Llama-2, Mistral: <s>; Qwen2/3: none); tokens after it
  /// (an EOS a template may append) are never added, since a prompt is to be
  /// continued.
  /// Fails (one line, naming the file) only when a byte has no token and the
  /// model has neither unk_token nor byte_fallback, or PCRE2 gives up on a match.
  Status encode(std::string_view text, std::vector<int32_t> &ids, bool addBos) const;

  /// The text of `ids` as the decoder makes it. Byte-level: the bytes of the
  /// tokens, concatenated; the last character may be cut. Sentencepiece: "▁" as
  /// spaces, a run of <0xNN> tokens as its bytes (U+FFFD for each byte of a run
  /// that is not valid UTF-8), and Strip on the whole text (Llama-2's takes one
  /// leading space: "▁Hi" -> "Hi", but "<s>" "▁Hi" -> "<s> Hi"). Ids with no
  /// token (negative, past the vocabulary, or a gap in it) are skipped. With
  /// `skipSpecial`, special added tokens are skipped too.
  std::string decode(std::span<const int32_t> ids, bool skipSpecial = false) const;

  /// Decodes one token at a time. Every returned string is whole characters:
  /// the bytes of a character split across tokens are held back until it is
  /// complete (bytes that can never become valid UTF-8 are passed on: as they
  /// are, byte-level; as U+FFFD, byte fallback). The returned strings add up to
  /// decode() of all the ids pushed, except on a byte-fallback run that is not
  /// valid UTF-8: decode() makes every byte of it U+FFFD, the stream only those
  /// from where it went wrong.
  /// Keeps the tokenizer's tables alive: the Tokenizer may go first.
  class StreamDecoder {
  public:
    explicit StreamDecoder(const Tokenizer &tokenizer, bool skipSpecial = false);
    ~StreamDecoder();
    StreamDecoder(StreamDecoder &&) noexcept;
    StreamDecoder &operator=(StreamDecoder &&) noexcept;

    /// Takes `ids` as already shown (a prompt), without returning their text,
    /// so that push() continues it: a sentencepiece decoder strips the first
    /// space of a text, and the first word generated after a prompt keeps it.
    void consume(std::span<const int32_t> ids);
    /// The text `id` completes (often empty while a character is pending).
    std::string push(int32_t id);
    /// Whatever is still held back, now that the text ends.
    std::string flush();
    /// Bytes held back right now: an incomplete character (at most 3 bytes), a
    /// byte-fallback run that a later decoder step needs whole, or trailing
    /// characters a decoder's Strip removes if the text ends there.
    size_t pendingBytes() const;

  private:
    std::shared_ptr<const detail::TokenizerData> data_;
    bool skipSpecial_;
    std::unique_ptr<detail::DecodeState> state_;
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
  /// normalizer, without splitting out added tokens), in the vocabulary's
  /// alphabet ("Ġworld", "▁world"), as tokenizers' pre_tokenize_str shows them.
  /// For tests and tools.
  Status preTokenize(std::string_view text, std::vector<std::string> &pieces) const;

private:
  std::shared_ptr<const detail::TokenizerData> data_;
};

} // namespace mk::runtime
