//===- ancestor_sets.h - Ancestor sets of a DAG, stored as prefix + window -===//
//
// Reachability for the compiler (mk-scoreboard, mk-plan-memory) and the plan verifier.
// Nodes are numbered in a topological order: every edge goes from a lower number to a
// higher one, so the ancestors of a node all have lower numbers. A set of nodes is kept
// as
//
//   words [first, prefix)      every node                 (implicit: no storage)
//   words [prefix, end)        an explicit bitset, the window
//   words [end, last)          no node
//
// over the columns [64 * first, 64 * last) the sets are restricted to (all of them by
// default; the verifier takes them one block at a time to bound its memory). Finishing a
// row moves `prefix` over leading all-ones words and `end` back over trailing zero
// words, so only the undecided stretch is stored.
//
// Why this is small for the programs mk-tile makes: every task of layer i + 1 depends
// on all of layer i through the residual stream, so a finished row's prefix reaches the
// start of its own (or the previous) layer and its window is about one layer wide.
// Building a row from k rows costs O(k x layer / 64) word operations, a whole DAG
// O(edges x layer / 64) instead of O(edges x nodes / 64), and memory is O(nodes x layer
// / 64) instead of O(nodes^2 / 64). Nothing depends on that shape for correctness: on
// an arbitrary DAG windows grow up to whole rows and the sets are still exact.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace mk::isa {

class AncestorSets {
public:
  using Row = uint32_t;

  /// Sets restricted to the columns [64 * first, 64 * last).
  explicit AncestorSets(uint32_t first = 0, uint32_t last = UINT32_MAX)
      : first_(first), last_(last) {}
  /// Drops every row and restricts new ones to [64 * first, 64 * last).
  void reset(uint32_t first, uint32_t last);

  /// A new, empty row whose window is words [prefix, end), both clamped to the column
  /// range: the caller knows every node below 64 * prefix will be in it (it is in one of
  /// the rows it will unite) and none at or above 64 * end will. Rows are built one at a
  /// time: create, then unite / insert, then finish, before the next create.
  Row create(uint32_t prefix, uint32_t end);
  /// Adds `node` (< 64 * end of the row) to the row being built; nodes in its prefix or
  /// below the column range are in it or ignored.
  void insert(Row row, uint32_t node);
  /// Adds the nodes of `src` to the row being built: src.prefix <= dst.prefix and
  /// src.end <= dst.end.
  void unite(Row dst, Row src);
  /// Moves the prefix over full words and the end over zero words; frees the rest.
  void finish(Row row);
  /// A new, finished row: the nodes in every one of `rows` (at least one).
  Row intersect(std::span<const Row> rows);

  bool contains(Row row, uint32_t node) const {
    const Entry &e = rows_[row];
    uint32_t w = node / 64;
    if (w < e.prefix)
      return w >= first_;
    if (w >= e.end)
      return false;
    return (words_[e.offset + (w - e.prefix)] >> (node % 64)) & 1;
  }
  /// Word `w` of the row (in the column range), implicit parts included.
  uint64_t word(Row row, uint32_t w) const {
    const Entry &e = rows_[row];
    if (w < e.prefix)
      return ~uint64_t{0};
    if (w >= e.end)
      return 0;
    return words_[e.offset + (w - e.prefix)];
  }
  uint32_t prefix(Row row) const { return rows_[row].prefix; }
  uint32_t end(Row row) const { return rows_[row].end; }
  uint32_t first() const { return first_; }
  uint32_t last() const { return last_; }
  /// Words held by all rows (what the shape argument above bounds).
  size_t storedWords() const { return words_.size(); }

private:
  struct Entry {
    uint32_t prefix, end;
    size_t offset; // of word `prefix` in words_
  };
  uint32_t first_, last_;
  std::vector<Entry> rows_;
  std::vector<uint64_t> words_;
};

} // namespace mk::isa
