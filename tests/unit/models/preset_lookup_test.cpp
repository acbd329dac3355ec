//===- preset_lookup_test.cpp - Directories, files and preset names -------===//

#include "config_test_util.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace mk::models::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::EndsWith;
using ::testing::HasSubstr;

/// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
public:
  TempDir() {
    const ::testing::TestInfo *info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("mk-models-" + std::string(info->name()) + "-" + std::to_string(getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path &path() const { return path_; }

  void write(const fs::path &relative, const std::string &text) const {
    fs::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative, std::ios::binary) << text;
  }

private:
  fs::path path_;
};

/// Sets MK_PRESETS_DIR for one scope.
class ScopedPresetsDir {
public:
  explicit ScopedPresetsDir(const fs::path &dir) {
    setenv("MK_PRESETS_DIR", dir.c_str(), 1);
  }
  ~ScopedPresetsDir() { unsetenv("MK_PRESETS_DIR"); }
};

TEST(PresetLookup, ListsTheBundledPresets) {
  std::vector<std::string> names = listPresets();
  for (const char *name :
       {"llama-3.2-1b", "llama-3.1-8b", "llama-3.1-8b-instruct", "llama-3.1-70b",
        "qwen3-8b", "tiny-llama", "tiny-qwen3", "tiny-mistral", "tiny-qwen2"})
    EXPECT_THAT(names, Contains(std::string(name)));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(PresetLookup, FindsByName) {
  std::optional<std::string> dir = findPresetDir("qwen3-8b");
  ASSERT_TRUE(dir);
  EXPECT_THAT(*dir, EndsWith("/qwen3-8b"));
  EXPECT_TRUE(fs::is_regular_file(fs::path(*dir) / "config.json"));
  EXPECT_FALSE(findPresetDir("no-such-preset"));
}

TEST(PresetLookup, NamesCannotEscapeTheSearchPath) {
  for (const char *name : {"", ".", "..", "../presets/tiny-llama", "tiny-llama/", "/etc",
                           ".hidden", "tiny llama"})
    EXPECT_FALSE(findPresetDir(name)) << name;
}

TEST(PresetLookup, LoadsDirectoryFileOrPresetName) {
  std::string dir = *findPresetDir("tiny-mistral");
  ModelConfig byName, byDir, byFile;
  ASSERT_TRUE(loadHfConfig("tiny-mistral", byName));
  ASSERT_TRUE(loadHfConfig(dir, byDir));
  ASSERT_TRUE(loadHfConfig(dir + "/config.json", byFile));
  EXPECT_EQ(byName.configHash, byDir.configHash);
  EXPECT_EQ(byName.configHash, byFile.configHash);
  EXPECT_THAT(byName.sourceName, EndsWith("tiny-mistral/config.json"));
  EXPECT_EQ(byDir.sourceName, dir + "/config.json");
}

TEST(PresetLookup, ALocalPathWinsOverAPreset) {
  TempDir tmp;
  tmp.write("llama-3.1-8b/config.json", presetText("tiny-llama"));
  fs::path cwd = fs::current_path();
  fs::current_path(tmp.path());
  ModelConfig cfg;
  mk::Status s = loadHfConfig("llama-3.1-8b", cfg);
  fs::current_path(cwd);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(cfg.hiddenSize, 64u); // the directory, not the bundled preset
  EXPECT_EQ(cfg.sourceName, "llama-3.1-8b/config.json");
}

TEST(PresetLookup, EnvironmentDirectoryComesFirst) {
  TempDir tmp;
  tmp.write("llama-3.1-8b/config.json", presetText("tiny-llama"));
  tmp.write("my-model/config.json", presetText("tiny-qwen3"));
  tmp.write("not-a-preset/readme.txt", "no config here");
  ScopedPresetsDir env(tmp.path());
  EXPECT_EQ(presetSearchPath().front(), tmp.path().lexically_normal().string());
  EXPECT_EQ(*findPresetDir("llama-3.1-8b"), (tmp.path() / "llama-3.1-8b").string());
  ModelConfig cfg;
  ASSERT_TRUE(loadHfConfig("my-model", cfg));
  EXPECT_EQ(cfg.family, Family::Qwen3);
  std::vector<std::string> names = listPresets();
  EXPECT_THAT(names, Contains(std::string("my-model")));
  EXPECT_THAT(names, Contains(std::string("tiny-llama"))); // source tree still searched
  EXPECT_THAT(names, ::testing::Not(Contains(std::string("not-a-preset"))));
  EXPECT_EQ(std::count(names.begin(), names.end(), "llama-3.1-8b"), 1);
}

TEST(PresetLookup, MissingPathListsPresets) {
  ModelConfig cfg;
  mk::Status s = loadHfConfig("no-such-model", cfg);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("no-such-model: no such file or directory, and no "
                                     "preset of that name (presets: "));
  EXPECT_THAT(s.message(), HasSubstr("tiny-llama"));
  EXPECT_FALSE(loadHfConfig("/nonexistent/dir/config.json", cfg));
  EXPECT_THAT(loadHfConfig("", cfg).message(), HasSubstr("empty model path"));
}

TEST(PresetLookup, DirectoryWithoutConfig) {
  TempDir tmp;
  ModelConfig cfg;
  EXPECT_EQ(loadHfConfig(tmp.path().string(), cfg).message(),
            tmp.path().string() + ": not a model directory (it has no config.json)");
}

TEST(PresetLookup, BadFileNamesTheFile) {
  TempDir tmp;
  tmp.write("config.json", "{\"model_type\": \"llama\",");
  ModelConfig cfg;
  mk::Status s = loadHfConfig(tmp.path().string(), cfg);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(),
              ::testing::StartsWith((tmp.path() / "config.json").string() +
                                    ": invalid JSON: parse error at line 1"));
  tmp.write("empty/config.json", "");
  EXPECT_THAT(loadHfConfig((tmp.path() / "empty").string(), cfg).message(),
              EndsWith("empty/config.json: invalid JSON: the file is empty"));
}

TEST(PresetLookup, HugeFileRefusedWithoutReadingIt) {
  TempDir tmp;
  fs::path file = tmp.path() / "config.json";
  std::ofstream(file).put('{');
  fs::resize_file(file, uintmax_t{1} << 34); // sparse: no disk used
  ModelConfig cfg;
  EXPECT_THAT(loadHfConfig(file.string(), cfg).message(),
              HasSubstr("17179869184 bytes is too large for a config.json"));
}

TEST(PresetLookup, ConfigPathIsADirectory) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "model" / "config.json");
  ModelConfig cfg;
  EXPECT_THAT(loadHfConfig((tmp.path() / "model").string(), cfg).message(),
              HasSubstr("config.json: not a regular file"));
}

} // namespace
} // namespace mk::models::testing
