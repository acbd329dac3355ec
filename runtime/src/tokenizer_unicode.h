//===- tokenizer_unicode.h - UTF-8, the byte-level alphabet, NFC ----------===//
//
// Private to the tokenizer. Text here is any bytes: decoders report invalid
// UTF-8 instead of assuming it away.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mk::runtime::detail {

/// Length of the valid UTF-8 sequence at `text[pos]` and its code point in `cp`;
/// 0 when the bytes there are not one (overlong, surrogate, > U+10FFFF, cut).
size_t decodeUtf8(std::string_view text, size_t pos, char32_t &cp);

/// Appends `cp` (at most U+10FFFF) as UTF-8.
void appendUtf8(std::string &out, char32_t cp);

/// The longest prefix of `bytes` that does not end inside a multi-byte sequence
/// still waiting for continuation bytes. Invalid bytes count as complete.
size_t completeUtf8Prefix(std::string_view bytes);

/// Whether `bytes` is the start of one valid UTF-8 sequence, cut short (E4 B8
/// is; E4 41, ED A0 and a lone continuation byte are not).
bool isUtf8Prefix(std::string_view bytes);

/// GPT-2's bytes_to_unicode: printable bytes (! to ~, ¡ to ¬, ® to ÿ) map to
/// themselves, the other 68 to U+0100, U+0101, ... in byte order.
char32_t byteToChar(unsigned char byte);
/// The inverse; -1 for a code point that is not in the byte-level alphabet.
int charToByte(char32_t cp);
/// Every byte of `raw` as its byte-level character, in UTF-8.
std::string byteLevelEncode(std::string_view raw);

/// Unicode White_Space (what Rust's and Oniguruma's \s match).
bool isUnicodeWhitespace(char32_t cp);
/// A \w character: a letter, mark, decimal digit, letter number or connector.
bool isWordChar(char32_t cp);

/// Unicode NFC of `text`. Runs of invalid UTF-8 are copied unchanged and split
/// the text: each valid run is normalized on its own.
std::string toNfc(std::string_view text);

} // namespace mk::runtime::detail
