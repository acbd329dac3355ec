//===- tokenizer_pretokenize.cpp - pre_tokenizer steps --------------------===//

#include "tokenizer_pretokenize.h"

#include "tokenizer_unicode.h"

#include <algorithm>

namespace mk::runtime::detail {

const char *const kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

Status findSplitParts(const Regex &regex, std::string_view text,
                      std::vector<SplitPart> &parts) {
  parts.clear();
  if (text.empty()) {
    parts.push_back({{0, 0}, false});
    return Status::ok();
  }
  std::vector<Span> matches;
  if (Status s = regex.findAll(text, matches); !s)
    return s;
  size_t previous = 0;
  for (const Span &m : matches) {
    if (previous != m.begin)
      parts.push_back({{previous, m.begin}, false});
    parts.push_back({m, true});
    previous = m.end;
  }
  if (previous != text.size())
    parts.push_back({{previous, text.size()}, false});
  return Status::ok();
}

std::vector<Span> applySplitBehavior(std::vector<SplitPart> parts, SplitBehavior behavior,
                                     bool invert) {
  if (invert)
    for (SplitPart &p : parts)
      p.isMatch = !p.isMatch;
  std::vector<Span> out;
  out.reserve(parts.size());
  bool previousMatch = false;
  switch (behavior) {
  case SplitBehavior::Isolated:
    for (const SplitPart &p : parts)
      out.push_back(p.span);
    break;
  case SplitBehavior::Removed:
    for (const SplitPart &p : parts)
      if (!p.isMatch)
        out.push_back(p.span);
    break;
  case SplitBehavior::Contiguous:
    for (const SplitPart &p : parts) {
      if (p.isMatch == previousMatch && !out.empty())
        out.back().end = p.span.end;
      else
        out.push_back(p.span);
      previousMatch = p.isMatch;
    }
    break;
  case SplitBehavior::MergedWithPrevious:
    for (const SplitPart &p : parts) {
      if (p.isMatch && !previousMatch && !out.empty())
        out.back().end = p.span.end;
      else
        out.push_back(p.span);
      previousMatch = p.isMatch;
    }
    break;
  case SplitBehavior::MergedWithNext:
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      if (it->isMatch && !previousMatch && !out.empty())
        out.back().begin = it->span.begin;
      else
        out.push_back(it->span);
      previousMatch = it->isMatch;
    }
    std::reverse(out.begin(), out.end());
    break;
  }
  return out;
}

bool PreTokenizer::hasByteLevel() const {
  for (const PreTokenizerStep &step : steps)
    if (step.kind == PreTokenizerStep::Kind::ByteLevel)
      return true;
  return false;
}

namespace {

/// Metaspace on one piece: spaces replaced, the prefix added per the scheme.
std::string metaspace(const PreTokenizerStep &step, std::string_view piece,
                      bool startsInput) {
  std::string out;
  out.reserve(piece.size() + 2 * step.replacement.size());
  for (char c : piece) {
    if (c == ' ')
      out += step.replacement;
    else
      out += c;
  }
  bool prepend = step.prependScheme == PrependScheme::Always ||
                 (step.prependScheme == PrependScheme::First && startsInput);
  if (prepend && out.compare(0, step.replacement.size(), step.replacement) != 0)
    out.insert(0, step.replacement);
  return out;
}

/// The parts of `text` cut at each occurrence of `needle`.
void findLiteralParts(std::string_view text, std::string_view needle,
                      std::vector<SplitPart> &parts) {
  parts.clear();
  size_t previous = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    if (previous != at)
      parts.push_back({{previous, at}, false});
    parts.push_back({{at, at + needle.size()}, true});
    previous = at + needle.size();
  }
  if (previous != text.size() || parts.empty())
    parts.push_back({{previous, text.size()}, false});
}

} // namespace

Status PreTokenizer::run(std::string_view text, std::vector<std::string> &pieces,
                         bool startsInput) const {
  pieces.clear();
  if (text.empty())
    return Status::ok();
  pieces.emplace_back(text);
  // Whether each piece starts at the input's first byte: only a first piece can.
  std::vector<bool> atStart = {startsInput};
  std::vector<std::string> next;
  std::vector<bool> nextAtStart;
  std::vector<SplitPart> parts;
  for (const PreTokenizerStep &step : steps) {
    next.clear();
    nextAtStart.clear();
    for (size_t i = 0; i < pieces.size(); ++i) {
      std::string &piece = pieces[i];
      std::vector<Span> spans;
      switch (step.kind) {
      case PreTokenizerStep::Kind::ByteLevel:
        if (step.addPrefixSpace && piece.front() != ' ')
          piece.insert(piece.begin(), ' ');
        if (!step.useRegex) {
          spans.push_back({0, piece.size()});
          break;
        }
        [[fallthrough]];
      case PreTokenizerStep::Kind::Split:
        if (Status s = findSplitParts(step.regex, piece, parts); !s)
          return s;
        spans = applySplitBehavior(std::move(parts), step.behavior, step.invert);
        break;
      case PreTokenizerStep::Kind::Metaspace:
        piece = metaspace(step, piece, atStart[i]);
        if (!step.split) {
          spans.push_back({0, piece.size()});
          break;
        }
        findLiteralParts(piece, step.replacement, parts);
        spans =
            applySplitBehavior(std::move(parts), SplitBehavior::MergedWithNext, false);
        break;
      }
      for (const Span &span : spans) {
        if (span.begin == span.end)
          continue;
        std::string_view part =
            std::string_view(piece).substr(span.begin, span.end - span.begin);
        if (step.kind == PreTokenizerStep::Kind::ByteLevel)
          next.push_back(byteLevelEncode(part));
        else
          next.emplace_back(part);
        nextAtStart.push_back(atStart[i] && span.begin == 0);
      }
    }
    pieces.swap(next);
    atStart.swap(nextAtStart);
  }
  return Status::ok();
}

} // namespace mk::runtime::detail
