//===- config_robustness_test.cpp - Bad bytes give errors, never crashes --===//

#include "config_test_util.h"

#include <random>
#include <string>

namespace mk::models::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kName = "model/config.json";

/// Parses `text`; whatever happens, an error must be one line naming the file.
bool parsesOk(std::string_view text) {
  ModelConfig cfg;
  mk::Status s = parseHfConfig(text, kName, cfg);
  if (!s) {
    EXPECT_THAT(s.message(), StartsWith(kName + ": "));
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  }
  return s.isOk();
}

TEST(ConfigRobustness, EmptyAndBlank) {
  ModelConfig cfg;
  EXPECT_EQ(parseHfConfig("", kName, cfg).message(),
            kName + ": invalid JSON: the file is empty");
  mk::Status s = parseHfConfig("  \n\t ", kName, cfg);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("invalid JSON: parse error at line 2"));
  for (const char *text : {"null", "true", "42", "\"llama\"", "{}", "[]"})
    EXPECT_FALSE(parsesOk(text)) << text;
}

// nlohmann's parser treats NUL as the end of input; a valid config followed by NUL and
// junk, or starting with NUL, must still be refused.
TEST(ConfigRobustness, NulBytesAreRefused) {
  ModelConfig cfg;
  std::string valid = presetText("tiny-llama");
  ASSERT_TRUE(parsesOk(valid));
  std::string trailing = valid + std::string("\0junk", 5);
  mk::Status s = parseHfConfig(trailing, kName, cfg);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(),
              HasSubstr("NUL byte at offset " + std::to_string(valid.size())));
  EXPECT_FALSE(parsesOk(std::string("\0{}", 3)));
}

TEST(ConfigRobustness, EveryTruncationOfEveryPresetFails) {
  for (const std::string &name : listPresets()) {
    SCOPED_TRACE(name);
    std::string text = presetText(name);
    ASSERT_FALSE(text.empty());
    size_t end = text.rfind('}') + 1; // trailing whitespace may go
    for (size_t len = 0; len < text.size(); ++len)
      EXPECT_EQ(parsesOk(std::string_view(text).substr(0, len)), len >= end) << len;
  }
}

TEST(ConfigRobustness, TruncationMessageNamesAPosition) {
  std::string text = presetText("llama-3.1-8b");
  ModelConfig cfg;
  mk::Status s = parseHfConfig(text.substr(0, text.size() / 2), kName, cfg);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("invalid JSON: parse error at line"));
  EXPECT_THAT(s.message(), HasSubstr("column"));
}

TEST(ConfigRobustness, GarbageBytes) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> byte(0, 255), length(1, 512);
  for (int i = 0; i < 500; ++i) {
    std::string text(length(rng), '\0');
    for (char &c : text)
      c = static_cast<char>(byte(rng));
    EXPECT_FALSE(parsesOk(text));
  }
  // Invalid UTF-8 inside a string and control bytes are reported, not echoed raw.
  ModelConfig cfg;
  mk::Status s = parseHfConfig("{\"model_type\": \"\xff\xfe\x01\"}", kName, cfg);
  ASSERT_FALSE(s);
  for (unsigned char c : s.message())
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "unprintable byte " << int(c);
}

TEST(ConfigRobustness, RandomEditsOfARealConfig) {
  std::mt19937 rng(42);
  const std::string printable = "{}[]\":,-+.0123456789eEtruefalsn \n\\abc\x01\xff";
  for (const char *name : {"llama-3.1-8b", "qwen3-8b", "tiny-mistral"}) {
    const std::string original = presetText(name);
    int ok = 0;
    for (int i = 0; i < 2000; ++i) {
      std::string text = original;
      int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !text.empty(); ++e) {
        size_t pos = rng() % text.size();
        char c = printable[rng() % printable.size()];
        switch (rng() % 3) {
        case 0:
          text[pos] = c;
          break;
        case 1:
          text.erase(pos, 1 + rng() % 8);
          break;
        default:
          text.insert(pos, 1, c);
          break;
        }
      }
      ok += parsesOk(text);
    }
    // Edits inside numbers or whitespace can stay valid; most break something.
    EXPECT_LT(ok, 2000) << name;
  }
}

TEST(ConfigRobustness, DeepNestingIsNotAStackOverflow) {
  const int depth = 100000;
  std::string nested =
      "{\"model_type\": " + std::string(depth, '[') + std::string(depth, ']') + "}";
  EXPECT_THAT(
      [&] {
        ModelConfig cfg;
        return parseHfConfig(nested, kName, cfg).message();
      }(),
      HasSubstr("'model_type' must be a string, got array"));
  std::string unterminated = std::string(depth, '[');
  EXPECT_FALSE(parsesOk(unterminated));
}

TEST(ConfigRobustness, OversizedInputRefusedBeforeParsing) {
  std::string huge(Limits::kMaxConfigBytes + 1, ' ');
  ModelConfig cfg;
  EXPECT_THAT(parseHfConfig(huge, kName, cfg).message(),
              HasSubstr("is too large for a config.json"));
}

} // namespace
} // namespace mk::models::testing
