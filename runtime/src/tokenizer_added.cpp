//===- tokenizer_added.cpp - Added tokens: found in text before anything else =//

#include "tokenizer_added.h"

#include "tokenizer_unicode.h"

#include <algorithm>

namespace mk::runtime::detail {
namespace {

/// The character ending at `end` (its start in `start`); false if none or invalid.
bool charBefore(std::string_view text, size_t end, size_t &start, char32_t &cp) {
  for (size_t back = 1; back <= 4 && back <= end; ++back) {
    unsigned char c = static_cast<unsigned char>(text[end - back]);
    if ((c & 0xC0) == 0x80)
      continue;
    if (decodeUtf8(text, end - back, cp) != back)
      return false;
    start = end - back;
    return true;
  }
  return false;
}

bool wordCharBefore(std::string_view text, size_t end) {
  size_t start;
  char32_t cp;
  return charBefore(text, end, start, cp) && isWordChar(cp);
}

bool wordCharAt(std::string_view text, size_t pos) {
  char32_t cp;
  return decodeUtf8(text, pos, cp) && isWordChar(cp);
}

/// Start of the whitespace run that ends at `end`.
size_t whitespaceStartBefore(std::string_view text, size_t end) {
  size_t start;
  char32_t cp;
  while (charBefore(text, end, start, cp) && isUnicodeWhitespace(cp))
    end = start;
  return end;
}

/// End of the whitespace run that starts at `pos`.
size_t whitespaceEndAfter(std::string_view text, size_t pos) {
  char32_t cp;
  while (size_t len = decodeUtf8(text, pos, cp)) {
    if (!isUnicodeWhitespace(cp))
      break;
    pos += len;
  }
  return pos;
}

} // namespace

void AddedTokenMatcher::build(const std::vector<AddedToken> &tokens,
                              std::vector<std::string> contents) {
  patterns_.clear();
  byFirstByte_.assign(256, {});
  for (size_t i = 0; i < tokens.size(); ++i)
    if (!contents[i].empty())
      patterns_.push_back({std::move(contents[i]), &tokens[i]});
  for (uint32_t i = 0; i < patterns_.size(); ++i)
    byFirstByte_[static_cast<unsigned char>(patterns_[i].text[0])].push_back(i);
  for (auto &list : byFirstByte_)
    std::stable_sort(list.begin(), list.end(), [&](uint32_t a, uint32_t b) {
      return patterns_[a].text.size() > patterns_[b].text.size();
    });
}

void AddedTokenMatcher::split(std::string_view text,
                              std::vector<TextSegment> &out) const {
  size_t segmentStart = 0; // end of the last kept match
  size_t pos = 0;          // where matching resumes
  while (pos < text.size() && !patterns_.empty()) {
    // Leftmost, then longest.
    const Pattern *found = nullptr;
    size_t at = pos;
    for (; at < text.size() && !found; ++at) {
      for (uint32_t index : byFirstByte_[static_cast<unsigned char>(text[at])]) {
        const Pattern &p = patterns_[index];
        if (text.compare(at, p.text.size(), p.text) == 0) {
          found = &p;
          break;
        }
      }
    }
    if (!found)
      break;
    size_t start = at - 1, stop = start + found->text.size();
    pos = stop;
    const AddedToken &token = *found->token;
    if (token.singleWord && ((start > 0 && wordCharBefore(text, start)) ||
                             (stop < text.size() && wordCharAt(text, stop))))
      continue;
    if (token.lstrip)
      start = std::max(whitespaceStartBefore(text, start), segmentStart);
    if (token.rstrip)
      stop = whitespaceEndAfter(text, stop);
    if (segmentStart < start)
      out.push_back({text.substr(segmentStart, start - segmentStart), -1});
    out.push_back({text.substr(start, stop - start), token.id});
    segmentStart = stop;
    pos = stop;
  }
  if (segmentStart < text.size())
    out.push_back({text.substr(segmentStart), -1});
}

} // namespace mk::runtime::detail
