//===- plan_file_io.cpp - Plan files on disk ------------------------------===//
//
// readPlanFile / writePlanFile: POSIX I/O around readPlan / writePlan, with every error
// prefixed by the path.
//===----------------------------------------------------------------------===//
#include "mk/isa/plan_file.h"

#include "str_format.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mk::isa {
namespace {

using detail::strFormat;

Status fileError(const std::string &path, const char *what, int err) {
  return Status::error(strFormat("%s: %s: %s", path.c_str(), what, std::strerror(err)));
}

Status writeAll(int fd, const std::vector<uint8_t> &bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return Status::error(std::strerror(n < 0 ? errno : EIO));
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

} // namespace

Status writePlanFile(const std::string &path, const Plan &plan) {
  std::vector<uint8_t> bytes;
  if (Status s = writePlan(plan, bytes); !s)
    return Status::error(path + ": " + s.message());

  // Write a sibling temp file and rename it over `path`: rename is atomic within a
  // file system, so readers see the old plan or the new one, never half of one.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return fileError(path, ("cannot create temporary file '" + tmp + "'").c_str(), errno);
  Status written = writeAll(fd, bytes);
  if (written && ::fsync(fd) != 0)
    written = Status::error(std::strerror(errno));
  if (::close(fd) != 0 && written)
    written = Status::error(std::strerror(errno));
  if (!written) {
    ::unlink(tmp.c_str());
    return Status::error(path + ": cannot write temporary file '" + tmp +
                         "': " + written.message());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fileError(path, ("cannot rename '" + tmp + "' to it").c_str(), err);
  }
  return Status::ok();
}

Status readPlanFile(const std::string &path, Plan &out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fileError(path, "cannot open plan file", errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return fileError(path, "cannot stat plan file", err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::error(path + ": is a directory, expected a plan file");
  }
  // Pipes are fine (they end); devices such as /dev/zero might never end.
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
    ::close(fd);
    return Status::error(path + ": not a regular file, expected a plan file");
  }
  std::vector<uint8_t> bytes;
  if (S_ISREG(st.st_mode))
    bytes.reserve(static_cast<size_t>(st.st_size));
  uint8_t chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return fileError(path, "cannot read plan file", err);
    }
    if (n == 0)
      break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  ::close(fd);
  if (Status s = readPlan(bytes, out); !s)
    return Status::error(path + ": " + s.message());
  return Status::ok();
}

} // namespace mk::isa
