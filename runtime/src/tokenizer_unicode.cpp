//===- tokenizer_unicode.cpp - UTF-8, the byte-level alphabet, NFC --------===//

#include "tokenizer_unicode.h"

#include <utf8proc.h>

#include <array>
#include <cstdint>
#include <cstdlib>

namespace mk::runtime::detail {
namespace {

struct ByteLevelTables {
  std::array<char32_t, 256> toChar{};
  std::array<int16_t, 0x144> toByte{}; // every mapped code point is below U+0144

  ByteLevelTables() {
    toByte.fill(-1);
    auto printable = [](unsigned b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    };
    char32_t next = 0x100;
    for (unsigned b = 0; b < 256; ++b) {
      char32_t cp = printable(b) ? char32_t(b) : next++;
      toChar[b] = cp;
      toByte[cp] = int16_t(b);
    }
  }
};

const ByteLevelTables &tables() {
  static const ByteLevelTables t;
  return t;
}

/// Bytes a sequence starting with `lead` needs; 0 for a byte that cannot start one.
size_t sequenceLength(unsigned char lead) {
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

bool isContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

} // namespace

size_t decodeUtf8(std::string_view text, size_t pos, char32_t &cp) {
  if (pos >= text.size())
    return 0;
  auto at = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  unsigned char lead = at(0);
  size_t len = sequenceLength(lead);
  if (len == 0 || pos + len > text.size())
    return 0;
  if (len == 1) {
    cp = lead;
    return 1;
  }
  char32_t value = lead & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) {
    if (!isContinuation(at(i)))
      return 0;
    value = (value << 6) | (at(i) & 0x3F);
  }
  static constexpr char32_t kMinimum[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kMinimum[len] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return 0;
  cp = value;
  return len;
}

void appendUtf8(std::string &out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

size_t completeUtf8Prefix(std::string_view bytes) {
  // Only the last lead byte can be waiting, and only if at most 3 bytes follow it.
  size_t n = bytes.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    unsigned char c = static_cast<unsigned char>(bytes[n - back]);
    if (isContinuation(c))
      continue;
    size_t need = sequenceLength(c);
    return need > back ? n - back : n;
  }
  return n;
}

bool isUtf8Prefix(std::string_view bytes) {
  if (bytes.empty())
    return false;
  auto at = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  size_t need = sequenceLength(at(0));
  if (need <= bytes.size())
    return false;
  for (size_t i = 1; i < bytes.size(); ++i) {
    // The second byte also rules out overlongs, surrogates and > U+10FFFF.
    unsigned char lo = 0x80, hi = 0xBF;
    if (i == 1) {
      switch (at(0)) {
      case 0xE0:
        lo = 0xA0;
        break;
      case 0xED:
        hi = 0x9F;
        break;
      case 0xF0:
        lo = 0x90;
        break;
      case 0xF4:
        hi = 0x8F;
        break;
      default:
        break;
      }
    }
    if (at(i) < lo || at(i) > hi)
      return false;
  }
  return true;
}

char32_t byteToChar(unsigned char byte) { return tables().toChar[byte]; }

int charToByte(char32_t cp) {
  return cp < tables().toByte.size() ? tables().toByte[cp] : -1;
}

std::string byteLevelEncode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() * 2);
  for (char c : raw)
    appendUtf8(out, byteToChar(static_cast<unsigned char>(c)));
  return out;
}

bool isUnicodeWhitespace(char32_t cp) {
  switch (cp) {
  case 0x09:
  case 0x0A:
  case 0x0B:
  case 0x0C:
  case 0x0D:
  case 0x20:
  case 0x85:
  case 0xA0:
  case 0x1680:
  case 0x2028:
  case 0x2029:
  case 0x202F:
  case 0x205F:
  case 0x3000:
    return true;
  default:
    return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool isWordChar(char32_t cp) {
  if (cp < 0x80)
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
           (cp >= 'A' && cp <= 'Z') || cp == '_';
  switch (utf8proc_category(utf8proc_int32_t(cp))) {
  case UTF8PROC_CATEGORY_LU:
  case UTF8PROC_CATEGORY_LL:
  case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_LO:
  case UTF8PROC_CATEGORY_MN:
  case UTF8PROC_CATEGORY_MC:
  case UTF8PROC_CATEGORY_ME:
  case UTF8PROC_CATEGORY_ND:
  case UTF8PROC_CATEGORY_NL:
  case UTF8PROC_CATEGORY_PC:
    return true;
  default:
    return cp == 0x200C || cp == 0x200D; // Join_Control
  }
}

std::string toNfc(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    // One maximal run of valid UTF-8, then one invalid byte.
    size_t end = pos;
    bool ascii = true;
    char32_t cp;
    while (end < text.size()) {
      size_t len = decodeUtf8(text, end, cp);
      if (len == 0)
        break;
      ascii = ascii && len == 1;
      end += len;
    }
    std::string_view run = text.substr(pos, end - pos);
    if (ascii || run.empty()) {
      out += run; // ASCII is always in NFC
    } else {
      utf8proc_uint8_t *normalized = nullptr;
      utf8proc_ssize_t len =
          utf8proc_map(reinterpret_cast<const utf8proc_uint8_t *>(run.data()),
                       utf8proc_ssize_t(run.size()), &normalized,
                       utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
      if (len >= 0)
        out.append(reinterpret_cast<const char *>(normalized), size_t(len));
      else
        out += run; // utf8proc refuses only what decodeUtf8 already refused
      std::free(normalized);
    }
    if (end < text.size())
      out += text[end++];
    pos = end;
  }
  return out;
}

} // namespace mk::runtime::detail
