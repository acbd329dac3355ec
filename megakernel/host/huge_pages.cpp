//===- huge_pages.cpp - Anonymous memory on 2 MiB transparent huge pages ----===//

#include "mk/host/huge_pages.h"

#include <cerrno>
#include <fstream>
#include <utility>

#include <sys/mman.h>
#include <unistd.h>

namespace mk::host {

TransparentHugePages transparentHugePages() {
  // e.g. "always [madvise] never": the bracketed word is the setting.
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!in || !std::getline(in, line))
    return {false, "unknown"};
  const size_t open = line.find('['), close = line.find(']', open);
  if (open == std::string::npos || close == std::string::npos)
    return {false, "unknown"};
  std::string word = line.substr(open + 1, close - open - 1);
  const bool available = word == "always" || word == "madvise";
  return {available, std::move(word)};
}

uint64_t availableMemoryBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  uint64_t value = 0;
  while (in >> key >> value) {
    std::getline(in, unit); // " kB"
    if (key == "MemAvailable:")
      return value * 1024;
  }
  return 0;
}

HugePageBuffer::~HugePageBuffer() {
  if (data_)
    ::munmap(data_, mapped_);
}

HugePageBuffer::HugePageBuffer(HugePageBuffer &&o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)),
      mapped_(std::exchange(o.mapped_, 0)), huge_(std::exchange(o.huge_, false)) {}

HugePageBuffer &HugePageBuffer::operator=(HugePageBuffer &&o) noexcept {
  if (this != &o) {
    HugePageBuffer old(std::move(*this));
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    mapped_ = std::exchange(o.mapped_, 0);
    huge_ = std::exchange(o.huge_, false);
  }
  return *this;
}

HugePageBuffer HugePageBuffer::allocate(uint64_t bytes, bool wantHugePages) {
  HugePageBuffer b;
  const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE));
  if (bytes == 0 || page == 0 || bytes > UINT64_MAX / 2 - kHugePage) {
    errno = EINVAL;
    return b;
  }
  const uint64_t mapped = (bytes + page - 1) / page * page;
  // Over-map by 2 MiB, then unmap the head before the first 2 MiB boundary and the
  // tail past the buffer: what stays starts at a boundary, so its first huge page is
  // not lost to misalignment.
  void *raw = ::mmap(nullptr, mapped + kHugePage, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return b;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (begin + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > begin)
    ::munmap(raw, aligned - begin);
  const uintptr_t end = begin + mapped + kHugePage;
  if (end > aligned + mapped)
    ::munmap(reinterpret_cast<void *>(aligned + mapped), end - (aligned + mapped));
  b.data_ = reinterpret_cast<uint8_t *>(aligned);
  b.size_ = bytes;
  b.mapped_ = mapped;
#ifdef MADV_HUGEPAGE
  // Before the first touch: the pages are then faulted in as 2 MiB ones.
  if (wantHugePages && transparentHugePages().available)
    b.huge_ = ::madvise(b.data_, mapped, MADV_HUGEPAGE) == 0;
#else
  (void)wantHugePages;
#endif
  return b;
}

} // namespace mk::host
