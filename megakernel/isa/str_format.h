//===- str_format.h - One-line message building for the ISA library -------===//
#pragma once

#include <string>
#include <string_view>

namespace mk::isa::detail {

/// printf into a std::string (the ISA library does not depend on fmt).
[[gnu::format(printf, 1, 2)]] std::string strFormat(const char *fmt, ...);

/// `s` in single quotes, safe for a one-line message: bytes outside printable ASCII as
/// \xNN, and cut after 80 bytes (names read from a corrupted file can be anything).
std::string quoted(std::string_view s);

} // namespace mk::isa::detail
