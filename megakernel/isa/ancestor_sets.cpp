//===- ancestor_sets.cpp - Ancestor sets of a DAG, stored as prefix + window ===//
#include "mk/isa/ancestor_sets.h"

#include <algorithm>
#include <cassert>

namespace mk::isa {

void AncestorSets::reset(uint32_t first, uint32_t last) {
  first_ = first;
  last_ = last;
  rows_.clear();
  words_.clear();
}

AncestorSets::Row AncestorSets::create(uint32_t prefix, uint32_t end) {
  prefix = std::clamp(prefix, first_, last_);
  end = std::clamp(end, prefix, last_);
  rows_.push_back({prefix, end, words_.size()});
  words_.resize(words_.size() + (end - prefix), 0);
  return static_cast<Row>(rows_.size() - 1);
}

void AncestorSets::insert(Row row, uint32_t node) {
  const Entry &e = rows_[row];
  uint32_t w = node / 64;
  if (w < e.prefix || w >= last_)
    return;
  assert(w < e.end && "node past the row's window");
  words_[e.offset + (w - e.prefix)] |= uint64_t{1} << (node % 64);
}

void AncestorSets::unite(Row dst, Row src) {
  const Entry &d = rows_[dst], &s = rows_[src];
  assert(s.prefix <= d.prefix && s.end <= d.end && "source row outside the window");
  if (s.end <= d.prefix)
    return; // all of src lies in dst's prefix
  uint64_t *out = &words_[d.offset];
  const uint64_t *in = &words_[s.offset + (d.prefix - s.prefix)];
  for (uint32_t i = 0, n = s.end - d.prefix; i < n; ++i)
    out[i] |= in[i];
}

void AncestorSets::finish(Row row) {
  Entry &e = rows_[row];
  assert(e.offset + (e.end - e.prefix) == words_.size() && "not the last row");
  uint32_t full = 0, n = e.end - e.prefix;
  while (full < n && words_[e.offset + full] == ~uint64_t{0})
    ++full;
  while (n > full && words_[e.offset + n - 1] == 0)
    --n;
  std::copy(words_.begin() + e.offset + full, words_.begin() + e.offset + n,
            words_.begin() + e.offset);
  e.end = e.prefix + n;
  e.prefix += full;
  words_.resize(e.offset + (n - full));
}

AncestorSets::Row AncestorSets::intersect(std::span<const Row> rows) {
  assert(!rows.empty() && "intersection of no rows");
  uint32_t prefix = last_, end = last_;
  for (Row r : rows) {
    prefix = std::min(prefix, rows_[r].prefix);
    end = std::min(end, rows_[r].end);
  }
  // Below the least prefix every row is full; from the least end on one is empty.
  Row out = create(prefix, end);
  const Entry &e = rows_[out];
  std::fill(words_.begin() + e.offset, words_.end(), ~uint64_t{0});
  for (Row r : rows)
    for (uint32_t w = e.prefix; w < e.end; ++w)
      words_[e.offset + (w - e.prefix)] &= word(r, w);
  finish(out);
  return out;
}

} // namespace mk::isa
