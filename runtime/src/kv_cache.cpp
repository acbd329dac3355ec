//===- kv_cache.cpp - KV cache memory and the block allocator -------------===//
//
// Each KV tensor is its own anonymous mapping: zero-filled by the kernel, page-aligned,
// and only touched pages cost memory, so a cache sized for max_seq_len is cheap until
// sequences grow into it.
//===----------------------------------------------------------------------===//

#include "mk/runtime/kv_cache.h"

#include "mk/isa/message_text.h"
#include "mk/isa/step_state.h"

#include <cassert>
#include <cerrno>
#include <cstring>
#include <limits>

#include <sys/mman.h>

namespace mk::runtime {

struct KvCache::Region {
  void *data = nullptr;
  uint64_t bytes = 0;

  Region() = default;
  Region(void *d, uint64_t b) : data(d), bytes(b) {}
  Region(Region &&o) noexcept : data(o.data), bytes(o.bytes) { o.data = nullptr; }
  Region &operator=(Region &&o) noexcept {
    std::swap(data, o.data);
    std::swap(bytes, o.bytes);
    return *this;
  }
  ~Region() {
    if (data)
      ::munmap(data, bytes);
  }
};

KvCache::KvCache() = default;
KvCache::~KvCache() = default;
KvCache::KvCache(KvCache &&) noexcept = default;
KvCache &KvCache::operator=(KvCache &&) noexcept = default;

Status KvCache::init(const isa::Plan &plan) {
  KvCache c;
  c.plan_ = &plan;
  c.blockSize_ = plan.model.kvBlockSize;
  if (c.blockSize_ == 0)
    return Status::error("KV cache: the plan's kv block size is 0");
  int64_t blocks = -1;
  std::string first;
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const isa::TensorDesc &d = plan.tensors[i];
    if (d.placement != isa::Placement::KvCache)
      continue;
    const std::vector<int64_t> shape(d.shape, d.shape + std::min(d.rank, isa::kMaxRank));
    const std::string where = "KV cache tensor " + quote(d.name);
    if (d.dtype != isa::DType::BF16 || d.rank != 4)
      return Status::error(where + " is " + isa::dtypeName(d.dtype) + " " +
                           formatShape(shape) +
                           "; expected bf16 [blocks, block_size, kv_heads, head_dim]");
    if (d.shape[1] != int64_t(c.blockSize_))
      return Status::error(where + " has block size " + std::to_string(d.shape[1]) +
                           " but the plan's model says " + std::to_string(c.blockSize_));
    if (d.shape[0] <= 0 || d.shape[2] <= 0 || d.shape[3] <= 0)
      return Status::error(where + " has shape " + formatShape(shape) +
                           "; every dimension must be positive");
    if (blocks >= 0 && d.shape[0] != blocks)
      return Status::error(where + " has " + std::to_string(d.shape[0]) + " blocks but " +
                           quote(first) + " has " + std::to_string(blocks) +
                           "; all layers share one block numbering");
    if (blocks < 0) {
      blocks = d.shape[0];
      first = d.name;
    }
    // Slots (block * block_size + offset) are int32 in the step state.
    if (blocks > std::numeric_limits<int32_t>::max() / int64_t(c.blockSize_))
      return Status::error(where + " has " + std::to_string(blocks) +
                           " blocks; slots would not fit in int32");
    const uint64_t bytes = d.bytes();
    void *p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (p == MAP_FAILED)
      return Status::error("KV cache: cannot allocate " + std::to_string(bytes) +
                           " bytes for " + quote(d.name) + ": " + std::strerror(errno));
    c.regions_.emplace_back(p, bytes);
    c.ids_.push_back(static_cast<uint16_t>(i));
  }
  if (c.ids_.empty())
    return Status::error("KV cache: the plan has no KV-cache tensors");
  c.numBlocks_ = static_cast<uint32_t>(blocks);
  c.allocated_.assign(c.numBlocks_, false);
  c.free_.reserve(c.numBlocks_);
  for (uint32_t b = c.numBlocks_; b-- > 0;) // block 0 on top
    c.free_.push_back(b);
  *this = std::move(c);
  return Status::ok();
}

Status KvCache::bindTo(Executor &exec) const {
  if (!plan_)
    return Status::error("KV cache: bindTo before a successful init");
  for (size_t k = 0; k < ids_.size(); ++k)
    if (Status s = exec.bind(ids_[k], regions_[k].data); !s)
      return s;
  return Status::ok();
}

void *KvCache::data(uint16_t tensorId) const {
  for (size_t k = 0; k < ids_.size(); ++k)
    if (ids_[k] == tensorId)
      return regions_[k].data;
  return nullptr;
}

uint64_t KvCache::bytes() const {
  uint64_t total = 0;
  for (const Region &r : regions_)
    total += r.bytes;
  return total;
}

uint32_t KvCache::blocksFor(uint32_t tokens) const {
  return blockSize_
             ? static_cast<uint32_t>((uint64_t(tokens) + blockSize_ - 1) / blockSize_)
             : 0;
}

std::optional<uint32_t> KvCache::allocate() {
  if (free_.empty())
    return std::nullopt;
  uint32_t b = free_.back();
  free_.pop_back();
  allocated_[b] = true;
  return b;
}

void KvCache::free(uint32_t block) {
  bool valid = block < numBlocks_ && allocated_[block];
  assert(valid && "KvCache::free of a block that is not allocated");
  if (!valid)
    return;
  allocated_[block] = false;
  free_.push_back(block);
}

Status KvCache::ensure(SequenceBlocks &seq, uint32_t tokens) {
  const uint32_t need = blocksFor(tokens);
  if (need <= seq.blocks.size())
    return Status::ok();
  const uint32_t more = need - static_cast<uint32_t>(seq.blocks.size());
  if (more > freeBlocks())
    return Status::error("KV cache full: sequence needs " + std::to_string(more) +
                         " more blocks (for " + std::to_string(tokens) + " tokens), " +
                         std::to_string(freeBlocks()) + " free of " +
                         std::to_string(numBlocks_));
  for (uint32_t k = 0; k < more; ++k)
    seq.blocks.push_back(static_cast<int32_t>(*allocate()));
  return Status::ok();
}

void KvCache::release(SequenceBlocks &seq) {
  // Reverse order, so the next sequence gets the same blocks in the same order.
  for (auto it = seq.blocks.rbegin(); it != seq.blocks.rend(); ++it)
    free(static_cast<uint32_t>(*it));
  seq.blocks.clear();
}

int32_t KvCache::slot(const SequenceBlocks &seq, uint32_t pos) const {
  if (blockSize_ == 0 || pos / blockSize_ >= seq.blocks.size())
    return -1;
  return static_cast<int32_t>(isa::kvSlot(seq.blocks.data(), pos, blockSize_));
}

Status KvCache::writeBlockTableRow(const SequenceBlocks &seq,
                                   std::span<int32_t> row) const {
  if (seq.blocks.size() > row.size())
    return Status::error("KV cache: sequence holds " + std::to_string(seq.blocks.size()) +
                         " blocks but a block-table row has room for " +
                         std::to_string(row.size()) + " (" +
                         std::to_string(uint64_t(row.size()) * blockSize_) +
                         " tokens, the plan's max sequence length)");
  std::copy(seq.blocks.begin(), seq.blocks.end(), row.begin());
  std::fill(row.begin() + seq.blocks.size(), row.end(), 0);
  return Status::ok();
}

} // namespace mk::runtime
