//===- atomic_file.cpp - Write to a temporary, sync, rename ---------------===//

#include "atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace mk::runtime::detail {

namespace {

constexpr size_t kBufferBytes = 1 << 20;

/// 0 on success, else the errno of the failure.
int writeAll(int fd, const char *p, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    if (n == 0)
      return EIO;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

} // namespace

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

Status AtomicFileWriter::open(const std::string &path) {
  path_ = path;
  tmp_ = path + ".tmp." + std::to_string(::getpid());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0)
    return Status::error(path + ": cannot create " + tmp_ + ": " + std::strerror(errno));
  buffer_.reserve(kBufferBytes);
  return Status::ok();
}

bool AtomicFileWriter::flush() {
  if (fd_ >= 0 && !errno_ && !buffer_.empty())
    errno_ = writeAll(fd_, buffer_.data(), buffer_.size());
  buffer_.clear();
  return !errno_;
}

void AtomicFileWriter::write(const void *data, size_t size) {
  if (fd_ < 0 || errno_ || size == 0) // size 0: data may be null
    return;
  if (buffer_.size() + size > kBufferBytes && !flush())
    return;
  if (size >= kBufferBytes)
    errno_ = writeAll(fd_, static_cast<const char *>(data), size);
  else
    buffer_.append(static_cast<const char *>(data), size);
}

Status AtomicFileWriter::commit() {
  if (fd_ < 0)
    return Status::error(path_ + ": not open for writing");
  flush();
  if (!errno_ && ::fsync(fd_) != 0)
    errno_ = errno;
  if (::close(fd_) != 0 && !errno_)
    errno_ = errno;
  fd_ = -1;
  if (errno_) {
    ::unlink(tmp_.c_str());
    return Status::error(path_ + ": cannot write: " + std::strerror(errno_));
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp_.c_str());
    return Status::error(path_ + ": cannot rename " + tmp_ + " over it: " + why);
  }
  return Status::ok();
}

Status writeFileAtomic(const std::string &path, std::initializer_list<ByteRange> parts) {
  AtomicFileWriter w;
  if (Status s = w.open(path); !s)
    return s;
  for (const ByteRange &part : parts)
    w.write(part.data, part.size);
  return w.commit();
}

} // namespace mk::runtime::detail
