//===- json_text.h - Parsing JSON text without exceptions ----------------------===//
//
// safetensors headers, index files and tokenizer.json are parsed the same way: DOM
// parse with exceptions off; on failure, a SAX re-run finds where it stopped.
//===----------------------------------------------------------------------===//
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace mk::runtime::detail {

/// Parses `text` into `out`. Returns std::nullopt on success, else the byte offset
/// where the text stops being JSON. A NUL byte is an error at its offset: nlohmann's
/// parser treats it as the end of input, which would accept "{...}\0junk".
inline std::optional<size_t> parseJsonText(std::string_view text, nlohmann::json &out) {
  if (size_t nul = text.find('\0'); nul != std::string_view::npos)
    return nul;
  out = nlohmann::json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                              /*allow_exceptions=*/false);
  if (!out.is_discarded())
    return std::nullopt;
  // Records the first parse error of a SAX run and accepts everything else.
  struct ErrorOffset final : nlohmann::json_sax<nlohmann::json> {
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
                     const nlohmann::detail::exception &) override {
      position = bytesRead;
      return false;
    }
    std::size_t position = 0;
  } capture;
  nlohmann::json::sax_parse(text.begin(), text.end(), &capture);
  return std::min(capture.position, text.size());
}

} // namespace mk::runtime::detail
