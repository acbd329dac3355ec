//===- weights.cpp - Checking, converting and binding plan weights --------===//

#include "mk/runtime/weights.h"

#include "mk/host/bf16.h"
#include "mk/isa/message_text.h"
#include "mk/isa/task_kinds.h"

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <new>
#include <span>

#include <sys/mman.h>
#include <unistd.h>

namespace mk::runtime {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need swaps");

namespace {

constexpr std::align_val_t kAlign{64};

/// IEEE binary16 -> binary32 (exact: every half is a float).
float halfToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0) { // zero or subnormal: mantissa * 2^-24, exact in float
    float v = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -v : v;
  }
  if (exponent == 31) // inf or NaN (payload kept)
    return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

/// Element `i` of little-endian `src` of dtype `dtype` as a float; `src` may be
/// misaligned.
float loadElement(const uint8_t *src, isa::DType dtype, uint64_t i) {
  switch (dtype) {
  case isa::DType::BF16: {
    uint16_t bits;
    std::memcpy(&bits, src + 2 * i, 2);
    return host::bf16ToFloat(host::bf16{bits});
  }
  case isa::DType::F16: {
    uint16_t bits;
    std::memcpy(&bits, src + 2 * i, 2);
    return halfToFloat(bits);
  }
  case isa::DType::F32:
  case isa::DType::I32: {
    float v;
    std::memcpy(&v, src + 4 * i, 4);
    return v;
  }
  }
  return 0.0f;
}

/// Converts `n` elements of `src` (dtype `from`, little-endian, maybe misaligned) into
/// `dst` as `to` (BF16 or F32), rounding to nearest even.
void convert(const uint8_t *src, isa::DType from, uint64_t n, isa::DType to,
             uint8_t *dst) {
  if (from == to) {
    std::memcpy(dst, src, n * isa::dtypeSize(to));
    return;
  }
  if (to == isa::DType::BF16) {
    auto *out = reinterpret_cast<host::bf16 *>(dst);
    for (uint64_t i = 0; i < n; ++i)
      out[i] = host::floatToBf16(loadElement(src, from, i));
  } else {
    auto *out = reinterpret_cast<float *>(dst);
    for (uint64_t i = 0; i < n; ++i)
      out[i] = loadElement(src, from, i);
  }
}

/// The slice of its checkpoint tensor a rank binds: `parts` equal slices along `dim`,
/// this rank's is `index`. parts 1: the whole tensor.
struct Slice {
  uint32_t dim = 0, parts = 1, index = 0;
};

Slice sliceOf(const isa::TensorDesc &d, uint32_t rank) {
  if (!d.sharded())
    return {};
  return {d.shardDim, d.shardParts, d.shardIndex(rank)};
}

/// The checkpoint's shape of plan tensor `d`: its shape, the sharded dim whole.
std::vector<int64_t> checkpointShape(const isa::TensorDesc &d, const Slice &slice) {
  std::vector<int64_t> shape(d.shape, d.shape + std::min(d.rank, isa::kMaxRank));
  if (slice.dim < shape.size())
    shape[slice.dim] *= slice.parts;
  return shape;
}

/// The plan's embedding table: the table operand of an Embedding task, else the
/// Hugging Face name. kNoTensor when the plan has neither.
uint16_t embeddingTensor(const isa::Plan &plan) {
  constexpr int kTable = isa::roleIndex(isa::TaskKind::Embedding, "table");
  for (const isa::Program &p : plan.programs)
    for (const isa::TaskRecord &r : p.tasks)
      if (r.kind == static_cast<uint16_t>(isa::TaskKind::Embedding) &&
          kTable < r.numOperands && r.operand[kTable] < plan.tensors.size())
        return r.operand[kTable];
  for (size_t i = 0; i < plan.tensors.size(); ++i)
    if (plan.tensors[i].name == "model.embed_tokens.weight")
      return static_cast<uint16_t>(i);
  return isa::kNoTensor;
}

/// Weights of another model fail here, before a confusing per-layer shape error.
Status checkEmbedding(const isa::Plan &plan, const SafetensorsSet &st) {
  uint16_t id = embeddingTensor(plan);
  if (id == isa::kNoTensor || plan.tensors[id].placement != isa::Placement::Weight)
    return Status::ok();
  const SafetensorsTensor *t = st.find(plan.tensors[id].name);
  if (!t) // reported as missing by the main loop
    return Status::ok();
  const int64_t vocab = plan.model.vocabSize, hidden = plan.model.hiddenSize;
  if (t->shape.size() == 2 && t->shape[0] == vocab && t->shape[1] == hidden)
    return Status::ok();
  std::string got = formatShape(t->shape);
  if (t->shape.size() == 2)
    got = "vocab " + std::to_string(t->shape[0]) + " and hidden size " +
          std::to_string(t->shape[1]) + " (" + quote(t->name) + " is " + got + ")";
  else
    got = quote(t->name) + " of shape " + got;
  return Status::error(t->file +
                       ": these weights are for a different model: the plan "
                       "was compiled for vocab " +
                       std::to_string(vocab) + " and hidden size " +
                       std::to_string(hidden) + ", the weights have " + got);
}

} // namespace

void WeightStore::AlignedDelete::operator()(uint8_t *p) const {
  ::operator delete[](p, kAlign);
}

WeightStore::WeightStore() = default;
WeightStore::~WeightStore() = default;
WeightStore::WeightStore(WeightStore &&) noexcept = default;
WeightStore &WeightStore::operator=(WeightStore &&) noexcept = default;

namespace {

/// The whole pages under [data, data + bytes): [begin, end) with begin page-aligned
/// (madvise wants it); empty for no bytes.
struct PageRange {
  uintptr_t begin = 0, end = 0;
  uint64_t page = 0;
};
PageRange pagesOf(const uint8_t *data, uint64_t bytes) {
  static const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE));
  if (bytes == 0 || page == 0)
    return {};
  const uintptr_t at = reinterpret_cast<uintptr_t>(data);
  return {at / page * page, at + bytes, page};
}

/// Maps the pages of a zero-copy weight range now, so the first launch does not take a
/// page fault per 4 KiB of weights (on the ~150M bench model that was most of a 4-token
/// prefill: 246 MB is 60k faults). Only this rank's range: a tensor-parallel rank
/// touches only its slices. MADV_POPULATE_READ (Linux 5.14) maps them without reading
/// through the CPU; where it is unknown, one byte per page is read instead.
void populate(const uint8_t *data, uint64_t bytes) {
  const PageRange r = pagesOf(data, bytes);
  if (r.begin == r.end)
    return;
#ifdef MADV_POPULATE_READ
  if (::madvise(reinterpret_cast<void *>(r.begin), r.end - r.begin, MADV_POPULATE_READ) ==
      0)
    return;
#endif
  volatile uint8_t sink = 0;
  for (uintptr_t p = std::max(r.begin, reinterpret_cast<uintptr_t>(data)); p < r.end;
       p = (p / r.page + 1) * r.page)
    sink = sink + *reinterpret_cast<const volatile uint8_t *>(p);
}

/// Drops this process's page-table entries of a mapped range whose data was copied:
/// the file's page cache stays (for the next run), but the kernel can reclaim it
/// without unmapping it from us first. The mapping is private and read-only, so a
/// later read would fault the same bytes back in.
void unmapPages(const uint8_t *data, uint64_t bytes) {
  const PageRange r = pagesOf(data, bytes);
  if (r.begin != r.end)
    ::madvise(reinterpret_cast<void *>(r.begin), r.end - r.begin, MADV_DONTNEED);
}

std::string megabytes(uint64_t bytes) {
  return std::to_string((bytes + 500000) / 1000000) + " MB";
}

} // namespace

void WeightStore::copyToHugePages(uint64_t availableBytes) {
  auto aligned = [](uint64_t bytes) { return (bytes + 63) / 64 * 64; };
  uint64_t total = 0;
  for (size_t i = 0; i < data_.size(); ++i)
    if (zeroCopy_[i])
      total += aligned(plan_->tensors[i].bytes());
  if (total == 0)
    return;
  auto keepMapped = [&](std::string why) {
    hugePagesNote_ = std::move(why);
    for (size_t i = 0; i < data_.size(); ++i)
      if (zeroCopy_[i])
        populate(static_cast<const uint8_t *>(data_[i]), plan_->tensors[i].bytes());
  };
  // The copy must not push the machine into swapping: MemAvailable counts the file's
  // page cache, which the copy makes reclaimable (unmapPages), so leave a tenth spare.
  const uint64_t available =
      availableBytes ? availableBytes : host::availableMemoryBytes();
  if (available && total > available / 10 * 9)
    return keepMapped("a copy of " + megabytes(total) + " would not fit the " +
                      megabytes(available) + " of available memory");
  const host::TransparentHugePages thp = host::transparentHugePages();
  if (!thp.available)
    return keepMapped("transparent huge pages are '" + thp.setting +
                      "' (/sys/kernel/mm/transparent_hugepage/enabled)");
  host::HugePageBuffer buffer = host::HugePageBuffer::allocate(total);
  if (!buffer)
    return keepMapped("cannot map " + megabytes(total) + ": " + std::strerror(errno));
  if (!buffer.hugePages())
    return keepMapped("madvise(MADV_HUGEPAGE) was refused");
  uint8_t *dst = buffer.data();
  for (size_t i = 0; i < data_.size(); ++i) {
    if (!zeroCopy_[i])
      continue;
    const auto *src = static_cast<const uint8_t *>(data_[i]);
    const uint64_t bytes = plan_->tensors[i].bytes();
    populate(src, bytes); // one call maps the pages, not a fault per 4 KiB
    std::memcpy(dst, src, bytes);
    unmapPages(src, bytes);
    data_[i] = dst;
    zeroCopy_[i] = false;
    dst += aligned(bytes);
  }
  hugePages_ = std::move(buffer);
}

Status WeightStore::load(const isa::Plan &plan, const SafetensorsSet &st, uint32_t rank,
                         const WeightLoadOptions &options) {
  *this = WeightStore();
  const uint32_t ranks = std::max(plan.tensorParallel, 1u);
  if (rank >= ranks)
    return Status::error("weights: rank " + std::to_string(rank) + " of a plan of " +
                         std::to_string(ranks) + " tensor-parallel rank" +
                         (ranks == 1 ? "" : "s"));
  if (Status s = checkEmbedding(plan, st); !s)
    return s;

  WeightStore w;
  w.plan_ = &plan;
  w.data_.assign(plan.tensors.size(), nullptr);
  w.zeroCopy_.assign(plan.tensors.size(), false);
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const isa::TensorDesc &d = plan.tensors[i];
    if (d.placement != isa::Placement::Weight)
      continue;
    const SafetensorsTensor *t = st.find(d.name);
    if (!t)
      return Status::error(st.source() + ": tensor " + quote(d.name) +
                           " is missing (the plan needs it)");
    const Slice slice = sliceOf(d, rank);
    if (slice.parts > 1 && slice.dim >= std::min(d.rank, 2u))
      return Status::error("plan tensor " + quote(d.name) + " of rank " +
                           std::to_string(d.rank) + " is sharded along dim " +
                           std::to_string(slice.dim) + "; weights shard along dim 0 " +
                           "or 1 of a matrix");
    const std::vector<int64_t> expected = checkpointShape(d, slice);
    if (t->shape != expected)
      return Status::error(
          t->file + ": tensor " + quote(d.name) + " has shape " + formatShape(t->shape) +
          ", the plan expects " + formatShape(expected) +
          (slice.parts > 1 ? " (" + std::to_string(slice.parts) + " slices along dim " +
                                 std::to_string(slice.dim) + ")"
                           : "") +
          " (is this the model the plan was compiled for?)");
    if (d.dtype != isa::DType::BF16 && d.dtype != isa::DType::F32)
      return Status::error("plan tensor " + quote(d.name) + " has dtype " +
                           isa::dtypeName(d.dtype) + "; weights load as bf16 or f32");
    const uint64_t bytes = d.bytes();
    const uint64_t srcSize = isa::dtypeSize(t->dtype);
    // Elements of the plan's shape: [outer, cols, inner] with the slice along `cols`
    // (dim 1) or whole rows of it (dim 0: outer = 1, cols = the slice's rows).
    const uint64_t n = d.numElements();
    const bool strided = slice.parts > 1 && slice.dim == 1;
    const uint8_t *src = t->data;
    if (slice.parts > 1 && slice.dim == 0)
      src += uint64_t(slice.index) * n * srcSize; // rows [index * n0, (index + 1) * n0)
    const bool aligned = reinterpret_cast<uintptr_t>(src) % isa::dtypeSize(d.dtype) == 0;
    if (!strided && t->dtype == d.dtype && aligned) {
      // The executor only reads weights; the mapping is PROT_READ, so a stray write
      // faults instead of corrupting the checkpoint's page cache.
      w.data_[i] = const_cast<uint8_t *>(src);
      w.zeroCopy_[i] = true;
      if (!options.hugePages)
        populate(src, bytes);
    } else {
      uint8_t *p = static_cast<uint8_t *>(
          ::operator new[](std::max<uint64_t>(bytes, 1), kAlign, std::nothrow));
      if (!p)
        return Status::error(t->file + ": cannot allocate " + std::to_string(bytes) +
                             " bytes to convert tensor " + quote(d.name));
      w.owned_.emplace_back(p);
      if (strided) {
        // [outer, cols * parts, inner] -> [outer, cols, inner]: one contiguous run of
        // cols * inner elements per outer row, read at the slice's columns.
        const uint64_t outer = uint64_t(d.shape[0]);
        const uint64_t run = outer ? n / outer : 0;
        const uint64_t dstSize = isa::dtypeSize(d.dtype);
        for (uint64_t o = 0; o < outer; ++o)
          convert(src + (o * slice.parts + slice.index) * run * srcSize, t->dtype, run,
                  d.dtype, p + o * run * dstSize);
      } else {
        convert(src, t->dtype, n, d.dtype, p);
      }
      w.data_[i] = p;
      w.ownedBytes_ += bytes;
    }
    w.bytes_ += bytes;
  }
  if (options.hugePages)
    w.copyToHugePages(options.availableBytes);
  *this = std::move(w);
  return Status::ok();
}

void *WeightStore::data(uint16_t tensorId) const {
  return tensorId < data_.size() ? data_[tensorId] : nullptr;
}

bool WeightStore::isZeroCopy(uint16_t tensorId) const {
  return tensorId < zeroCopy_.size() && zeroCopy_[tensorId];
}

bool WeightStore::isInHugePages(uint16_t tensorId) const {
  const auto *p = static_cast<const uint8_t *>(data(tensorId));
  return p && hugePages_ && p >= hugePages_.data() &&
         p < hugePages_.data() + hugePages_.size();
}

Status WeightStore::bindTo(Executor &exec) const {
  if (!plan_)
    return Status::error("weights: bindTo before a successful load");
  for (size_t i = 0; i < data_.size(); ++i)
    if (data_[i])
      if (Status s = exec.bind(static_cast<uint16_t>(i), data_[i]); !s)
        return s;
  return Status::ok();
}

} // namespace mk::runtime
