//===- safetensors.h - Read-only, validated view of safetensors files -----===//
//
// A safetensors file is a u64 little-endian header length N, N bytes of JSON
//   {"<name>": {"dtype": "BF16", "shape": [rows, cols], "data_offsets": [begin, end)},
//    ..., "__metadata__": {...}}
// and the tensor bytes; offsets count from the byte after the header. A model is one
// file (model.safetensors) or several shards listed by model.safetensors.index.json
// ({"weight_map": {"<name>": "<shard file>", ...}}).
//
// Files are mapped read-only (POSIX mmap) and every header is checked before a tensor
// is exposed: lengths and offsets inside the file, byte counts equal to the shape times
// the dtype size, no two tensors sharing bytes, names unique across shards. Errors are
// one line and start with the file ("<file>: truncated: tensor 'x' ends at byte 5000
// but the file has 4096"). Nothing here throws.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"
#include "mk/isa/status.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mk::runtime {

/// One tensor of a safetensors file, pointing into the file's read-only mapping.
struct SafetensorsTensor {
  std::string name;           // e.g. "model.layers.0.self_attn.q_proj.weight"
  isa::DType dtype;           // BF16, F16 or F32 (other dtypes are refused)
  std::vector<int64_t> shape; // row-major, as stored; [] for a scalar
  const uint8_t *data;        // little-endian elements; alignment not guaranteed
  uint64_t bytes;             // product(shape) * dtypeSize(dtype)
  std::string file;           // the file that holds it (for messages)
};

/// Every tensor of a model's safetensors file(s), memory-mapped. Movable, not copyable;
/// tensor data stays valid (and at the same address) until the set is destroyed.
class SafetensorsSet {
public:
  using Tensor = SafetensorsTensor;

  SafetensorsSet();
  ~SafetensorsSet();
  SafetensorsSet(SafetensorsSet &&) noexcept;
  SafetensorsSet &operator=(SafetensorsSet &&) noexcept;
  SafetensorsSet(const SafetensorsSet &) = delete;
  SafetensorsSet &operator=(const SafetensorsSet &) = delete;

  /// Opens `pathOrDir`: a .safetensors file, or a model directory, where it reads
  /// model.safetensors.index.json if present (sharded), else model.safetensors, else
  /// the one *.safetensors file there. On error `out` is left unchanged.
  static Status open(const std::string &pathOrDir, SafetensorsSet &out);

  /// The tensor called `name`, or nullptr.
  const Tensor *find(std::string_view name) const;

  /// All tensors: file by file, by name within a file.
  const std::vector<Tensor> &tensors() const { return tensors_; }
  /// The files opened (one, or every shard).
  const std::vector<std::string> &files() const { return files_; }
  /// What open() was given: messages about the whole model start with it.
  const std::string &source() const { return source_; }
  /// Sum of the mapped file sizes.
  uint64_t mappedBytes() const;

private:
  struct Mapping;

  std::string source_;
  std::vector<std::string> files_;
  std::vector<std::unique_ptr<Mapping>> mappings_;
  std::vector<Tensor> tensors_;
  std::map<std::string, size_t, std::less<>> byName_; // index into tensors_
};

/// The safetensors dtype string of a dtype ("BF16", "F16", "F32", "I32").
const char *safetensorsDTypeName(isa::DType dtype);

} // namespace mk::runtime
