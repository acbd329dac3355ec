//===- safetensors_writer.cpp - Writing safetensors files in tests --------===//
#include "safetensors_writer.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

#include <unistd.h>

namespace mk::runtime::test {

namespace fs = std::filesystem;

std::string SafetensorsFile::headerJson() const {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  h["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const TensorSpec &t : tensors) {
    h[t.name] = {{"dtype", t.dtype},
                 {"shape", t.shape},
                 {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  return h.dump();
}

std::vector<uint8_t> SafetensorsFile::bytes() const {
  std::string header = headerJson() + std::string(extraSpaces, ' ');
  while ((8 + header.size()) % alignment != 0)
    header += ' ';
  std::vector<uint8_t> out(8);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[i] = uint8_t(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  for (const TensorSpec &t : tensors)
    out.insert(out.end(), t.bytes.begin(), t.bytes.end());
  return out;
}

void SafetensorsFile::write(const fs::path &path) const { writeBytes(path, bytes()); }

void writeRaw(const fs::path &path, const std::string &header,
              const std::vector<uint8_t> &data, uint64_t headerLength) {
  uint64_t n = headerLength == UINT64_MAX ? header.size() : headerLength;
  std::vector<uint8_t> out(8);
  for (int i = 0; i < 8; ++i)
    out[i] = uint8_t(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  writeBytes(path, out);
}

void writeBytes(const fs::path &path, const std::vector<uint8_t> &bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
  ASSERT_TRUE(f.good()) << path;
}

std::vector<uint8_t> readBytes(const fs::path &path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

namespace {

uint64_t elementsOf(const std::vector<int64_t> &shape) {
  uint64_t n = 1;
  for (int64_t d : shape)
    n *= uint64_t(d);
  return n;
}

std::mt19937 rngFor(const std::string &name) {
  return std::mt19937(uint32_t(std::hash<std::string>{}(name)));
}

template <typename T> void append(std::vector<uint8_t> &out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

} // namespace

TensorSpec f32Tensor(const std::string &name, std::vector<int64_t> shape) {
  TensorSpec t{name, "F32", shape, {}};
  auto rng = rngFor(name);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (uint64_t i = 0; i < elementsOf(shape); ++i) {
    float v = normal(rng);
    append(t.bytes, v == 0.0f ? 0.5f : v);
  }
  return t;
}

TensorSpec bf16Tensor(const std::string &name, std::vector<int64_t> shape) {
  TensorSpec t{name, "BF16", shape, {}};
  auto rng = rngFor(name);
  std::uniform_int_distribution<uint32_t> bits(0, 0xFFFF);
  for (uint64_t i = 0; i < elementsOf(shape); ++i) {
    uint16_t b;
    do // finite values only: exponent not all ones
      b = uint16_t(bits(rng));
    while ((b & 0x7F80) == 0x7F80);
    append(t.bytes, b);
  }
  return t;
}

TensorSpec f16Tensor(const std::string &name, std::vector<int64_t> shape) {
  TensorSpec t{name, "F16", shape, {}};
  auto rng = rngFor(name);
  std::uniform_int_distribution<uint32_t> bits(0, 0xFFFF);
  for (uint64_t i = 0; i < elementsOf(shape); ++i) {
    uint16_t b;
    do // finite values, subnormals included
      b = uint16_t(bits(rng));
    while ((b & 0x7C00) == 0x7C00);
    append(t.bytes, b);
  }
  return t;
}

TensorSpec tensorOf(const std::string &name, const std::string &dtype,
                    std::vector<int64_t> shape) {
  if (dtype == "BF16")
    return bf16Tensor(name, shape);
  if (dtype == "F16")
    return f16Tensor(name, shape);
  return f32Tensor(name, shape);
}

float halfBitsToFloat(uint16_t h) {
  int sign = (h >> 15) ? -1 : 1;
  int exponent = (h >> 10) & 0x1F;
  int mantissa = h & 0x3FF;
  if (exponent == 31)
    return mantissa ? NAN : sign * INFINITY;
  double v = exponent == 0 ? std::ldexp(double(mantissa), -24)
                           : std::ldexp(1.0 + mantissa / 1024.0, exponent - 15);
  return float(sign * v);
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() / ("mk-runtime-test-" + std::to_string(::getpid()) +
                                       "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

} // namespace mk::runtime::test
