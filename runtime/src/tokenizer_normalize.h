//===- tokenizer_normalize.h - normalizer steps: NFC, Prepend, Replace ----===//
//
// Private to the tokenizer. The normalizer runs on each piece of text between
// added tokens (and on the contents of added tokens marked normalized), as in
// tokenizers' AddedVocabulary::extract_and_normalize. Sentencepiece conversions
// (Llama-2, Mistral, Mixtral) ship
//   Sequence[Prepend("▁"), Replace(" " -> "▁")]   "Hi  you" -> "▁Hi▁▁you"
// and Qwen2/3 ship NFC.
//===----------------------------------------------------------------------===//
#pragma once

#include "tokenizer_regex.h"

#include "mk/isa/status.h"

#include <string>
#include <string_view>
#include <vector>

namespace mk::runtime::detail {

struct NormalizerStep {
  enum class Kind { Nfc, Prepend, Replace };
  Kind kind = Kind::Nfc;
  /// Prepend: what goes in front of a non-empty piece. Replace: what replaces
  /// every match of `pattern`.
  std::string text;
  Regex pattern; // Replace: a String pattern is compiled as a literal
};

class Normalizer {
public:
  std::vector<NormalizerStep> steps; // a Sequence, flattened

  bool empty() const { return steps.empty(); }
  /// `text` with every step applied in order.
  Status run(std::string_view text, std::string &out) const;
};

/// `text` with every match of `pattern` replaced by `content`: the matches are
/// tokenizers' Pattern::find_matches for the same pattern (see findSplitParts).
Status replaceMatches(const Regex &pattern, std::string_view content,
                      std::string_view text, std::string &out);

} // namespace mk::runtime::detail
