//===- message_text.h - Untrusted names and shapes in one-line messages ----===//
//
// Private to runtime/. Tensor names come from files and may hold any byte; a message
// must stay one printable line of bounded length.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

namespace mk::runtime::detail {

/// `text` with control and non-ASCII bytes as \xNN, cut to `maxBytes` ("...").
inline std::string printable(std::string_view text, size_t maxBytes = 200) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= maxBytes) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

/// 'name', printable.
inline std::string quoteName(std::string_view name) {
  // Built by appending: GCC 12 at -O3 warns falsely (-Wrestrict) on "'" + string.
  std::string out = "'";
  out.append(printable(name));
  out.push_back('\'');
  return out;
}

/// "[128, 64]".
inline std::string formatShape(std::span<const int64_t> shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

} // namespace mk::runtime::detail
