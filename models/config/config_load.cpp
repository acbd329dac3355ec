//===- config_load.cpp - Model directory, config file or preset name ------===//

#include "mk/models/config.h"
#include "mk/models/presets.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace mk::models {
namespace fs = std::filesystem;

namespace {

mk::Status readConfigFile(const fs::path &path, std::string &out) {
  const std::string name = path.string();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return mk::Status::error(name + ": not a regular file");
  uintmax_t size = fs::file_size(path, ec);
  if (ec)
    return mk::Status::error(name + ": cannot read: " + ec.message());
  if (size > Limits::kMaxConfigBytes)
    return mk::Status::error(name + ": " + std::to_string(size) +
                             " bytes is too large for a config.json (at most " +
                             std::to_string(Limits::kMaxConfigBytes) + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return mk::Status::error(name + ": cannot open: " + std::strerror(errno));
  out.assign(static_cast<size_t>(size), '\0');
  in.read(out.data(), static_cast<std::streamsize>(size));
  if (in.gcount() != static_cast<std::streamsize>(size))
    return mk::Status::error(name + ": cannot read: file shorter than its size");
  return mk::Status::ok();
}

std::string presetList() {
  std::string list;
  for (const std::string &p : listPresets())
    list += (list.empty() ? "" : ", ") + p;
  return list.empty() ? "none found" : list;
}

} // namespace

mk::Status loadHfConfig(const std::string &pathOrDir, ModelConfig &out) {
  if (pathOrDir.empty())
    return mk::Status::error("empty model path: give a model directory, a "
                             "config.json or a preset name");
  fs::path path(pathOrDir);
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  fs::path file;
  if (fs::is_directory(st)) {
    file = path / "config.json";
    if (!fs::exists(file, ec))
      return mk::Status::error(pathOrDir +
                               ": not a model directory (it has no config.json)");
  } else if (fs::exists(st)) {
    file = path;
  } else if (std::optional<std::string> preset = findPresetDir(pathOrDir)) {
    file = fs::path(*preset) / "config.json";
  } else {
    return mk::Status::error(pathOrDir +
                             ": no such file or directory, and no preset of that "
                             "name (presets: " +
                             presetList() + ")");
  }
  std::string text;
  if (mk::Status s = readConfigFile(file, text); !s)
    return s;
  return parseHfConfig(text, file.string(), out);
}

} // namespace mk::models
