//===- tokenizer_regex.h - PCRE2 patterns for pre-tokenizer splits --------===//
//
// Private to the tokenizer. Patterns compile with UTF and Unicode properties
// (\p{L}, and \s, \w, \d by Unicode) and match any bytes: invalid UTF-8 in the
// subject matches nothing, not even [^...].
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/status.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mk::runtime::detail {

/// [begin, end) byte offsets.
struct Span {
  size_t begin = 0, end = 0;
};

class Regex {
public:
  /// Compiles `pattern`; `literal` matches it as plain text (a Split "String").
  /// On failure, `error` gets PCRE2's message and the pattern offset.
  static bool compile(std::string_view pattern, bool literal, Regex &out,
                      std::string &error);

  /// Every match in `text`, left to right, as Oniguruma's find_iter gives them
  /// (which tokenizers uses): after a match ending at e, an empty match at e is
  /// skipped by moving one character on. Empty matches elsewhere are kept.
  Status findAll(std::string_view text, std::vector<Span> &matches) const;

  bool jitCompiled() const;

private:
  struct Code;
  std::shared_ptr<const Code> code_;
};

} // namespace mk::runtime::detail
