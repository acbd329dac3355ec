//===- tokenizer_regex.cpp - PCRE2 patterns for pre-tokenizer splits ------===//

#include "tokenizer_regex.h"

#include "tokenizer_unicode.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace mk::runtime::detail {

struct Regex::Code {
  pcre2_code *code = nullptr;
  bool jit = false;
  ~Code() { pcre2_code_free(code); }
};

namespace {

struct MatchData {
  explicit MatchData(const pcre2_code *code)
      : data(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(data); }
  MatchData(const MatchData &) = delete;
  MatchData &operator=(const MatchData &) = delete;
  pcre2_match_data *data;
};

std::string pcre2Message(int code) {
  PCRE2_UCHAR buffer[256];
  int len = pcre2_get_error_message(code, buffer, sizeof buffer);
  if (len < 0)
    return "PCRE2 error " + std::to_string(code);
  return std::string(reinterpret_cast<const char *>(buffer), size_t(len));
}

} // namespace

bool Regex::compile(std::string_view pattern, bool literal, Regex &out,
                    std::string &error) {
  // PCRE2_MATCH_INVALID_UTF: subjects are arbitrary bytes; invalid sequences are
  // simply never matched. PCRE2_LITERAL admits UTF but not UCP.
  uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
  options |= literal ? PCRE2_LITERAL : PCRE2_UCP;
  int errorCode = 0;
  PCRE2_SIZE errorOffset = 0;
  pcre2_code *code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                    &errorCode, &errorOffset, nullptr);
  if (!code) {
    error = pcre2Message(errorCode) + " at offset " + std::to_string(errorOffset);
    return false;
  }
  auto compiled = std::make_shared<Code>();
  compiled->code = code;
  // Without JIT support (some architectures, some builds) the interpreter is used.
  compiled->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  out.code_ = std::move(compiled);
  return true;
}

bool Regex::jitCompiled() const { return code_ && code_->jit; }

Status Regex::findAll(std::string_view text, std::vector<Span> &matches) const {
  matches.clear();
  if (!code_)
    return Status::error("regex not compiled");
  MatchData md(code_->code);
  if (!md.data)
    return Status::error("out of memory for regex match data");
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t searchFrom = 0;
  bool haveLast = false;
  size_t lastMatchEnd = 0;
  while (searchFrom <= text.size()) {
    int rc =
        pcre2_match(code_->code, subject, text.size(), searchFrom, 0, md.data, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) // deep backtracking: the interpreter copes
      rc = pcre2_match(code_->code, subject, text.size(), searchFrom, PCRE2_NO_JIT,
                       md.data, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH)
      break;
    if (rc < 0)
      return Status::error("regex match failed at byte " + std::to_string(searchFrom) +
                           ": " + pcre2Message(rc));
    const PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(md.data);
    size_t begin = ovector[0], end = ovector[1];
    if (end < begin || end > text.size())
      return Status::error("regex match ends before it starts (\\K in a lookaround?)");
    if (begin == end && haveLast && lastMatchEnd == end) {
      char32_t cp;
      size_t step = decodeUtf8(text, searchFrom, cp);
      searchFrom += step ? step : 1;
      continue;
    }
    matches.push_back({begin, end});
    searchFrom = end;
    lastMatchEnd = end;
    haveLast = true;
  }
  return Status::ok();
}

} // namespace mk::runtime::detail
