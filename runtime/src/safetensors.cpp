//===- safetensors.cpp - Mapping and validating safetensors files ---------===//
//
// Checks, per file, in this order (the first failure is reported):
//   1. the 8-byte header length is present and the header fits in the file;
//   2. the header is a JSON object of tensor entries (+ an ignored "__metadata__");
//   3. each entry has a supported dtype, a shape of non-negative integers and
//      data_offsets [begin, end) with end - begin == product(shape) * dtype size;
//   4. each tensor's bytes lie inside the file ("truncated: ...");
//   5. no two tensors share a byte.
// Then, across shards: names are unique, and every index.json entry is in its shard.
//===----------------------------------------------------------------------===//

#include "mk/runtime/safetensors.h"

#include "mk/isa/message_text.h"
#include "mk/runtime/json_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mk::runtime {

using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

/// The safetensors reference implementation refuses headers over 100 MB; a length
/// beyond that means the file is not safetensors at all.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;
/// model.safetensors.index.json of the largest public models is a few MB.
constexpr uint64_t kMaxIndexBytes = 64u << 20;

constexpr const char *kIndexName = "model.safetensors.index.json";
constexpr const char *kSingleName = "model.safetensors";

/// Parses `text` without exceptions; `what` names it in the error ("header").
Status parseJson(std::string_view text, const std::string &file, const char *what,
                 Json &out) {
  if (std::optional<JsonTextError> e = parseJsonText(text, out))
    return Status::error(file + ": invalid JSON " + what + " (parse error near byte " +
                         std::to_string(e->offset) + " of " +
                         std::to_string(text.size()) + ")");
  return Status::ok();
}

bool parseDType(const std::string &name, isa::DType &out) {
  if (name == "BF16")
    out = isa::DType::BF16;
  else if (name == "F16")
    out = isa::DType::F16;
  else if (name == "F32")
    out = isa::DType::F32;
  else
    return false;
  return true;
}

/// A JSON value as a non-negative integer (floats and negatives are refused).
bool asUnsigned(const Json &v, uint64_t &out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(v.get<int64_t>());
    return true;
  }
  return false;
}

std::string errnoText() { return std::strerror(errno); }

} // namespace

/// One read-only mapping of a whole file; unmapped on destruction.
struct SafetensorsSet::Mapping {
  std::string path;
  const uint8_t *data = nullptr;
  uint64_t size = 0;

  Mapping() = default;
  Mapping(const Mapping &) = delete;
  Mapping &operator=(const Mapping &) = delete;
  ~Mapping() {
    if (data)
      ::munmap(const_cast<uint8_t *>(data), size);
  }

  Status map(const std::string &file) {
    path = file;
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return Status::error(file + ": cannot open: " + errnoText());
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status s = Status::error(file + ": cannot stat: " + errnoText());
      ::close(fd);
      return s;
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::error(file + ": not a regular file");
    }
    size = static_cast<uint64_t>(st.st_size);
    if (size > 0) {
      void *p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        Status s = Status::error(file + ": cannot mmap " + std::to_string(size) +
                                 " bytes: " + errnoText());
        ::close(fd);
        return s;
      }
      data = static_cast<const uint8_t *>(p);
    }
    ::close(fd); // the mapping keeps the file alive
    return Status::ok();
  }
};

namespace {

/// Parses and checks the header of one mapped file; appends its tensors to `out`.
Status parseFile(const std::string &file, const uint8_t *data, uint64_t size,
                 std::vector<SafetensorsTensor> &out) {
  if (size < 8)
    return Status::error(file +
                         ": truncated: the 8-byte header length is cut off (the "
                         "file has " +
                         std::to_string(size) + " bytes)");
  uint64_t headerBytes = 0;
  for (int i = 7; i >= 0; --i)
    headerBytes = (headerBytes << 8) | data[i];
  if (headerBytes > kMaxHeaderBytes)
    return Status::error(file + ": header length " + std::to_string(headerBytes) +
                         " is over the 100 MiB limit: not a safetensors file");
  const uint64_t dataStart = 8 + headerBytes;
  if (dataStart > size)
    return Status::error(file + ": truncated: the header ends at byte " +
                         std::to_string(dataStart) + " but the file has " +
                         std::to_string(size));

  Json header;
  std::string_view text(reinterpret_cast<const char *>(data + 8), headerBytes);
  if (Status s = parseJson(text, file, "header", header); !s)
    return s;
  if (!header.is_object())
    return Status::error(file + ": the header is not a JSON object");

  std::vector<SafetensorsTensor> tensors;
  std::vector<std::pair<uint64_t, uint64_t>> ranges; // [begin, end) per tensor
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string &name = it.key();
    if (name == "__metadata__")
      continue;
    const Json &entry = it.value();
    const std::string where = file + ": tensor " + quote(name);
    if (!entry.is_object())
      return Status::error(where + ": expected an object with dtype, shape and "
                                   "data_offsets");
    auto dtypeIt = entry.find("dtype");
    if (dtypeIt == entry.end() || !dtypeIt->is_string())
      return Status::error(where + " has no dtype string");
    SafetensorsTensor t;
    t.name = name;
    t.file = file;
    const std::string &dtypeName = dtypeIt->get_ref<const std::string &>();
    if (!parseDType(dtypeName, t.dtype))
      return Status::error(where + " has dtype " + printable(dtypeName, 32) +
                           "; only BF16, F16 and F32 are supported");

    auto shapeIt = entry.find("shape");
    if (shapeIt == entry.end() || !shapeIt->is_array())
      return Status::error(where + " has no shape array");
    uint64_t elements = 1;
    bool overflow = false;
    for (const Json &d : *shapeIt) {
      uint64_t dim = 0;
      if (!asUnsigned(d, dim) || dim > uint64_t(INT64_MAX))
        return Status::error(where + ": shape holds " + printable(d.dump(), 32) +
                             "; dimensions are non-negative integers");
      t.shape.push_back(static_cast<int64_t>(dim));
      overflow |= __builtin_mul_overflow(elements, dim, &elements);
    }
    uint64_t bytes = 0;
    overflow |=
        __builtin_mul_overflow(elements, uint64_t(isa::dtypeSize(t.dtype)), &bytes);
    if (overflow)
      return Status::error(where + ": shape " + formatShape(t.shape) +
                           " has more bytes than 2^64");

    auto offIt = entry.find("data_offsets");
    uint64_t begin = 0, end = 0;
    if (offIt == entry.end() || !offIt->is_array() || offIt->size() != 2 ||
        !asUnsigned((*offIt)[0], begin) || !asUnsigned((*offIt)[1], end))
      return Status::error(where + " has no data_offsets [begin, end] of two "
                                   "non-negative integers");
    if (end < begin)
      return Status::error(where + " has data_offsets [" + std::to_string(begin) + ", " +
                           std::to_string(end) + "] that end before they begin");
    if (end - begin != bytes)
      return Status::error(where + " has data_offsets [" + std::to_string(begin) + ", " +
                           std::to_string(end) + "] of " + std::to_string(end - begin) +
                           " bytes, but shape " + formatShape(t.shape) + " of " +
                           dtypeName + " needs " + std::to_string(bytes));
    uint64_t fileEnd = 0;
    if (__builtin_add_overflow(dataStart, end, &fileEnd) || fileEnd > size)
      return Status::error(
          file + ": truncated: tensor " + quote(name) + " ends at byte " +
          (fileEnd >= dataStart ? std::to_string(fileEnd) : std::string("past 2^64")) +
          " but the file has " + std::to_string(size));
    t.data = data + dataStart + begin;
    t.bytes = bytes;
    tensors.push_back(std::move(t));
    ranges.emplace_back(begin, end);
  }

  // Overlap: sort the non-empty ranges by start; each must start at or after the end
  // of the one before.
  std::vector<size_t> order;
  for (size_t i = 0; i < ranges.size(); ++i)
    if (ranges[i].second > ranges[i].first)
      order.push_back(i);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
  for (size_t k = 1; k < order.size(); ++k) {
    size_t a = order[k - 1], b = order[k];
    if (ranges[b].first < ranges[a].second)
      return Status::error(
          file + ": tensors " + quote(tensors[a].name) + " [" +
          std::to_string(ranges[a].first) + ", " + std::to_string(ranges[a].second) +
          ") and " + quote(tensors[b].name) + " [" + std::to_string(ranges[b].first) +
          ", " + std::to_string(ranges[b].second) + ") overlap");
  }
  std::move(tensors.begin(), tensors.end(), std::back_inserter(out));
  return Status::ok();
}

Status readSmallFile(const std::string &path, uint64_t maxBytes, std::string &out) {
  std::error_code ec;
  uint64_t size = fs::file_size(path, ec);
  if (ec)
    return Status::error(path + ": cannot read: " + ec.message());
  if (size > maxBytes)
    return Status::error(path + ": " + std::to_string(size) + " bytes is over the " +
                         std::to_string(maxBytes >> 20) + " MiB limit");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot open: " + errnoText());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof())
    return Status::error(path + ": read error");
  out = ss.str();
  return Status::ok();
}

/// The shard files of an index.json, sorted, and its name -> shard map.
Status readIndex(const std::string &indexPath,
                 std::vector<std::pair<std::string, std::string>> &weightMap,
                 std::vector<std::string> &shards) {
  std::string text;
  if (Status s = readSmallFile(indexPath, kMaxIndexBytes, text); !s)
    return s;
  Json index;
  if (Status s = parseJson(text, indexPath, "", index); !s)
    return s;
  if (!index.is_object())
    return Status::error(indexPath + ": not a JSON object");
  auto mapIt = index.find("weight_map");
  if (mapIt == index.end() || !mapIt->is_object())
    return Status::error(indexPath + ": no \"weight_map\" object");
  std::set<std::string> unique;
  for (auto it = mapIt->begin(); it != mapIt->end(); ++it) {
    if (!it.value().is_string() || it.value().get_ref<const std::string &>().empty())
      return Status::error(indexPath + ": weight_map entry " + quote(it.key()) +
                           " is not a file name");
    const std::string &shard = it.value().get_ref<const std::string &>();
    if (fs::path(shard).is_absolute())
      return Status::error(indexPath + ": weight_map entry " + quote(it.key()) +
                           " names an absolute path " + quote(shard) +
                           "; shards are relative to the index");
    weightMap.emplace_back(it.key(), shard);
    unique.insert(shard);
  }
  if (weightMap.empty())
    return Status::error(indexPath + ": weight_map is empty");
  shards.assign(unique.begin(), unique.end());
  return Status::ok();
}

} // namespace

SafetensorsSet::SafetensorsSet() = default;
SafetensorsSet::~SafetensorsSet() = default;
SafetensorsSet::SafetensorsSet(SafetensorsSet &&) noexcept = default;
SafetensorsSet &SafetensorsSet::operator=(SafetensorsSet &&) noexcept = default;

const SafetensorsTensor *SafetensorsSet::find(std::string_view name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : &tensors_[it->second];
}

uint64_t SafetensorsSet::mappedBytes() const {
  uint64_t total = 0;
  for (const auto &m : mappings_)
    total += m->size;
  return total;
}

Status SafetensorsSet::open(const std::string &pathOrDir, SafetensorsSet &out) {
  std::error_code ec;
  fs::file_status st = fs::status(pathOrDir, ec);
  if (ec || !fs::exists(st))
    return Status::error(pathOrDir + ": no such file or directory");

  // Decide which files to map, and the index's name -> shard map if sharded.
  std::string indexPath;
  std::vector<std::string> files;
  std::vector<std::pair<std::string, std::string>> weightMap;
  fs::path dir;
  if (fs::is_directory(st)) {
    dir = pathOrDir;
    if (fs::exists(dir / kIndexName, ec)) {
      indexPath = (dir / kIndexName).string();
    } else if (fs::exists(dir / kSingleName, ec)) {
      files.push_back((dir / kSingleName).string());
    } else {
      std::vector<std::string> found;
      for (auto it = fs::directory_iterator(dir, ec);
           !ec && it != fs::directory_iterator(); it.increment(ec))
        if (it->path().extension() == ".safetensors" && it->is_regular_file(ec))
          found.push_back(it->path().string());
      if (ec)
        return Status::error(pathOrDir + ": cannot list: " + ec.message());
      std::sort(found.begin(), found.end());
      if (found.empty())
        return Status::error(pathOrDir + ": no .safetensors file (expected " +
                             std::string(kSingleName) + " or " + kIndexName + ")");
      if (found.size() > 1)
        return Status::error(
            pathOrDir + ": " + std::to_string(found.size()) + " .safetensors files (" +
            fs::path(found[0]).filename().string() + ", " +
            fs::path(found[1]).filename().string() + (found.size() > 2 ? ", ..." : "") +
            ") but no " + kIndexName + "; pass one file or add the index");
      files = std::move(found);
    }
  } else if (pathOrDir.size() >= 11 &&
             pathOrDir.compare(pathOrDir.size() - 11, 11, ".index.json") == 0) {
    indexPath = pathOrDir;
    dir = fs::path(pathOrDir).parent_path();
  } else {
    files.push_back(pathOrDir);
  }
  if (!indexPath.empty()) {
    std::vector<std::string> shards;
    if (Status s = readIndex(indexPath, weightMap, shards); !s)
      return s;
    for (const std::string &shard : shards) {
      std::string path = (dir / shard).string();
      if (!fs::exists(path, ec)) {
        std::string example;
        for (const auto &[name, file] : weightMap)
          if (file == shard) {
            example = name;
            break;
          }
        return Status::error(path + ": no such file (" +
                             fs::path(indexPath).filename().string() + " maps tensor " +
                             quote(example) + " to it)");
      }
      files.push_back(std::move(path));
    }
  }

  SafetensorsSet set;
  set.source_ = pathOrDir;
  for (const std::string &file : files) {
    auto mapping = std::make_unique<Mapping>();
    if (Status s = mapping->map(file); !s)
      return s;
    const size_t first = set.tensors_.size();
    if (Status s = parseFile(file, mapping->data, mapping->size, set.tensors_); !s)
      return s;
    for (size_t i = first; i < set.tensors_.size(); ++i) {
      auto [it, inserted] = set.byName_.emplace(set.tensors_[i].name, i);
      if (!inserted)
        return Status::error(file + ": tensor " + quote(set.tensors_[i].name) +
                             " is also in " + set.tensors_[it->second].file);
    }
    set.files_.push_back(file);
    set.mappings_.push_back(std::move(mapping));
  }
  for (const auto &[name, shard] : weightMap) {
    const SafetensorsTensor *t = set.find(name);
    std::string expected = (dir / shard).string();
    if (!t || t->file != expected)
      return Status::error(indexPath + ": maps tensor " + quote(name) + " to " +
                           quote(shard) + " but " +
                           (t ? "it is in " + t->file : "no shard holds it"));
  }
  out = std::move(set);
  return Status::ok();
}

const char *safetensorsDTypeName(isa::DType dtype) {
  switch (dtype) {
  case isa::DType::BF16:
    return "BF16";
  case isa::DType::F16:
    return "F16";
  case isa::DType::F32:
    return "F32";
  case isa::DType::I32:
    return "I32";
  }
  return "invalid";
}

} // namespace mk::runtime
