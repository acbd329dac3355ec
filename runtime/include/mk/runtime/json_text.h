//===- json_text.h - Parsing JSON text without exceptions -----------------===//
//
// config.json, tokenizer.json, safetensors headers and index files are parsed the same
// way: a DOM parse with exceptions off; on failure, a SAX re-run says where and why.
// Its own small library (mk_json_text) so that models/ can use it without the rest of
// the runtime, and the ISA library stays free of nlohmann.
//===----------------------------------------------------------------------===//
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mk::runtime {

/// Where and why a text is not JSON.
struct JsonTextError {
  /// The byte the parser stopped at (text.size() when the text ends too early).
  size_t offset = 0;
  /// One printable line naming the position: "parse error at line 3, column 17:
  /// syntax error while parsing value - unexpected ','; expected ...", "at line 1,
  /// column 80: number overflow parsing '1e999'", "NUL byte at offset 7", "the file
  /// is empty".
  std::string message;
};

/// Parses `text` into `out`; std::nullopt on success. A NUL byte is an error at its
/// offset: nlohmann's parser treats it as the end of input, which would accept
/// "{...}\0junk".
std::optional<JsonTextError> parseJsonText(std::string_view text, nlohmann::json &out);

} // namespace mk::runtime
