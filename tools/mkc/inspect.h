//===- inspect.h - mkc inspect / verify ---------------------------------------===//
#pragma once

#include <string>

namespace mk::mkc {

/// Prints a readable summary of the plan file; returns the process exit code.
int runInspect(const std::string &path, bool listCriticalPath);

/// Verifies the plan file and prints every violation; returns the exit code.
int runVerify(const std::string &path);

} // namespace mk::mkc
