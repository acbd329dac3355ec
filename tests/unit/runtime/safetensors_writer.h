//===- safetensors_writer.h - Writing safetensors files in tests ----------===//
//
// The tests build their checkpoints: well-formed files through SafetensorsFile, and
// every kind of broken one through writeRaw() (any header text, any bytes after it).
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mk::runtime::test {

/// One tensor to write: dtype is the safetensors string ("BF16", "F16", "F32", ...).
struct TensorSpec {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes; // little-endian elements
};

/// Tensors laid out back to back after the header, in the order given.
struct SafetensorsFile {
  std::vector<TensorSpec> tensors;
  /// Pads the header with spaces so the data starts at a multiple of this (8: what
  /// the reference writer does). alignment = 1 with an odd header length gives
  /// misaligned data.
  size_t alignment = 8;
  /// Spaces added to the header before the alignment padding.
  size_t extraSpaces = 0;

  SafetensorsFile &add(TensorSpec t) {
    tensors.push_back(std::move(t));
    return *this;
  }
  /// The header JSON text (before padding).
  std::string headerJson() const;
  std::vector<uint8_t> bytes() const;
  void write(const std::filesystem::path &path) const;
};

/// u64 length, `header` verbatim, then `data`.
void writeRaw(const std::filesystem::path &path, const std::string &header,
              const std::vector<uint8_t> &data, uint64_t headerLength = UINT64_MAX);
void writeBytes(const std::filesystem::path &path, const std::vector<uint8_t> &bytes);
std::vector<uint8_t> readBytes(const std::filesystem::path &path);

/// Tensor builders with deterministic, non-zero values (seeded by name).
TensorSpec bf16Tensor(const std::string &name, std::vector<int64_t> shape);
TensorSpec f16Tensor(const std::string &name, std::vector<int64_t> shape);
TensorSpec f32Tensor(const std::string &name, std::vector<int64_t> shape);
/// A tensor of `dtype` ("BF16", "F16", "F32") with those values.
TensorSpec tensorOf(const std::string &name, const std::string &dtype,
                    std::vector<int64_t> shape);

/// Reference IEEE half -> float, from the definition (independent of the runtime's).
float halfBitsToFloat(uint16_t h);

/// A fresh directory under the temp dir, removed on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::filesystem::path &path() const { return path_; }
  std::filesystem::path operator/(const std::string &name) const { return path_ / name; }
  std::string str(const std::string &name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

} // namespace mk::runtime::test
