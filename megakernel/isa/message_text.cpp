//===- message_text.cpp ---------------------------------------------------===//
#include "mk/isa/message_text.h"

#include <cstdio>

namespace mk {

std::string printable(std::string_view text, size_t maxBytes) {
  std::string out;
  for (unsigned char c : text) {
    bool plain = c >= 0x20 && c < 0x7f;
    if (out.size() + (plain ? 1 : 4) > maxBytes) {
      out += "...";
      break;
    }
    if (plain) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string quote(std::string_view text, size_t maxBytes) {
  // Built by appending: GCC 12 at -O3 warns falsely (-Wrestrict) on "'" + string.
  std::string out = "'";
  out.append(printable(text, maxBytes));
  out.push_back('\'');
  return out;
}

std::string formatShape(std::span<const int64_t> shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

} // namespace mk
