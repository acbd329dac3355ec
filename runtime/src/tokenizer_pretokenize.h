//===- tokenizer_pretokenize.h - pre_tokenizer steps ----------------------===//
//
// Private to the tokenizer. A pre-tokenizer is a list of steps (a Sequence,
// flattened: Split, Digits, ByteLevel, Metaspace); each step maps every current
// piece to zero or more pieces, and empty pieces are dropped, as in tokenizers'
// PreTokenizedString::split. No steps (pre_tokenizer null): the text is one piece.
//
// Split behaviors, splitting "the-final--countdown" on '-':
//   Removed             the | final | countdown
//   Isolated            the | - | final | - | - | countdown
//   MergedWithPrevious  the- | final- | - | countdown
//   MergedWithNext      the | -final | - | -countdown
//   Contiguous          the | - | final | -- | countdown
// `invert` swaps which parts count as matches.
//
// Metaspace (sentencepiece conversions) turns every ' ' into its replacement
// "▁", puts one in front of a piece that does not start with it (prepend_scheme
// "always"; "first": only the piece that starts the input text, before any added
// token; "never"), then with `split` cuts before each "▁" (MergedWithNext):
//   " Hey  you", always, split   ->  ▁Hey | ▁ | ▁you
//   "Hey<s>you", first, no split  ->  ▁Hey  and, after <s>,  you
//===----------------------------------------------------------------------===//
#pragma once

#include "tokenizer_regex.h"

#include "mk/isa/status.h"

#include <string>
#include <string_view>
#include <vector>

namespace mk::runtime::detail {

enum class SplitBehavior {
  Removed,
  Isolated,
  MergedWithPrevious,
  MergedWithNext,
  Contiguous
};

/// One part of a split: [begin, end) and whether the pattern matched it.
struct SplitPart {
  Span span;
  bool isMatch = false;
};

/// The matches of `regex` in `text` and the gaps between them, covering `text`
/// (tokenizers' Pattern::find_matches).
Status findSplitParts(const Regex &regex, std::string_view text,
                      std::vector<SplitPart> &parts);

/// Applies `behavior` (and `invert`) to `parts`; the spans kept, empty ones
/// included (callers drop them).
std::vector<Span> applySplitBehavior(std::vector<SplitPart> parts, SplitBehavior behavior,
                                     bool invert);

enum class PrependScheme { Always, First, Never };

struct PreTokenizerStep {
  enum class Kind { Split, ByteLevel, Metaspace };
  Kind kind = Kind::Split;
  // Split (Digits is a Split on \p{N}: Isolated, or Contiguous for runs).
  Regex regex;
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;
  // ByteLevel: prefix a space to a piece that does not start with one, then split
  // with `regex` (GPT-2's) when useRegex, then map every byte to its character.
  bool addPrefixSpace = false;
  bool useRegex = true;
  // Metaspace: `replacement` is one character, in UTF-8.
  std::string replacement;
  PrependScheme prependScheme = PrependScheme::Always;
  bool split = true;
};

class PreTokenizer {
public:
  std::vector<PreTokenizerStep> steps;

  bool hasByteLevel() const;
  /// Replaces `pieces` with the pre-tokens of `text`. `startsInput`: `text`
  /// begins at the first byte of the input (Metaspace's "first" scheme).
  Status run(std::string_view text, std::vector<std::string> &pieces,
             bool startsInput = true) const;
};

/// GPT-2's pattern, which ByteLevel uses when use_regex is true.
extern const char *const kGpt2SplitPattern;

} // namespace mk::runtime::detail
