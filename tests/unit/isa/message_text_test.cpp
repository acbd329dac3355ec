//===- message_text_test.cpp - Untrusted text in one-line messages ---------===//
#include "mk/isa/message_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mk {
namespace {

TEST(MessageText, EscapesBytesOutsidePrintableAscii) {
  EXPECT_EQ(printable("a\nb\x7f\xff"), "a\\x0ab\\x7f\\xff");
  EXPECT_EQ(printable(std::string("\0x", 2)), "\\x00x");
  // Quotes and backslashes stay: regexes and tokens read better as they are.
  EXPECT_EQ(printable("\\p{L}+|'s"), "\\p{L}+|'s");
}

TEST(MessageText, CutsAtShownBytes) {
  EXPECT_EQ(printable(std::string(kMaxShownBytes, 'a')),
            std::string(kMaxShownBytes, 'a'));
  EXPECT_EQ(printable(std::string(kMaxShownBytes + 1, 'a')),
            std::string(kMaxShownBytes, 'a') + "...");
  EXPECT_EQ(printable("abcd", 4), "abcd");
  EXPECT_EQ(printable("abcde", 4), "abcd...");
  // An escape is never split: "abc" + "\x01" would be 7 bytes of 5.
  EXPECT_EQ(printable("abc\x01", 5), "abc...");
  EXPECT_EQ(printable("\x01\x02", 8), "\\x01\\x02");
  EXPECT_EQ(printable("", 0), "");
  // However hostile the text, the result is bounded.
  EXPECT_LE(printable(std::string(10000, '\xff')).size(), kMaxShownBytes + 3);
}

TEST(MessageText, QuoteWrapsThePrintableText) {
  EXPECT_EQ(quote("model.norm.weight"), "'model.norm.weight'");
  EXPECT_EQ(quote("a\tb"), "'a\\x09b'");
  EXPECT_EQ(quote("abcdef", 3), "'abc...'");
  EXPECT_EQ(quote(""), "''");
}

TEST(MessageText, FormatShape) {
  std::vector<int64_t> shape = {128, 64};
  EXPECT_EQ(formatShape(shape), "[128, 64]");
  EXPECT_EQ(formatShape({}), "[]");
  std::vector<int64_t> one = {-1};
  EXPECT_EQ(formatShape(one), "[-1]");
}

} // namespace
} // namespace mk
