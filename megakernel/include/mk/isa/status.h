//===- status.h - A small error value for library code without exceptions --===//
#pragma once

#include <string>
#include <utility>

namespace mk {

/// Success, or a one-line message a user can act on (what, where, expected vs got).
class [[nodiscard]] Status {
public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string message) {
    Status s;
    s.failed_ = true;
    s.message_ = std::move(message);
    return s;
  }
  bool isOk() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string &message() const { return message_; }

private:
  bool failed_ = false;
  std::string message_;
};

} // namespace mk
