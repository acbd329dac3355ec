// writeNpyF32: the .npy v1.0 header byte for byte, the data after it, and atomic
// replacement (a failed write leaves the old file and no temporary behind).
#include "safetensors_writer.h"

#include "mk/runtime/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

using namespace mk;
using namespace mk::runtime;
using namespace mk::runtime::test;

namespace {

/// A parsed .npy file.
struct Npy {
  uint8_t major = 0, minor = 0;
  std::string dict;
  size_t dataOffset = 0;
  std::vector<float> data;
};

Npy parseNpy(const std::vector<uint8_t> &bytes) {
  Npy n;
  EXPECT_GE(bytes.size(), 10u);
  if (bytes.size() < 10)
    return n;
  EXPECT_EQ(std::memcmp(bytes.data(), "\x93NUMPY", 6), 0);
  n.major = bytes[6];
  n.minor = bytes[7];
  const size_t headerLen = size_t(bytes[8]) | size_t(bytes[9]) << 8;
  n.dataOffset = 10 + headerLen;
  EXPECT_LE(n.dataOffset, bytes.size());
  n.dict.assign(bytes.begin() + 10, bytes.begin() + long(n.dataOffset));
  n.data.resize((bytes.size() - n.dataOffset) / 4);
  if (!n.data.empty())
    std::memcpy(n.data.data(), bytes.data() + n.dataOffset, n.data.size() * 4);
  return n;
}

std::vector<std::string> filesIn(const std::filesystem::path &dir) {
  std::vector<std::string> names;
  for (const auto &e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

} // namespace

TEST(Npy, HeaderBytesAreExact) {
  TempDir dir;
  const std::vector<float> data = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f};
  ASSERT_TRUE(writeNpyF32(dir.str("a.npy"), data, {2, 3}));
  const std::vector<uint8_t> bytes = readBytes(dir / "a.npy");
  // What numpy.save writes for np.array(..., dtype='<f4').reshape(2, 3).
  std::string expected = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  // 10 + 59 + '\n' = 70 bytes, padded with spaces to 128 (numpy aligns data to 64).
  ASSERT_EQ(expected.size(), 59u);
  expected += std::string(128 - 10 - expected.size() - 1, ' ') + "\n";
  ASSERT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 10),
            std::string("\x93NUMPY\x01\x00", 8) + char(expected.size()) + '\0');
  Npy n = parseNpy(bytes);
  EXPECT_EQ(n.major, 1);
  EXPECT_EQ(n.minor, 0);
  EXPECT_EQ(n.dict, expected);
  EXPECT_EQ(n.dataOffset % 64, 0u);
  EXPECT_EQ(n.data, data);
}

TEST(Npy, ShapesOfEveryRank) {
  TempDir dir;
  struct Case {
    std::vector<size_t> shape;
    const char *text;
  } cases[] = {{{}, "()"},
               {{5}, "(5,)"},
               {{0}, "(0,)"},
               {{2, 0, 3}, "(2, 0, 3)"},
               {{1, 2, 1, 3}, "(1, 2, 1, 3)"},
               {{151936}, "(151936,)"}};
  for (const Case &c : cases) {
    size_t n = 1;
    for (size_t d : c.shape)
      n *= d;
    std::vector<float> data(n);
    for (size_t i = 0; i < n; ++i)
      data[i] = float(i) * 0.5f - 3.0f;
    ASSERT_TRUE(writeNpyF32(dir.str("x.npy"), data, c.shape)) << c.text;
    Npy npy = parseNpy(readBytes(dir / "x.npy"));
    EXPECT_EQ(npy.dict.rfind(std::string("{'descr': '<f4', 'fortran_order': False, "
                                         "'shape': ") +
                                 c.text + ", }",
                             0),
              0u)
        << npy.dict;
    EXPECT_EQ(npy.dict.back(), '\n');
    EXPECT_EQ(npy.dataOffset % 64, 0u);
    EXPECT_EQ(npy.data, data) << c.text;
    EXPECT_EQ(npyHeaderF32(c.shape).size(), npy.dataOffset);
  }
}

TEST(Npy, FailuresLeaveTheOldFileAndNoTemporary) {
  TempDir dir;
  const std::string path = dir.str("logits.npy");
  ASSERT_TRUE(writeNpyF32(path, {1, 2, 3}, {3}));
  const std::vector<uint8_t> before = readBytes(path);

  Status s = writeNpyF32(path, {1, 2, 3}, {2, 2});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), path + ": npy shape holds 4 elements but 3 were given");
  EXPECT_EQ(readBytes(path), before);

  // A directory where the file should go: the rename fails, the temporary is removed.
  std::filesystem::create_directory(dir / "taken.npy");
  std::filesystem::create_directory(dir / "taken.npy" / "x");
  s = writeNpyF32(dir.str("taken.npy"), {1}, {1});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message().rfind(dir.str("taken.npy") + ": cannot rename ", 0), 0u)
      << s.message();

  s = writeNpyF32(dir.str("no/such/dir/x.npy"), {1}, {1});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message().rfind(dir.str("no/such/dir/x.npy") + ": cannot create ", 0), 0u)
      << s.message();

  // Overwriting replaces the file whole; no temporary is left in the directory.
  ASSERT_TRUE(writeNpyF32(path, {4, 5}, {1, 2}));
  EXPECT_EQ(parseNpy(readBytes(path)).data, (std::vector<float>{4, 5}));
  EXPECT_EQ(filesIn(dir.path()), (std::vector<std::string>{"logits.npy", "taken.npy"}));
}
