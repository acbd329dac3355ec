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

/// The token string `id` decodes from (an added token's content, or the
/// vocabulary's); false for an id with none, or a special one being skipped.
bool tokenOf(const TokenizerData &d, int32_t id, bool skipSpecial,
             std::string_view &token, bool &added) {
  if (auto it = d.addedById.find(id); it != d.addedById.end()) {
    const detail::AddedToken &t = d.added[it->second];
    token = t.content;
    added = true;
    return !(skipSpecial && t.special);
  }
  const std::string *vocab = d.model.idToToken(id);
  if (!vocab)
    return false;
  token = *vocab;
  added = false;
  return true;
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
    if (Status s = d.normalizer.run(segment.text, normalized); !s)
      return Status::error(d.source + ": normalizer: " + s.message());
    normalizedSegments.clear();
    d.normalizedMatcher.split(normalized, normalizedSegments);
    for (const detail::TextSegment &part : normalizedSegments) {
      if (part.id >= 0) {
        ids.push_back(part.id);
        continue;
      }
      // Metaspace's "first" scheme: only the piece at the input's first byte.
      bool startsInput =
          segment.text.data() == text.data() && part.text.data() == normalized.data();
      if (Status s = d.preTokenizer.run(part.text, pieces, startsInput); !s)
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
  std::string normalized;
  if (Status s = data_->normalizer.run(text, normalized); !s)
    return Status::error(data_->source + ": normalizer: " + s.message());
  if (Status s = data_->preTokenizer.run(normalized, pieces); !s)
    return Status::error(data_->source + ": pre_tokenizer: " + s.message());
  return Status::ok();
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skipSpecial) const {
  std::string out;
  if (!data_)
    return out;
  detail::DecodeState state(data_->decoder, /*streaming=*/false);
  std::string_view token;
  bool added = false;
  for (int32_t id : ids)
    if (tokenOf(*data_, id, skipSpecial, token, added))
      state.push(token, added, out);
  state.finish(out);
  return out;
}

Tokenizer::StreamDecoder::StreamDecoder(const Tokenizer &tokenizer, bool skipSpecial)
    : data_(tokenizer.data_), skipSpecial_(skipSpecial) {
  if (data_)
    state_ = std::make_unique<detail::DecodeState>(data_->decoder, /*streaming=*/true);
}

Tokenizer::StreamDecoder::~StreamDecoder() = default;
Tokenizer::StreamDecoder::StreamDecoder(StreamDecoder &&) noexcept = default;
Tokenizer::StreamDecoder &
Tokenizer::StreamDecoder::operator=(StreamDecoder &&) noexcept = default;

void Tokenizer::StreamDecoder::consume(std::span<const int32_t> ids) {
  for (int32_t id : ids)
    push(id);
  pending_.clear();
}

std::string Tokenizer::StreamDecoder::push(int32_t id) {
  std::string_view token;
  bool added = false;
  if (!data_ || !tokenOf(*data_, id, skipSpecial_, token, added))
    return {};
  state_->push(token, added, pending_);
  size_t complete = detail::completeUtf8Prefix(pending_);
  std::string out = pending_.substr(0, complete);
  pending_.erase(0, complete);
  return out;
}

std::string Tokenizer::StreamDecoder::flush() {
  if (state_)
    state_->finish(pending_);
  std::string out;
  out.swap(pending_);
  return out;
}

size_t Tokenizer::StreamDecoder::pendingBytes() const {
  return pending_.size() + (state_ ? state_->heldBytes() : 0);
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
