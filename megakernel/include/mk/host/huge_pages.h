//===- huge_pages.h - Anonymous memory on 2 MiB transparent huge pages ------===//
//
// Memory the host kernels stream from: the weights of a decode step (hundreds of MB
// read once per token) and the KV cache. On 4 KiB pages every 4 KiB of a stream is a
// TLB entry to walk (in a VM, a nested walk) and a boundary the hardware prefetchers
// stop at; on 2 MiB pages a stream runs longer on one. Measured on the 2-core EPYC VM
// (bench/NOTES.md): a one-thread read-sum of 300 MB runs ~25% faster, and mkrun's
// decode of the ~150M bench model 12-21% faster.
//
// Linux backs an anonymous mapping with huge pages when transparent huge pages are
// "always", or "madvise" and the range was madvise(MADV_HUGEPAGE)'d before it was
// first touched; HugePageBuffer maps a 2 MiB-aligned range and asks for them. Where
// they are "never" (or unknown: not Linux, no sysfs file) the buffer is plain 4 KiB
// pages, and hugePages() says so. Either way the memory is zero-filled, read-write
// and page-aligned.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>

namespace mk::host {

/// What /sys/kernel/mm/transparent_hugepage/enabled allows for a madvise'd range.
struct TransparentHugePages {
  bool available = false; // "[always]" or "[madvise]"
  std::string setting;    // the file's selected word, or "unknown" where unreadable
};
TransparentHugePages transparentHugePages();

/// MemAvailable of /proc/meminfo in bytes (free memory plus what the kernel can
/// reclaim without swapping, page cache included); 0 where unknown.
uint64_t availableMemoryBytes();

/// A move-only anonymous mapping, unmapped on destruction.
class HugePageBuffer {
public:
  static constexpr uint64_t kHugePage = uint64_t(2) << 20;

  HugePageBuffer() = default;
  ~HugePageBuffer();
  HugePageBuffer(HugePageBuffer &&o) noexcept;
  HugePageBuffer &operator=(HugePageBuffer &&o) noexcept;
  HugePageBuffer(const HugePageBuffer &) = delete;
  HugePageBuffer &operator=(const HugePageBuffer &) = delete;

  /// Maps `bytes` (> 0) starting at a 2 MiB boundary, on huge pages where the system
  /// allows them (`wantHugePages`: false maps plain 4 KiB pages, for comparisons).
  /// Empty (data() == nullptr, errno set) when the mapping fails.
  static HugePageBuffer allocate(uint64_t bytes, bool wantHugePages = true);

  uint8_t *data() const { return data_; }
  uint64_t size() const { return size_; }
  explicit operator bool() const { return data_ != nullptr; }
  /// Whether the kernel accepted MADV_HUGEPAGE for the range and the system setting
  /// allows it (pages are still 4 KiB where no free 2 MiB frame was found; the kernel
  /// collapses them later).
  bool hugePages() const { return huge_; }

private:
  uint8_t *data_ = nullptr;
  uint64_t size_ = 0;   // what allocate() was asked for
  uint64_t mapped_ = 0; // size_ rounded up to whole pages: what munmap releases
  bool huge_ = false;
};

} // namespace mk::host
