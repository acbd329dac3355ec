//===- tokenizer_decode.h - decoder steps: token strings -> text ----------===//
//
// Private to the tokenizer. tokenizers decodes ids by looking up their token
// strings (added tokens by content) and passing the whole list through the
// decoder's steps, each a list -> list map, then joining the result. Two kinds:
//
//   ByteLevel  each vocabulary token's characters back to bytes (GPT-2's
//              alphabet); added tokens as written. Raw bytes come out: the last
//              character may be cut, where tokenizers would write U+FFFD.
//   Pieces     sentencepiece conversions (Llama-2, Mistral, Mixtral):
//                Sequence[Replace("▁" -> " "), ByteFallback, Fuse, Strip(" ", 1, 0)]
//              ["<s>", "▁Hi", "<0xE4>", "<0xB8>", "<0xAD>"]
//                Replace       ["<s>", " Hi", "<0xE4>", "<0xB8>", "<0xAD>"]
//                ByteFallback  ["<s>", " Hi", "中"]   (an invalid run: one U+FFFD a byte)
//                Fuse          ["<s> Hi中"]
//                Strip         ["<s> Hi中"]   (a leading " " would go)
//              or Metaspace alone (each "▁" -> " ", the first token's dropped).
//
// Steps before the first Fuse act on each token (ByteFallback on each run of
// <0xNN> tokens); after it there is one token, the whole text, and only Strip may
// follow (the loader refuses the rest). That shape lets one DecodeState serve
// decode() and streaming: tokens go in one at a time and text comes out as soon
// as no later token can change it.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mk::runtime::detail {

struct DecoderStep {
  enum class Kind { Replace, ByteFallback, Strip, Metaspace };
  Kind kind = Kind::Replace;
  // Replace: every occurrence of `pattern` (a String, not empty) -> `text`.
  std::string pattern;
  // Replace: the content. Metaspace: the replacement character, in UTF-8.
  std::string text;
  // Strip: up to `start` leading and `stop` trailing copies of `stripChar`.
  char32_t stripChar = ' ';
  size_t start = 0, stop = 0;
  // Metaspace: prepend_scheme is not "never": the first token's replacement
  // characters are dropped instead of becoming spaces.
  bool dropFirst = true;
};

struct Decoder {
  bool byteLevel = true;
  std::vector<DecoderStep> tokenSteps; // before the first Fuse, in order
  std::vector<DecoderStep> textSteps;  // after it: Strip only
};

/// Decodes a stream of token strings. decode() runs it with `streaming` false and
/// gives exactly tokenizers' text. With `streaming`, a run of byte tokens gives
/// each character as soon as its bytes are complete; tokenizers writes U+FFFD for
/// every byte of a run that has any invalid byte, which only a look at the whole
/// run can tell, so on such runs (never produced by encoding text) the streamed
/// text can keep the run's leading valid characters.
class DecodeState {
public:
  DecodeState(const Decoder &decoder, bool streaming);

  /// Appends to `out` the text that `token` completes. `added`: an added
  /// token's content (ByteLevel passes those through unmapped).
  void push(std::string_view token, bool added, std::string &out);
  /// Appends whatever is held back: the end of the text is known.
  void finish(std::string &out);
  /// Bytes held back: a byte run not yet complete, trailing Strip characters.
  size_t heldBytes() const;

private:
  struct StepState {
    size_t tokens = 0;     // Metaspace: tokens seen
    std::string bytes;     // ByteFallback: the run so far (not yet passed on)
    size_t runLength = 0;  // ByteFallback: byte tokens in the run, passed on or not
    bool stripping = true; // Strip (text): still at the start of the text
    size_t leading = 0;    // Strip (text): leading copies removed so far
    std::string trailing;  // Strip (text): trailing copies held back (<= stop)
  };

  void feed(size_t step, std::string token, std::string &out);
  void feedByteFallback(size_t step, std::string token, std::string &out);
  void feedText(size_t step, std::string_view text, std::string &out);
  void endRun(size_t step, std::string &out);

  const Decoder *decoder_;
  bool streaming_;
  std::vector<StepState> tokenState_, textState_;
};

/// The byte of a ByteFallback token ("<0x0A>" -> 10), or -1 if `token` is not one.
int byteFallbackValue(std::string_view token);

} // namespace mk::runtime::detail
