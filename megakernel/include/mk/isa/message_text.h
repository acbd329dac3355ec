//===- message_text.h - Untrusted text and shapes in one-line messages -----===//
//
// Names read from plans, checkpoints, tokenizer.json and config.json may hold any
// byte; an error message that quotes them must stay one printable line of bounded
// length. Every library (ISA, runtime, models) and tool builds its messages with these.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mk {

/// Messages show at most this many bytes of an untrusted text (escapes counted).
inline constexpr size_t kMaxShownBytes = 200;

/// `text` with every byte outside printable ASCII as \xNN; once the next byte would
/// take the result past `maxBytes`, it is cut there and "..." appended. Quotes and
/// backslashes stay as they are: regexes and tokens read better unescaped.
std::string printable(std::string_view text, size_t maxBytes = kMaxShownBytes);

/// 'text', printable: "tensor 'model.norm.weight'".
std::string quote(std::string_view text, size_t maxBytes = kMaxShownBytes);

/// "[128, 64]".
std::string formatShape(std::span<const int64_t> shape);

} // namespace mk
