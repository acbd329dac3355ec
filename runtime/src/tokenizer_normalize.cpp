//===- tokenizer_normalize.cpp - normalizer steps: NFC, Prepend, Replace --===//

#include "tokenizer_normalize.h"

#include "tokenizer_pretokenize.h"
#include "tokenizer_unicode.h"

namespace mk::runtime::detail {

Status replaceMatches(const Regex &pattern, std::string_view content,
                      std::string_view text, std::string &out) {
  std::vector<SplitPart> parts;
  if (Status s = findSplitParts(pattern, text, parts); !s)
    return s;
  out.clear();
  for (const SplitPart &part : parts) {
    if (part.isMatch)
      out += content;
    else
      out += text.substr(part.span.begin, part.span.end - part.span.begin);
  }
  return Status::ok();
}

Status Normalizer::run(std::string_view text, std::string &out) const {
  out.assign(text);
  std::string next;
  for (const NormalizerStep &step : steps) {
    switch (step.kind) {
    case NormalizerStep::Kind::Nfc:
      out = toNfc(out);
      break;
    case NormalizerStep::Kind::Prepend:
      if (!out.empty())
        out.insert(0, step.text);
      break;
    case NormalizerStep::Kind::Replace:
      if (Status s = replaceMatches(step.pattern, step.text, out, next); !s)
        return s;
      out.swap(next);
      break;
    }
  }
  return Status::ok();
}

} // namespace mk::runtime::detail
