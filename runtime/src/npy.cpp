//===- npy.cpp - NumPy .npy v1.0 writer ----------------------------------===//

#include "mk/runtime/npy.h"

#include "atomic_file.h"

#include <bit>
#include <cstdint>

namespace mk::runtime {

static_assert(std::endian::native == std::endian::little, "'<f4' is written as is");

namespace {
constexpr char kMagic[] = "\x93NUMPY";     // 6 bytes
constexpr size_t kPrefixBytes = 6 + 2 + 2; // magic, version, header length
constexpr size_t kAlignment = 64;          // numpy.lib.format.ARRAY_ALIGN
} // namespace

std::string npyHeaderF32(const std::vector<size_t> &shape) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      dict += ", ";
    dict += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    dict += ",";
  dict += "), }";
  // Pad with spaces so prefix + dict + '\n' is a multiple of the alignment.
  size_t total = kPrefixBytes + dict.size() + 1;
  dict.append((kAlignment - total % kAlignment) % kAlignment, ' ');
  dict += '\n';
  std::string header(kMagic, 6);
  header += '\x01';
  header += '\x00';
  header += static_cast<char>(dict.size() & 0xFF);
  header += static_cast<char>((dict.size() >> 8) & 0xFF);
  return header + dict;
}

Status writeNpyF32(const std::string &path, const std::vector<float> &data,
                   std::vector<size_t> shape) {
  uint64_t elements = 1;
  for (size_t d : shape)
    if (__builtin_mul_overflow(elements, uint64_t(d), &elements))
      return Status::error(path + ": npy shape overflows 2^64 elements");
  if (elements != data.size())
    return Status::error(path + ": npy shape holds " + std::to_string(elements) +
                         " elements but " + std::to_string(data.size()) + " were given");
  std::string header = npyHeaderF32(shape);
  // Version 1.0 stores the header length in 16 bits (ranks up to ~3000 fit).
  if (header.size() - kPrefixBytes > 0xFFFF)
    return Status::error(path + ": npy header of rank " + std::to_string(shape.size()) +
                         " is too long for format 1.0");
  return detail::writeFileAtomic(
      path, {detail::ByteRange(header),
             detail::ByteRange(data.data(), data.size() * sizeof(float))});
}

} // namespace mk::runtime
