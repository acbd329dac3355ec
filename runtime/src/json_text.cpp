//===- json_text.cpp ------------------------------------------------------===//
#include "mk/runtime/json_text.h"

#include "mk/isa/message_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace mk::runtime {
namespace {

/// Records the first parse error of a SAX run and accepts everything else.
class ParseErrorCapture final : public nlohmann::json_sax<nlohmann::json> {
public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t &) override { return true; }
  bool string(string_t &) override { return true; }
  bool binary(binary_t &) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t &) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t bytesRead, const std::string &,
                   const nlohmann::detail::exception &ex) override {
    bytesRead_ = bytesRead;
    message_ = ex.what();
    return false;
  }

  /// nlohmann counts the byte it stopped at (or the end of input) as read.
  size_t offset(size_t textSize) const {
    return std::min(bytesRead_ ? bytesRead_ - 1 : 0, textSize);
  }
  const std::string &message() const { return message_; }

private:
  size_t bytesRead_ = 0;
  std::string message_;
};

/// nlohmann's messages start with "[json.exception.parse_error.101] " and quote the
/// last token read, which can be any bytes: one printable line, cut where a long
/// token would make it long (the reason's own words take under 100 bytes).
std::string cleanReason(std::string message) {
  if (!message.empty() && message.front() == '[') {
    size_t close = message.find("] ");
    if (close != std::string::npos)
      message.erase(0, close + 2);
  }
  constexpr size_t kMaxReasonBytes = 240;
  return printable(message, kMaxReasonBytes);
}

} // namespace

std::optional<JsonTextError> parseJsonText(std::string_view text, nlohmann::json &out) {
  if (size_t nul = text.find('\0'); nul != std::string_view::npos)
    return JsonTextError{nul, "NUL byte at offset " + std::to_string(nul)};
  out = nlohmann::json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                              /*allow_exceptions=*/false);
  if (!out.is_discarded())
    return std::nullopt;
  if (text.empty())
    return JsonTextError{0, "the file is empty"};
  ParseErrorCapture capture;
  nlohmann::json::sax_parse(text.begin(), text.end(), &capture);
  JsonTextError error{capture.offset(text.size()), capture.message().empty()
                                                       ? std::string("parse error")
                                                       : cleanReason(capture.message())};
  // Syntax errors say "parse error at line L, column C: ..."; others (number
  // overflow) do not. Columns count bytes from 1, as nlohmann's do.
  if (!error.message.starts_with("parse error at line ")) {
    std::string_view before = text.substr(0, error.offset);
    size_t line = 1 + std::count(before.begin(), before.end(), '\n');
    size_t lineStart = before.rfind('\n');
    size_t column =
        before.size() - (lineStart == std::string_view::npos ? 0 : lineStart + 1) + 1;
    error.message = "at line " + std::to_string(line) + ", column " +
                    std::to_string(column) + ": " + error.message;
  }
  return error;
}

} // namespace mk::runtime
