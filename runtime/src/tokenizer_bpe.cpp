//===- tokenizer_bpe.cpp - The BPE model: vocabulary, merges, merging -----===//

#include "tokenizer_bpe.h"

#include "mk/isa/message_text.h"

#include "tokenizer_unicode.h"

#include <cstdio>
#include <queue>

namespace mk::runtime::detail {
namespace {

/// One symbol of a word being merged; `len` 0 marks one merged into its left
/// neighbour. prev/next link the live symbols.
struct Symbol {
  int32_t id;
  int32_t prev, next;
  uint32_t len; // bytes of the word it covers
};

/// A candidate merge of the symbol at `pos` with its right neighbour.
struct Candidate {
  uint32_t rank;
  int32_t pos;
  int32_t result;
  /// std::priority_queue pops the largest: make that the lowest rank, then the
  /// leftmost position.
  bool operator<(const Candidate &other) const {
    return rank != other.rank ? rank > other.rank : pos > other.pos;
  }
};

std::string describeChar(std::string_view ch) {
  char32_t cp;
  if (decodeUtf8(ch, 0, cp) != ch.size())
    return quote(ch);
  char buf[32];
  std::snprintf(buf, sizeof buf, " (U+%04X", unsigned(cp));
  std::string out = quote(ch) + buf;
  int byte = charToByte(cp);
  if (byte >= 0) {
    std::snprintf(buf, sizeof buf, ", byte 0x%02X", unsigned(byte));
    out += buf;
  }
  return out + ")";
}

} // namespace

Status BpeModel::build(TokenMap vocab,
                       const std::vector<std::pair<std::string, std::string>> &merges,
                       const BpeOptions &options, BpeModel &out) {
  BpeModel model;
  model.options_ = options;
  int32_t limit = 0;
  for (const auto &[token, id] : vocab)
    limit = std::max(limit, id + 1);
  model.tokens_.resize(size_t(limit));
  model.hasToken_.assign(size_t(limit), false);
  for (const auto &[token, id] : vocab) {
    // Two tokens with one id: decode keeps the first in byte order, as a sorted
    // map iteration would; encode can produce either.
    if (!model.hasToken_[size_t(id)] || token < model.tokens_[size_t(id)]) {
      model.tokens_[size_t(id)] = token;
      model.hasToken_[size_t(id)] = true;
    }
  }
  model.vocab_ = std::move(vocab);
  model.charIds_.fill(-1);
  for (char32_t cp = 0; cp < model.charIds_.size(); ++cp) {
    std::string ch;
    appendUtf8(ch, cp);
    if (auto it = model.vocab_.find(ch); it != model.vocab_.end())
      model.charIds_[cp] = it->second;
  }

  model.merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto &[left, right] = merges[rank];
    auto where = [&] {
      return "merge " + std::to_string(rank) + " " + quote(left + " " + right) + ": ";
    };
    auto l = model.vocab_.find(left);
    if (l == model.vocab_.end())
      return Status::error(where() + quote(left) + " is not in the vocabulary");
    auto r = model.vocab_.find(right);
    if (r == model.vocab_.end())
      return Status::error(where() + quote(right) + " is not in the vocabulary");
    auto merged = model.vocab_.find(left + right);
    if (merged == model.vocab_.end())
      return Status::error(where() + "the merged token " + quote(left + right) +
                           " is not in the vocabulary");
    // A repeated pair takes its last rank, as tokenizers' HashMap collect does.
    model.merges_[pairKey(l->second, r->second)] = {uint32_t(rank), merged->second};
  }

  if (!options.unkToken.empty())
    if (auto it = model.vocab_.find(options.unkToken); it != model.vocab_.end())
      model.unkId_ = it->second;
  out = std::move(model);
  return Status::ok();
}

std::optional<int32_t> BpeModel::tokenToId(std::string_view token) const {
  if (auto it = vocab_.find(token); it != vocab_.end())
    return it->second;
  return std::nullopt;
}

const std::string *BpeModel::idToToken(int32_t id) const {
  if (id < 0 || id >= idLimit() || !hasToken_[size_t(id)])
    return nullptr;
  return &tokens_[size_t(id)];
}

const BpeModel::Merge *BpeModel::findMerge(int32_t left, int32_t right) const {
  auto it = merges_.find(pairKey(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

bool BpeModel::unknownChar(std::string_view ch, bool &pendingUnk,
                           std::vector<int32_t> &ids) const {
  if (options_.byteFallback) {
    std::vector<int32_t> bytes;
    for (unsigned char b : ch) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", unsigned(b));
      auto id = tokenToId(name);
      if (!id)
        break;
      bytes.push_back(*id);
    }
    if (bytes.size() == ch.size()) {
      ids.insert(ids.end(), bytes.begin(), bytes.end());
      return true;
    }
  }
  if (!unkId_)
    return false;
  if (pendingUnk && !options_.fuseUnk)
    ids.push_back(*unkId_);
  pendingUnk = true;
  return true;
}

Status BpeModel::tokenize(std::string_view word, std::vector<int32_t> &ids) const {
  if (word.empty())
    return Status::ok();
  if (options_.ignoreMerges)
    if (auto id = tokenToId(word)) {
      ids.push_back(*id);
      return Status::ok();
    }

  // Characters -> initial symbols. Unknown characters split the word: merges
  // never cross them (tokenizers adds unk/byte-fallback ids as symbols that no
  // merge names, which has the same effect).
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  bool pendingUnk = false;
  auto flush = [&]() -> Status {
    if (symbols.empty())
      return Status::ok();
    std::priority_queue<Candidate> queue;
    for (size_t i = 0; i + 1 < symbols.size(); ++i)
      if (const Merge *m = findMerge(symbols[i].id, symbols[i + 1].id))
        queue.push({m->rank, int32_t(i), m->result});
    while (!queue.empty()) {
      Candidate top = queue.top();
      queue.pop();
      Symbol &left = symbols[size_t(top.pos)];
      if (left.len == 0 || left.next < 0)
        continue;
      Symbol &right = symbols[size_t(left.next)];
      // Stale entry: one side has merged since it was queued.
      const Merge *m = findMerge(left.id, right.id);
      if (!m || m->result != top.result)
        continue;
      left.id = top.result;
      left.len += right.len;
      left.next = right.next;
      right.len = 0;
      if (left.next >= 0)
        symbols[size_t(left.next)].prev = top.pos;
      if (left.prev >= 0)
        if (const Merge *p = findMerge(symbols[size_t(left.prev)].id, left.id))
          queue.push({p->rank, left.prev, p->result});
      if (left.next >= 0)
        if (const Merge *n = findMerge(left.id, symbols[size_t(left.next)].id))
          queue.push({n->rank, top.pos, n->result});
    }
    for (const Symbol &s : symbols)
      if (s.len)
        ids.push_back(s.id);
    symbols.clear();
    return Status::ok();
  };

  size_t pos = 0;
  while (pos < word.size()) {
    char32_t cp = 0;
    size_t len = decodeUtf8(word, pos, cp);
    if (len == 0) { // not UTF-8: only without a ByteLevel step; one byte per symbol
      len = 1;
      cp = 0xFFFFFFFF;
    }
    std::string_view ch = word.substr(pos, len);
    int32_t id = -1;
    if (cp < charIds_.size())
      id = charIds_[cp];
    else if (auto found = tokenToId(ch))
      id = *found;
    if (id >= 0) {
      if (pendingUnk) // the symbols before it went out when it was found
        ids.push_back(*unkId_);
      pendingUnk = false;
      int32_t index = int32_t(symbols.size());
      if (!symbols.empty())
        symbols.back().next = index;
      symbols.push_back({id, index - 1, -1, uint32_t(len)});
    } else {
      if (Status s = flush(); !s)
        return s;
      if (!unknownChar(ch, pendingUnk, ids)) {
        std::string why = "no token for the character " + describeChar(ch);
        if (!options_.unkToken.empty() && !unkId_)
          why +=
              ", and unk_token " + quote(options_.unkToken) + " is not in the vocabulary";
        return Status::error(why);
      }
    }
    pos += len;
  }
  if (Status s = flush(); !s)
    return s;
  if (pendingUnk)
    ids.push_back(*unkId_);
  return Status::ok();
}

} // namespace mk::runtime::detail
