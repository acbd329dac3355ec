//===- str_format.h - One-line message building for the ISA library -------===//
#pragma once

// Messages built with strFormat quote names with mk::quote.
#include "mk/isa/message_text.h"

#include <string>

namespace mk::isa::detail {

/// printf into a std::string (the ISA library does not depend on fmt).
[[gnu::format(printf, 1, 2)]] std::string strFormat(const char *fmt, ...);

} // namespace mk::isa::detail
