//===- json_text_test.cpp - JSON text errors: where and why, on one line ---===//
#include "mk/runtime/json_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace mk::runtime {
namespace {

using testing::HasSubstr;
using testing::StartsWith;

std::optional<JsonTextError> parse(std::string_view text) {
  nlohmann::json json;
  return parseJsonText(text, json);
}

TEST(JsonText, ValidTextParses) {
  nlohmann::json json;
  ASSERT_FALSE(parseJsonText("{\"a\": [1, 2]}", json));
  EXPECT_EQ(json["a"][1], 2);
}

TEST(JsonText, SyntaxErrorNamesTheByteLineAndColumn) {
  // The stray ',' is byte 9: line 2, column 8.
  std::optional<JsonTextError> e = parse("{\n  \"a\": ,\n}");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->offset, 9u);
  EXPECT_EQ(e->message, "parse error at line 2, column 8: syntax error while parsing "
                        "value - unexpected ','; expected '[', '{', or a literal");
}

TEST(JsonText, TruncatedTextStopsAtItsEnd) {
  std::string text = "{\"a\": [1, 2";
  std::optional<JsonTextError> e = parse(text);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->offset, text.size());
  EXPECT_THAT(e->message, StartsWith("parse error at line 1, column 12: "));
}

TEST(JsonText, ErrorsWithoutAPositionGetOne) {
  // nlohmann says only "number overflow parsing '1e999'".
  std::optional<JsonTextError> e = parse("{\n\"a\":\n 1e999}");
  ASSERT_TRUE(e);
  EXPECT_THAT(e->message, StartsWith("at line 3, column "));
  EXPECT_THAT(e->message, HasSubstr(": number overflow parsing '1e999'"));
}

TEST(JsonText, NulByteIsAnErrorAtItsOffset) {
  std::optional<JsonTextError> e = parse(std::string("{}\0junk", 7));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->offset, 2u);
  EXPECT_EQ(e->message, "NUL byte at offset 2");
}

TEST(JsonText, EmptyText) {
  std::optional<JsonTextError> e = parse("");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->offset, 0u);
  EXPECT_EQ(e->message, "the file is empty");
}

TEST(JsonText, HostileTokensStayOnePrintableLine) {
  std::string text = "[\"" + std::string(5000, '\xff') + "\n";
  std::optional<JsonTextError> e = parse(text);
  ASSERT_TRUE(e);
  EXPECT_LE(e->message.size(), 240u + 3u);
  for (unsigned char c : e->message)
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int(c);
  EXPECT_THAT(e->message, StartsWith("parse error at line 1, column "));
}

} // namespace
} // namespace mk::runtime
