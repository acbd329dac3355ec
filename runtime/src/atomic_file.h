//===- atomic_file.h - Replacing a file whole or not at all ---------------===//
//
// Private to runtime/. Output files (npy dumps, traces, stats) are written to
// "<path>.tmp.<pid>", synced, then renamed over <path>: a crash or a full disk leaves
// the old file (or none), never half a file.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/status.h"

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace mk::runtime::detail {

/// Streams into the temporary; commit() publishes it. Destroyed uncommitted, it
/// removes the temporary.
class AtomicFileWriter {
public:
  AtomicFileWriter() = default;
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter &) = delete;
  AtomicFileWriter &operator=(const AtomicFileWriter &) = delete;

  /// Creates the temporary. Errors start with `path`.
  Status open(const std::string &path);
  /// Buffers and writes; a failure is remembered and reported by commit().
  void write(const void *data, size_t size);
  void write(std::string_view text) { write(text.data(), text.size()); }
  /// Flushes, syncs, closes and renames over the path.
  Status commit();

private:
  bool flush();

  std::string path_, tmp_;
  int fd_ = -1;
  int errno_ = 0; // first write error
  std::string buffer_;
};

struct ByteRange {
  const void *data;
  size_t size;
  ByteRange(const void *d, size_t n) : data(d), size(n) {}
  ByteRange(std::string_view s) : data(s.data()), size(s.size()) {}
};

/// Writes the concatenation of `parts` to `path` atomically. Errors start with `path`.
Status writeFileAtomic(const std::string &path, std::initializer_list<ByteRange> parts);

} // namespace mk::runtime::detail
