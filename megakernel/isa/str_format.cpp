//===- str_format.cpp -----------------------------------------------------===//
#include "str_format.h"

#include <cstdarg>
#include <cstdio>

namespace mk::isa::detail {

std::string strFormat(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list again;
  va_copy(again, args);
  int n = std::vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  std::string out;
  if (n > 0) {
    out.resize(static_cast<size_t>(n) + 1);
    std::vsnprintf(out.data(), out.size(), fmt, again);
    out.resize(static_cast<size_t>(n));
  }
  va_end(again);
  return out;
}

} // namespace mk::isa::detail
