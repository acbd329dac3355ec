//===- presets.cpp - Finding bundled config.json files by name -----------===//

#include "mk/models/presets.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace mk::models {
namespace fs = std::filesystem;

namespace {

/// A single path component of [A-Za-z0-9._-], not starting with '.': a name can
/// never climb out of a search directory.
bool isPresetName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.')
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

bool hasConfig(const fs::path &dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec);
}

} // namespace

std::vector<std::string> presetSearchPath() {
  std::vector<std::string> dirs;
  auto add = [&](const fs::path &dir) {
    std::error_code ec;
    if (dir.empty() || !fs::is_directory(dir, ec))
      return;
    std::string normal = dir.lexically_normal().string();
    if (std::find(dirs.begin(), dirs.end(), normal) == dirs.end())
      dirs.push_back(normal);
  };
  if (const char *env = std::getenv("MK_PRESETS_DIR"); env && *env)
    add(env);
#ifdef MK_SOURCE_PRESETS_DIR
  add(MK_SOURCE_PRESETS_DIR);
#endif
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    add(exe.parent_path() / ".." / "share" / "mk" / "presets");
  return dirs;
}

std::optional<std::string> findPresetDir(std::string_view name) {
  if (!isPresetName(name))
    return std::nullopt;
  for (const std::string &dir : presetSearchPath()) {
    fs::path candidate = fs::path(dir) / std::string(name);
    if (hasConfig(candidate))
      return candidate.string();
  }
  return std::nullopt;
}

std::vector<std::string> listPresets() {
  std::vector<std::string> names;
  for (const std::string &dir : presetSearchPath()) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (isPresetName(name) && hasConfig(it->path()))
        names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

} // namespace mk::models
