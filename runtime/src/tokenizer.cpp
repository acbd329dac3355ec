//===- tokenizer.cpp - Encode, decode, stream-decode ----------------------===//

#include "mk/runtime/tokenizer.h"

#include "mk/isa/message_text.h"

#include "tokenizer_data.h"
#include "tokenizer_unicode.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace mk::runtime {

using detail::TokenizerData;
namespace fs = std::filesystem;

namespace {

/// The largest tokenizer.json files (256k-token vocabularies) are ~35 MB.
constexpr uintmax_t kMaxFileBytes = 1u << 30;

const std::string &emptyString() {
  static const std::string empty;
  return empty;
}

} // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(const Tokenizer &) = default;
Tokenizer::Tokenizer(Tokenizer &&) noexcept = default;
Tokenizer &Tokenizer::operator=(const Tokenizer &) = default;
Tokenizer &Tokenizer::operator=(Tokenizer &&) noexcept = default;

Status Tokenizer::load(const std::string &pathOrDir, Tokenizer &out) {
  std::error_code ec;
  std::string path = pathOrDir;
  if (fs::is_directory(path, ec))
    path = (fs::path(path) / "tokenizer.json").string();
  if (!fs::exists(path, ec))
    return Status::error(path + ": cannot open: no such file");
  if (fs::is_directory(path, ec))
    return Status::error(path + ": cannot open: is a directory");
  uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > kMaxFileBytes)
    return Status::error(path + ": " + std::to_string(size) +
                         " bytes is too large for a tokenizer.json (limit 1 GiB)");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot open: " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (in.bad())
    return Status::error(path + ": read failed: " + std::strerror(errno));
  return loadFromText(text, path, out);
}

Status Tokenizer::loadFromText(std::string_view json, const std::string &source,
                               Tokenizer &out) {
  auto data = std::make_shared<TokenizerData>();
  if (Status s = detail::parseTokenizerJson(json, source, *data); !s)
    return s;
  out.data_ = std::move(data);
  return Status::ok();
}

const std::string &Tokenizer::source() const {
  return data_ ? data_->source : emptyString();
}

Status Tokenizer::encode(std::string_view text, std::vector<int32_t> &ids,
                         bool addBos) const {
  ids.clear();
  if (!data_)
    return Status::error("tokenizer: encode called before a successful load");
  const TokenizerData &d = *data_;
  if (addBos)
    ids = d.bosIds;

  std::vector<detail::TextSegment> raw, normalizedSegments;
  d.rawMatcher.split(text, raw);
  std::vector<std::string> pieces;
  std::string normalized;
  for (const detail::TextSegment &segment : raw) {
    if (segment.id >= 0) {
      ids.push_back(segment.id);
      continue;
    }
    normalized = d.nfc ? detail::toNfc(segment.text) : std::string(segment.text);
    normalizedSegments.clear();
    d.normalizedMatcher.split(normalized, normalizedSegments);
    for (const detail::TextSegment &part : normalizedSegments) {
      if (part.id >= 0) {
        ids.push_back(part.id);
        continue;
      }
      if (Status s = d.preTokenizer.run(part.text, pieces); !s)
        return Status::error(d.source + ": pre_tokenizer: " + s.message());
      for (const std::string &piece : pieces)
        if (Status s = d.model.tokenize(piece, ids); !s)
          return Status::error(d.source + ": cannot encode " + quote(part.text, 60) +
                               ": " + s.message());
    }
  }
  return Status::ok();
}

Status Tokenizer::preTokenize(std::string_view text,
                              std::vector<std::string> &pieces) const {
  pieces.clear();
  if (!data_)
    return Status::error("tokenizer: preTokenize called before a successful load");
  std::string normalized = data_->nfc ? detail::toNfc(text) : std::string(text);
  if (Status s = data_->preTokenizer.run(normalized, pieces); !s)
    return Status::error(data_->source + ": pre_tokenizer: " + s.message());
  return Status::ok();
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skipSpecial) const {
  std::string out;
  if (!data_)
    return out;
  const TokenizerData &d = *data_;
  for (int32_t id : ids) {
    if (auto it = d.addedById.find(id); it != d.addedById.end()) {
      const detail::AddedToken &token = d.added[it->second];
      if (!(skipSpecial && token.special))
        out += token.content; // as written: these never went through the byte map
      continue;
    }
    const std::string *token = d.model.idToToken(id);
    if (!token)
      continue;
    // tokenizers' ByteLevel decoder: every character back to its byte, or, if one
    // is outside the byte-level alphabet, the token's own UTF-8 unchanged.
    size_t mark = out.size();
    bool mapped = true;
    char32_t cp;
    for (size_t pos = 0; pos < token->size();) {
      size_t len = detail::decodeUtf8(*token, pos, cp);
      int byte = len ? detail::charToByte(cp) : -1;
      if (byte < 0) {
        mapped = false;
        break;
      }
      out += char(byte);
      pos += len;
    }
    if (!mapped) {
      out.resize(mark);
      out += *token;
    }
  }
  return out;
}

Tokenizer::StreamDecoder::StreamDecoder(const Tokenizer &tokenizer, bool skipSpecial)
    : tokenizer_(&tokenizer), skipSpecial_(skipSpecial) {}

std::string Tokenizer::StreamDecoder::push(int32_t id) {
  pending_ += tokenizer_->decode(std::span<const int32_t>(&id, 1), skipSpecial_);
  size_t complete = detail::completeUtf8Prefix(pending_);
  std::string out = pending_.substr(0, complete);
  pending_.erase(0, complete);
  return out;
}

std::string Tokenizer::StreamDecoder::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

int32_t Tokenizer::vocabSize() const { return data_ ? data_->vocabSize : 0; }

std::optional<int32_t> Tokenizer::bosId() const {
  if (!data_ || data_->bosIds.empty())
    return std::nullopt;
  return data_->bosIds.front();
}

std::span<const int32_t> Tokenizer::bosIds() const {
  if (!data_)
    return {};
  return data_->bosIds;
}

std::optional<int32_t> Tokenizer::tokenToId(std::string_view token) const {
  if (!data_)
    return std::nullopt;
  if (auto it = data_->addedByContent.find(token); it != data_->addedByContent.end())
    return it->second;
  return data_->model.tokenToId(token);
}

std::optional<std::string> Tokenizer::idToToken(int32_t id) const {
  if (!data_)
    return std::nullopt;
  if (auto it = data_->addedById.find(id); it != data_->addedById.end())
    return data_->added[it->second].content;
  if (const std::string *token = data_->model.idToToken(id))
    return *token;
  return std::nullopt;
}

bool Tokenizer::isSpecial(int32_t id) const {
  if (!data_)
    return false;
  auto it = data_->addedById.find(id);
  return it != data_->addedById.end() && data_->added[it->second].special;
}

} // namespace mk::runtime
