// SafetensorsSet: single files and sharded directories round-trip every dtype; every
// malformed input (truncated at every length, garbage, bad offsets, overlaps, unknown
// dtypes, duplicate names, missing shards) is refused with a one-line message that
// starts with the file, and never crashes.
#include "safetensors_writer.h"

#include "mk/runtime/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

using namespace mk;
using namespace mk::runtime;
using namespace mk::runtime::test;

namespace {

SafetensorsFile threeDtypes() {
  SafetensorsFile f;
  f.add(bf16Tensor("model.embed_tokens.weight", {8, 4}))
      .add(f16Tensor("model.layers.0.mlp.up_proj.weight", {3, 4}))
      .add(f32Tensor("model.norm.weight", {4}));
  return f;
}

void expectSame(const SafetensorsSet &set, const TensorSpec &spec, isa::DType dtype) {
  const SafetensorsTensor *t = set.find(spec.name);
  ASSERT_NE(t, nullptr) << spec.name;
  EXPECT_EQ(t->name, spec.name);
  EXPECT_EQ(t->dtype, dtype);
  EXPECT_EQ(t->shape, spec.shape);
  ASSERT_EQ(t->bytes, spec.bytes.size());
  EXPECT_EQ(std::memcmp(t->data, spec.bytes.data(), t->bytes), 0) << spec.name;
}

/// open() fails, and the message is exactly `expected`.
void expectError(const std::string &path, const std::string &expected) {
  SafetensorsSet set;
  Status s = SafetensorsSet::open(path, set);
  ASSERT_FALSE(s) << "opened " << path;
  EXPECT_EQ(s.message(), expected);
}

/// open() fails with a one-line message that starts with `prefix` and holds `part`.
void expectErrorWith(const std::string &path, const std::string &prefix,
                     const std::string &part) {
  SafetensorsSet set;
  Status s = SafetensorsSet::open(path, set);
  ASSERT_FALSE(s) << "opened " << path;
  EXPECT_EQ(s.message().rfind(prefix, 0), 0u) << s.message();
  EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
}

} // namespace

TEST(Safetensors, SingleFileRoundTripsEveryDtype) {
  TempDir dir;
  SafetensorsFile f = threeDtypes();
  f.add(TensorSpec{"scalar", "F32", {}, {0, 0, 128, 63}}) // 1.0f, rank 0
      .add(TensorSpec{"empty", "BF16", {0, 4}, {}});
  f.write(dir / "model.safetensors");
  SafetensorsSet set;
  Status s = SafetensorsSet::open(dir.str("model.safetensors"), set);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(set.tensors().size(), 5u); // __metadata__ is not a tensor
  EXPECT_EQ(set.find("__metadata__"), nullptr);
  expectSame(set, f.tensors[0], isa::DType::BF16);
  expectSame(set, f.tensors[1], isa::DType::F16);
  expectSame(set, f.tensors[2], isa::DType::F32);
  expectSame(set, f.tensors[3], isa::DType::F32);
  EXPECT_EQ(set.find("empty")->bytes, 0u);
  EXPECT_EQ(set.find("model.norm.weight")->file, dir.str("model.safetensors"));
  EXPECT_EQ(set.files(), std::vector<std::string>{dir.str("model.safetensors")});
  EXPECT_EQ(set.mappedBytes(), f.bytes().size());
  EXPECT_EQ(set.find("nope"), nullptr);
}

TEST(Safetensors, DirectoryFindsModelSafetensorsOrTheOnlyFile) {
  TempDir dir;
  SafetensorsFile f = threeDtypes();
  f.write(dir / "weights-v1.safetensors");
  SafetensorsSet set;
  Status s = SafetensorsSet::open(dir.path().string(), set);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(set.files(), std::vector<std::string>{dir.str("weights-v1.safetensors")});
  EXPECT_EQ(set.source(), dir.path().string());

  // A second file is ambiguous, until model.safetensors says which.
  f.write(dir / "other.safetensors");
  expectErrorWith(dir.path().string(), dir.path().string() + ": 2 .safetensors files",
                  "no model.safetensors.index.json");
  f.write(dir / "model.safetensors");
  s = SafetensorsSet::open(dir.path().string(), set);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(set.files(), std::vector<std::string>{dir.str("model.safetensors")});
}

TEST(Safetensors, ShardedDirectoryUsesTheIndex) {
  TempDir dir;
  SafetensorsFile a, b;
  a.add(bf16Tensor("model.embed_tokens.weight", {8, 4}))
      .add(f16Tensor("model.layers.0.mlp.up_proj.weight", {3, 4}));
  b.add(f32Tensor("model.norm.weight", {4})).add(bf16Tensor("lm_head.weight", {8, 4}));
  a.write(dir / "model-00001-of-00002.safetensors");
  b.write(dir / "model-00002-of-00002.safetensors");
  writeBytes(dir / "model.safetensors.index.json", [] {
    std::string s = R"({"metadata": {"total_size": 1},
      "weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                     "model.layers.0.mlp.up_proj.weight": "model-00001-of-00002.safetensors",
                     "model.norm.weight": "model-00002-of-00002.safetensors",
                     "lm_head.weight": "model-00002-of-00002.safetensors"}})";
    return std::vector<uint8_t>(s.begin(), s.end());
  }());
  // A stray file next to the shards is not read when there is an index.
  writeBytes(dir / "model.safetensors", {1, 2, 3});

  for (std::string path :
       {dir.path().string(), dir.str("model.safetensors.index.json")}) {
    SafetensorsSet set;
    Status s = SafetensorsSet::open(path, set);
    ASSERT_TRUE(s) << s.message();
    EXPECT_EQ(set.files().size(), 2u);
    EXPECT_EQ(set.tensors().size(), 4u);
    expectSame(set, a.tensors[0], isa::DType::BF16);
    expectSame(set, a.tensors[1], isa::DType::F16);
    expectSame(set, b.tensors[0], isa::DType::F32);
    expectSame(set, b.tensors[1], isa::DType::BF16);
    EXPECT_EQ(set.find("lm_head.weight")->file,
              dir.str("model-00002-of-00002.safetensors"));
  }
}

TEST(Safetensors, MoveKeepsTensorsValid) {
  TempDir dir;
  SafetensorsFile f = threeDtypes();
  f.write(dir / "model.safetensors");
  SafetensorsSet a;
  ASSERT_TRUE(SafetensorsSet::open(dir.str("model.safetensors"), a));
  const uint8_t *data = a.find("model.norm.weight")->data;
  SafetensorsSet b(std::move(a));
  SafetensorsSet c;
  c = std::move(b);
  ASSERT_NE(c.find("model.norm.weight"), nullptr);
  EXPECT_EQ(c.find("model.norm.weight")->data, data);
  expectSame(c, f.tensors[2], isa::DType::F32);
}

TEST(Safetensors, FailedOpenLeavesTheSetUnchanged) {
  TempDir dir;
  threeDtypes().write(dir / "model.safetensors");
  SafetensorsSet set;
  ASSERT_TRUE(SafetensorsSet::open(dir.str("model.safetensors"), set));
  ASSERT_FALSE(SafetensorsSet::open(dir.str("missing.safetensors"), set));
  EXPECT_NE(set.find("model.norm.weight"), nullptr);
}

TEST(Safetensors, TruncatedAtEveryLengthIsRefused) {
  TempDir dir;
  std::vector<uint8_t> full = threeDtypes().bytes();
  const std::string path = dir.str("model.safetensors");
  uint64_t headerBytes = 0;
  for (int i = 7; i >= 0; --i)
    headerBytes = (headerBytes << 8) | full[size_t(i)];
  const uint64_t headerEnd = 8 + headerBytes;
  for (size_t len = 0; len < full.size(); ++len) {
    writeBytes(path, std::vector<uint8_t>(full.begin(), full.begin() + long(len)));
    SCOPED_TRACE(len);
    if (len < 8)
      expectError(path, path +
                            ": truncated: the 8-byte header length is cut off (the "
                            "file has " +
                            std::to_string(len) + " bytes)");
    else if (len < headerEnd)
      expectError(path, path + ": truncated: the header ends at byte " +
                            std::to_string(headerEnd) + " but the file has " +
                            std::to_string(len));
    else
      expectErrorWith(path, path + ": truncated: tensor '",
                      "' ends at byte " /* some tensor */);
  }
  // The last tensor is model.norm.weight (4 f32): cut its last byte.
  writeBytes(path, std::vector<uint8_t>(full.begin(), full.end() - 1));
  expectError(path, path + ": truncated: tensor 'model.norm.weight' ends at byte " +
                        std::to_string(full.size()) + " but the file has " +
                        std::to_string(full.size() - 1));
}

TEST(Safetensors, HeaderLengthBeyondTheFile) {
  TempDir dir;
  const std::string path = dir.str("x.safetensors");
  writeRaw(path, "{}", {}, 1000000);
  expectError(path, path + ": truncated: the header ends at byte 1000008 but the file "
                           "has 10");
  writeRaw(path, "{}", {}, uint64_t(1) << 62);
  expectError(path, path + ": header length 4611686018427387904 is over the 100 MiB "
                           "limit: not a safetensors file");
  writeRaw(path, "{}", {}, UINT64_MAX - 1);
  expectErrorWith(path, path + ": header length ", "not a safetensors file");
}

TEST(Safetensors, GarbageHeaderIsRefused) {
  TempDir dir;
  const std::string path = dir.str("x.safetensors");
  const std::string cut = "{\"a\": {\"dtype\": \"F32\", ";
  writeRaw(path, cut, {});
  expectErrorWith(path, path + ": invalid JSON header (parse error near byte ",
                  " of " + std::to_string(cut.size()) + ")");
  writeRaw(path, "[1, 2, 3]", {});
  expectError(path, path + ": the header is not a JSON object");
  writeRaw(path, "{\"a\": 5}", {});
  expectError(path, path + ": tensor 'a': expected an object with dtype, shape and "
                           "data_offsets");
  writeRaw(path, "{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", {0, 0, 0, 0});
  expectError(path, path + ": tensor 'a' has no dtype string");
  writeRaw(path, "{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", {0, 0, 0, 0});
  expectError(path, path + ": tensor 'a' has no shape array");
  writeRaw(path,
           "{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}",
           {0, 0, 0, 0});
  expectError(path, path + ": tensor 'a': shape holds -1; dimensions are non-negative "
                           "integers");
  writeRaw(path,
           "{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}",
           {0, 0, 0, 0});
  expectErrorWith(path, path + ": tensor 'a': shape holds 1.5", "non-negative integers");
  writeRaw(path,
           "{\"a\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], "
           "\"data_offsets\": [0, 4]}}",
           {0, 0, 0, 0});
  expectError(path, path + ": tensor 'a': shape [4294967296, 4294967296] has more bytes "
                           "than 2^64");
  // Names with control bytes stay on one line.
  writeRaw(path, "{\"a\\nb\": 1}", {});
  expectError(path, path + ": tensor 'a\\x0ab': expected an object with dtype, shape and "
                           "data_offsets");
}

TEST(Safetensors, BadOffsetsAreRefused) {
  TempDir dir;
  const std::string path = dir.str("x.safetensors");
  const std::vector<uint8_t> data(16, 0);
  auto header = [](const std::string &offsets) {
    return "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": " + offsets +
           "}}";
  };
  writeRaw(path, header("[8, 4]"), data);
  expectError(path, path + ": tensor 'w' has data_offsets [8, 4] that end before they "
                           "begin");
  writeRaw(path, header("[0, 12]"), data);
  expectError(path, path + ": tensor 'w' has data_offsets [0, 12] of 12 bytes, but shape "
                           "[2] of F32 needs 8");
  writeRaw(path, header("[0]"), data);
  expectError(path, path + ": tensor 'w' has no data_offsets [begin, end] of two "
                           "non-negative integers");
  writeRaw(path, header("[-8, 0]"), data);
  expectErrorWith(path, path + ": tensor 'w' has no data_offsets", "non-negative");
  writeRaw(path, header("\"0-8\""), data);
  expectErrorWith(path, path + ": tensor 'w' has no data_offsets", "non-negative");
  const std::string h = header("[12, 20]");
  writeRaw(path, h, data);
  expectError(path, path + ": truncated: tensor 'w' ends at byte " +
                        std::to_string(8 + h.size() + 20) + " but the file has " +
                        std::to_string(8 + h.size() + 16));
  // Offsets near 2^64 must not wrap around.
  writeRaw(path, header("[18446744073709551608, 18446744073709551615]"), data);
  expectErrorWith(path, path + ": tensor 'w' has data_offsets", "needs 8");
  writeRaw(path, header("[18446744073709551600, 18446744073709551608]"), data);
  expectError(path, path +
                        ": truncated: tensor 'w' ends at byte past 2^64 but the file "
                        "has " +
                        std::to_string(8 +
                                       header("[18446744073709551600, "
                                              "18446744073709551608]")
                                           .size() +
                                       16));
}

TEST(Safetensors, OverlappingTensorsAreRefused) {
  TempDir dir;
  const std::string path = dir.str("x.safetensors");
  writeRaw(path,
           R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
               "b": {"dtype": "BF16", "shape": [2], "data_offsets": [6, 10]},
               "c": {"dtype": "BF16", "shape": [0], "data_offsets": [2, 2]}})",
           std::vector<uint8_t>(16, 0));
  expectError(path, path + ": tensors 'a' [0, 8) and 'b' [6, 10) overlap");
  // Touching is fine; an empty tensor inside another is fine.
  writeRaw(path,
           R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
               "b": {"dtype": "BF16", "shape": [2], "data_offsets": [8, 12]},
               "c": {"dtype": "BF16", "shape": [0], "data_offsets": [2, 2]}})",
           std::vector<uint8_t>(16, 0));
  SafetensorsSet set;
  Status s = SafetensorsSet::open(path, set);
  EXPECT_TRUE(s) << s.message();
}

TEST(Safetensors, UnsupportedDtypeNamesTheTensor) {
  TempDir dir;
  const std::string path = dir.str("x.safetensors");
  for (std::string dtype : {"I64", "F64", "F8_E4M3", "bf16", "BOOL"}) {
    writeRaw(path,
             "{\"model.layers.0.mlp.up_proj.weight\": {\"dtype\": \"" + dtype +
                 "\", \"shape\": [1], \"data_offsets\": [0, 8]}}",
             std::vector<uint8_t>(8, 0));
    expectError(path, path + ": tensor 'model.layers.0.mlp.up_proj.weight' has dtype " +
                          dtype + "; only BF16, F16 and F32 are supported");
  }
}

TEST(Safetensors, ShardErrors) {
  TempDir dir;
  SafetensorsFile a, b;
  a.add(bf16Tensor("x", {2})).add(bf16Tensor("y", {2}));
  b.add(bf16Tensor("y", {2}));
  a.write(dir / "s1.safetensors");
  b.write(dir / "s2.safetensors");
  const std::string index = dir.str("model.safetensors.index.json");
  auto writeIndex = [&](const std::string &text) {
    writeBytes(index, std::vector<uint8_t>(text.begin(), text.end()));
  };

  writeIndex(R"({"weight_map": {"x": "s1.safetensors", "y": "s2.safetensors"}})");
  expectError(dir.path().string(), dir.str("s2.safetensors") +
                                       ": tensor 'y' is also in " +
                                       dir.str("s1.safetensors"));

  writeIndex(R"({"weight_map": {"x": "s1.safetensors", "z": "s3.safetensors"}})");
  expectError(dir.path().string(), dir.str("s3.safetensors") +
                                       ": no such file (model.safetensors.index.json "
                                       "maps tensor 'z' to it)");

  SafetensorsFile c;
  c.add(bf16Tensor("z", {2}));
  c.write(dir / "s3.safetensors");
  writeIndex(R"({"weight_map": {"x": "s1.safetensors", "z": "s1.safetensors",
                                "q": "s3.safetensors"}})");
  expectError(dir.path().string(),
              index + ": maps tensor 'q' to 's3.safetensors' but no shard holds it");
  writeIndex(R"({"weight_map": {"x": "s1.safetensors", "z": "s1.safetensors"}})");
  expectError(dir.path().string(),
              index + ": maps tensor 'z' to 's1.safetensors' but no shard holds it");

  writeIndex(R"({"weight_map": {"x": "s1.safetensors", "z": "s3.safetensors"}})");
  SafetensorsSet set;
  Status s = SafetensorsSet::open(dir.path().string(), set);
  EXPECT_TRUE(s) << s.message();

  writeIndex(R"({"weight_map": {"x": 3}})");
  expectError(dir.path().string(), index + ": weight_map entry 'x' is not a file name");
  writeIndex(R"({"weights": {}})");
  expectError(dir.path().string(), index + ": no \"weight_map\" object");
  writeIndex(R"({"weight_map": {}})");
  expectError(dir.path().string(), index + ": weight_map is empty");
  writeIndex(R"({"weight_map": {"x": "/etc/passwd"}})");
  expectErrorWith(dir.path().string(), index + ": weight_map entry 'x' names an absolute",
                  "relative to the index");
  writeIndex("{\"weight_map\": ");
  expectErrorWith(dir.path().string(), index + ": invalid JSON ",
                  "parse error near byte");
  // A corrupt shard is reported by its own name.
  writeIndex(R"({"weight_map": {"x": "s1.safetensors", "z": "s3.safetensors"}})");
  writeBytes(dir / "s3.safetensors", {1, 0, 0, 0});
  expectErrorWith(dir.path().string(), dir.str("s3.safetensors") + ": truncated", "");
}

TEST(Safetensors, PathErrors) {
  TempDir dir;
  expectError(dir.str("nope"), dir.str("nope") + ": no such file or directory");
  expectError(dir.path().string(),
              dir.path().string() + ": no .safetensors file (expected model.safetensors "
                                    "or model.safetensors.index.json)");
  writeBytes(dir / "empty.safetensors", {});
  expectError(dir.str("empty.safetensors"),
              dir.str("empty.safetensors") + ": truncated: the 8-byte header length is "
                                             "cut off (the file has 0 bytes)");
}

TEST(Safetensors, RandomCorruptionNeverCrashes) {
  TempDir dir;
  const std::string path = dir.str("x.safetensors");
  const std::vector<uint8_t> full = threeDtypes().bytes();
  std::mt19937 rng(7);
  int refused = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<uint8_t> bytes = full;
    // Flip a few bytes, mostly in the header where they matter.
    int flips = 1 + int(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      size_t at =
          rng() % 2 ? rng() % std::min<size_t>(bytes.size(), 200) : rng() % bytes.size();
      bytes[at] = uint8_t(rng());
    }
    writeBytes(path, bytes);
    SafetensorsSet set;
    Status s = SafetensorsSet::open(path, set);
    if (!s) {
      ++refused;
      EXPECT_EQ(s.message().rfind(path + ": ", 0), 0u) << s.message();
      EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
    } else {
      for (const SafetensorsTensor &t : set.tensors()) // every tensor is readable
        for (uint64_t i = 0; i < t.bytes; ++i)
          (void)*(volatile const uint8_t *)(t.data + i);
    }
  }
  EXPECT_GT(refused, 100);
}
