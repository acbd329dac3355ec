//===- plan_file.cpp - Reading and writing .mkp plan files ----------------===//
//
// Plan file format, version 3 (version 1 had no MoE fields in META, version 2 no shard
// fields in TENS). Little-endian, no
// padding, no alignment assumed.
//
//   header (40 B)
//      0  u8[8]  magic "MKPLAN\0\1"
//      8  u32    format version (kPlanFormatVersion)
//     12  u32    ISA version (kIsaVersion)
//     16  u32    target (TargetKind)
//     20  u32    tensor parallel degree
//     24  u64    payload bytes: the file is exactly 40 + this long
//     32  u64    FNV-1a 64 of the payload
//   payload: three sections in this order, each `u8[4] tag, u64 body bytes, body`
//     "META"  str family; u32 vocab, hidden, intermediate, layers, heads, kv heads,
//             head dim, max seq len, kv block size, sliding window; f32 rms eps,
//             rope theta; u8 rope style, rope llama3; f32 rope factor, low freq factor,
//             high freq factor; u32 rope original max pos; u8 tie embeddings,
//             attention bias, qk norm; i32 bos; u32 n, i32[n] eos ids; u64 config hash;
//             u32 num experts, experts per token, moe intermediate size; u8 norm topk
//             prob
//     "TENS"  u32 n; n x { str name; u8 dtype, placement, rank, 0; u16 layer, program;
//             i64 shape[4]; u64 offset; u8 shard dim, 0; u16 shard parts, shard
//             replicas, 0 }
//     "PROG"  u32 n; n x { str name; u8 kind, 0, 0, 0; u32 rows; u64 arena bytes;
//             u32 ne, ne x { str name; u32 count };
//             u32 nt, nt x TaskRecord (128 B, exactly as in task_record.h);
//             u32 no, u32 order[no] }
//   str = u32 byte length (<= kPlanMaxStringBytes) + bytes, no terminator; f32 = IEEE
//   bits; u8 flags are 0 or 1; reserved bytes are 0.
//
// The reader checks structure only; verifyPlan() checks meaning. Every count is checked
// against the bytes left in its section before anything is allocated, so a corrupted
// count cannot ask for more memory than the file could describe.
//===----------------------------------------------------------------------===//
#include "mk/isa/plan_file.h"

#include "str_format.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstring>
#include <limits>

namespace mk::isa {

static_assert(std::endian::native == std::endian::little,
              "task records are stored raw: a big-endian host needs byte swapping here");

namespace {

using detail::strFormat;

constexpr char kTagMeta[4] = {'M', 'E', 'T', 'A'};
constexpr char kTagTensors[4] = {'T', 'E', 'N', 'S'};
constexpr char kTagPrograms[4] = {'P', 'R', 'O', 'G'};

// Smallest encodings, to bound counts before allocating.
constexpr size_t kMinTensorBytes = 4 + 4 + 4 + 8 * kMaxRank + 8 + 8;
constexpr size_t kMinEventBytes = 4 + 4;
constexpr size_t kMinProgramBytes = 4 + 4 + 4 + 8 + 4 + 4 + 4;

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

class ByteWriter {
public:
  explicit ByteWriter(std::vector<uint8_t> &out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { le(v, 2); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f32(float v) { u32(std::bit_cast<uint32_t>(v)); }
  void raw(const void *p, size_t n) {
    const auto *b = static_cast<const uint8_t *>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void str(const std::string &s) { // length checked by checkWritable()
    u32(static_cast<uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  /// Writes the tag and a size placeholder; returns where the size goes.
  size_t beginSection(const char (&tag)[4]) {
    raw(tag, 4);
    size_t at = out_.size();
    u64(0);
    return at;
  }
  void endSection(size_t at) { patch64(at, out_.size() - at - 8); }
  void patch64(size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i)
      out_[at + i] = static_cast<uint8_t>(v >> (8 * i));
  }

private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> &out_;
};

Status checkString(const std::string &s, const std::string &what) {
  if (s.size() <= kPlanMaxStringBytes)
    return Status::ok();
  return Status::error(strFormat("cannot write plan: %s is %zu bytes long, the plan "
                                 "format allows at most %u",
                                 what.c_str(), s.size(), kPlanMaxStringBytes));
}

Status checkCount(size_t n, const std::string &what) {
  if (n <= std::numeric_limits<uint32_t>::max())
    return Status::ok();
  return Status::error(strFormat("cannot write plan: %zu %s, the plan format allows at "
                                 "most 2^32 - 1",
                                 n, what.c_str()));
}

#define MK_PLAN_TRY(expr)                                                                \
  do {                                                                                   \
    if (::mk::Status mkTryStatus = (expr); !mkTryStatus)                                 \
      return mkTryStatus;                                                                \
  } while (0)

/// What the format cannot hold; everything else is written as is (verifyPlan judges).
Status checkWritable(const Plan &plan) {
  MK_PLAN_TRY(checkString(plan.model.family, "the model family"));
  MK_PLAN_TRY(checkCount(plan.model.eosTokenIds.size(), "eos token ids"));
  MK_PLAN_TRY(checkCount(plan.tensors.size(), "tensors"));
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const TensorDesc &t = plan.tensors[i];
    MK_PLAN_TRY(checkString(t.name, strFormat("the name of tensor %zu", i)));
    if (t.rank > kMaxRank)
      return Status::error(strFormat("cannot write plan: tensor %zu %s has rank %u, the "
                                     "plan format allows at most %u",
                                     i, quote(t.name).c_str(), t.rank, kMaxRank));
  }
  MK_PLAN_TRY(checkCount(plan.programs.size(), "programs"));
  for (size_t p = 0; p < plan.programs.size(); ++p) {
    const Program &prog = plan.programs[p];
    MK_PLAN_TRY(checkString(prog.name, strFormat("the name of program %zu", p)));
    MK_PLAN_TRY(checkCount(prog.events.size(), "events in program " + quote(prog.name)));
    MK_PLAN_TRY(checkCount(prog.tasks.size(), "tasks in program " + quote(prog.name)));
    MK_PLAN_TRY(
        checkCount(prog.order.size(), "order entries in program " + quote(prog.name)));
    for (size_t e = 0; e < prog.events.size(); ++e)
      MK_PLAN_TRY(checkString(prog.events[e].name,
                              strFormat("the name of event %zu of program %zu", e, p)));
  }
  return Status::ok();
}

void writeMeta(ByteWriter &w, const ModelMeta &m) {
  size_t at = w.beginSection(kTagMeta);
  w.str(m.family);
  for (uint32_t v :
       {m.vocabSize, m.hiddenSize, m.intermediateSize, m.numLayers, m.numHeads,
        m.numKvHeads, m.headDim, m.maxSeqLen, m.kvBlockSize, m.slidingWindow})
    w.u32(v);
  w.f32(m.rmsNormEps);
  w.f32(m.ropeTheta);
  w.u8(static_cast<uint8_t>(m.ropeStyle));
  w.u8(m.ropeLlama3 ? 1 : 0);
  w.f32(m.ropeFactor);
  w.f32(m.ropeLowFreqFactor);
  w.f32(m.ropeHighFreqFactor);
  w.u32(m.ropeOriginalMaxPos);
  w.u8(m.tieWordEmbeddings ? 1 : 0);
  w.u8(m.attentionBias ? 1 : 0);
  w.u8(m.qkNorm ? 1 : 0);
  w.i32(m.bosTokenId);
  w.u32(static_cast<uint32_t>(m.eosTokenIds.size()));
  for (int32_t id : m.eosTokenIds)
    w.i32(id);
  w.u64(m.configHash);
  w.u32(m.numExperts);
  w.u32(m.numExpertsPerTok);
  w.u32(m.moeIntermediateSize);
  w.u8(m.normTopkProb ? 1 : 0);
  w.endSection(at);
}

void writeTensors(ByteWriter &w, const std::vector<TensorDesc> &tensors) {
  size_t at = w.beginSection(kTagTensors);
  w.u32(static_cast<uint32_t>(tensors.size()));
  for (const TensorDesc &t : tensors) {
    w.str(t.name);
    w.u8(static_cast<uint8_t>(t.dtype));
    w.u8(static_cast<uint8_t>(t.placement));
    w.u8(static_cast<uint8_t>(t.rank));
    w.u8(0);
    w.u16(t.layer);
    w.u16(t.program);
    for (int64_t d : t.shape)
      w.i64(d);
    w.u64(t.offset);
    w.u8(t.shardDim);
    w.u8(0);
    w.u16(t.shardParts);
    w.u16(t.shardReplicas);
    w.u16(0);
  }
  w.endSection(at);
}

void writePrograms(ByteWriter &w, const std::vector<Program> &programs) {
  size_t at = w.beginSection(kTagPrograms);
  w.u32(static_cast<uint32_t>(programs.size()));
  for (const Program &p : programs) {
    w.str(p.name);
    w.u8(static_cast<uint8_t>(p.kind));
    w.u8(0);
    w.u8(0);
    w.u8(0);
    w.u32(p.rows);
    w.u64(p.arenaBytes);
    w.u32(static_cast<uint32_t>(p.events.size()));
    for (const EventDesc &e : p.events) {
      w.str(e.name);
      w.u32(e.count);
    }
    w.u32(static_cast<uint32_t>(p.tasks.size()));
    w.raw(p.tasks.data(), p.tasks.size() * sizeof(TaskRecord));
    w.u32(static_cast<uint32_t>(p.order.size()));
    for (uint32_t t : p.order)
      w.u32(t);
  }
  w.endSection(at);
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

/// Bounds-checked little-endian reads with a latched error: after the first failure
/// every read returns zero and consumes nothing, so parsers check once per entry.
class ByteReader {
public:
  explicit ByteReader(std::span<const uint8_t> file) : file_(file), end_(file.size()) {}

  explicit operator bool() const { return !failed_; }
  Status status() const { return failed_ ? Status::error(message_) : Status::ok(); }
  void seek(size_t pos) { pos_ = pos; }
  size_t left() const { return end_ - pos_; }

  void fail(std::string message) {
    if (!failed_) {
      failed_ = true;
      message_ = std::move(message);
    }
  }
  /// Names the entry being parsed in later messages, e.g. ("program", 1, "event", 3).
  void entry(const char *kind, size_t index, const char *sub = nullptr,
             size_t subIndex = 0) {
    entryKind_ = kind;
    entryIndex_ = index;
    subKind_ = sub;
    subIndex_ = subIndex;
  }
  /// "tensor table (tensor 3)"
  std::string where() const {
    std::string s = what_;
    if (entryKind_) {
      s += strFormat(" (%s %zu", entryKind_, entryIndex_);
      if (subKind_)
        s += strFormat(", %s %zu", subKind_, subIndex_);
      s += ")";
    }
    return s;
  }

  const uint8_t *take(size_t n) {
    if (failed_)
      return nullptr;
    if (n > left()) {
      fail(strFormat("truncated %s: need %zu bytes at offset %zu, %s", where().c_str(), n,
                     pos_, limitText().c_str()));
      return nullptr;
    }
    const uint8_t *p = file_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint8_t u8() { return static_cast<uint8_t>(le(1)); }
  uint16_t u16() { return static_cast<uint16_t>(le(2)); }
  uint32_t u32() { return static_cast<uint32_t>(le(4)); }
  uint64_t u64() { return le(8); }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  float f32() { return std::bit_cast<float>(u32()); }

  bool flag(const char *field) {
    uint8_t v = u8();
    if (v > 1)
      fail(strFormat("%s: %s is %u at offset %zu, expected 0 or 1", where().c_str(),
                     field, v, pos_ - 1));
    return v == 1;
  }
  void zero(const char *field) {
    uint8_t v = u8();
    if (v != 0)
      fail(strFormat("%s: reserved byte (%s) is %u at offset %zu, expected 0",
                     where().c_str(), field, v, pos_ - 1));
  }
  std::string str(const char *field) {
    size_t at = pos_;
    uint32_t n = u32();
    if (failed_)
      return {};
    if (n > kPlanMaxStringBytes) {
      fail(strFormat("%s: %s is %u bytes long at offset %zu, the limit is %u",
                     where().c_str(), field, n, at, kPlanMaxStringBytes));
      return {};
    }
    const uint8_t *p = take(n);
    return p ? std::string(reinterpret_cast<const char *>(p), n) : std::string();
  }
  /// A count of items that take at least `minBytes` each, checked against the bytes
  /// left before the caller allocates anything.
  uint32_t count(size_t minBytes, const char *items) {
    size_t at = pos_;
    uint32_t n = u32();
    if (failed_)
      return 0;
    if (n > left() / minBytes) {
      fail(strFormat("truncated %s: %u %s need at least %" PRIu64 " bytes after offset "
                     "%zu, %s",
                     where().c_str(), n, items, static_cast<uint64_t>(n) * minBytes, at,
                     limitText().c_str()));
      return 0;
    }
    return n;
  }

  /// Reads a section header and limits the reads that follow to its body.
  void beginSection(const char (&tag)[4], const char *what) {
    what_ = what;
    entry(nullptr, 0);
    size_t at = pos_;
    const uint8_t *t = take(4);
    if (!t)
      return;
    if (std::memcmp(t, tag, 4) != 0) {
      fail(strFormat(
          "%s: expected section tag '%.4s' at offset %zu, found %s", what, tag, at,
          quote(std::string_view(reinterpret_cast<const char *>(t), 4)).c_str()));
      return;
    }
    uint64_t size = u64();
    if (failed_)
      return;
    if (size > left()) {
      fail(strFormat("truncated %s: the section is %" PRIu64 " bytes at offset %zu, %s",
                     what, size, pos_, limitText().c_str()));
      return;
    }
    end_ = pos_ + static_cast<size_t>(size);
  }
  void endSection() {
    entry(nullptr, 0);
    if (!failed_ && pos_ != end_)
      fail(strFormat("%s: %zu unexpected bytes at the end of the section (offset %zu)",
                     what_, end_ - pos_, pos_));
    end_ = file_.size();
  }
  void expectEnd() {
    if (!failed_ && pos_ != file_.size())
      fail(strFormat("%zu unexpected bytes after the last section (offset %zu)",
                     file_.size() - pos_, pos_));
  }

private:
  uint64_t le(size_t n) {
    const uint8_t *p = take(n);
    uint64_t v = 0;
    if (p)
      for (size_t i = 0; i < n; ++i)
        v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
  }
  std::string limitText() const {
    if (end_ == file_.size())
      return strFormat("file has %zu", file_.size());
    return strFormat("the section ends at offset %zu", end_);
  }

  std::span<const uint8_t> file_;
  size_t pos_ = 0;
  size_t end_;
  const char *what_ = "header";
  const char *entryKind_ = nullptr;
  size_t entryIndex_ = 0;
  const char *subKind_ = nullptr;
  size_t subIndex_ = 0;
  bool failed_ = false;
  std::string message_;
};

void readMeta(ByteReader &r, ModelMeta &m) {
  r.beginSection(kTagMeta, "model metadata");
  m.family = r.str("family");
  for (uint32_t *v :
       {&m.vocabSize, &m.hiddenSize, &m.intermediateSize, &m.numLayers, &m.numHeads,
        &m.numKvHeads, &m.headDim, &m.maxSeqLen, &m.kvBlockSize, &m.slidingWindow})
    *v = r.u32();
  m.rmsNormEps = r.f32();
  m.ropeTheta = r.f32();
  m.ropeStyle = static_cast<RopeStyle>(r.u8());
  m.ropeLlama3 = r.flag("ropeLlama3");
  m.ropeFactor = r.f32();
  m.ropeLowFreqFactor = r.f32();
  m.ropeHighFreqFactor = r.f32();
  m.ropeOriginalMaxPos = r.u32();
  m.tieWordEmbeddings = r.flag("tieWordEmbeddings");
  m.attentionBias = r.flag("attentionBias");
  m.qkNorm = r.flag("qkNorm");
  m.bosTokenId = r.i32();
  uint32_t numEos = r.count(4, "eos token ids");
  m.eosTokenIds.resize(numEos);
  for (int32_t &id : m.eosTokenIds)
    id = r.i32();
  m.configHash = r.u64();
  m.numExperts = r.u32();
  m.numExpertsPerTok = r.u32();
  m.moeIntermediateSize = r.u32();
  m.normTopkProb = r.flag("normTopkProb");
  r.endSection();
}

void readTensors(ByteReader &r, std::vector<TensorDesc> &tensors) {
  r.beginSection(kTagTensors, "tensor table");
  uint32_t n = r.count(kMinTensorBytes, "tensors");
  tensors.resize(n);
  for (uint32_t i = 0; i < n && r; ++i) {
    TensorDesc &t = tensors[i];
    r.entry("tensor", i);
    t.name = r.str("name");
    t.dtype = static_cast<DType>(r.u8());
    t.placement = static_cast<Placement>(r.u8());
    t.rank = r.u8();
    // Checked here, not only in verifyPlan: numElements() indexes shape[rank - 1].
    if (r && t.rank > kMaxRank)
      r.fail(strFormat("tensor table: tensor %u %s has rank %u, at most %u is allowed", i,
                       quote(t.name).c_str(), t.rank, kMaxRank));
    r.zero("after rank");
    t.layer = r.u16();
    t.program = r.u16();
    for (int64_t &d : t.shape)
      d = r.i64();
    t.offset = r.u64();
    t.shardDim = r.u8();
    r.zero("after the shard dim");
    t.shardParts = r.u16();
    t.shardReplicas = r.u16();
    r.zero("after the shard replicas");
    r.zero("after the shard replicas");
  }
  r.endSection();
}

void readPrograms(ByteReader &r, std::vector<Program> &programs) {
  r.beginSection(kTagPrograms, "program table");
  uint32_t n = r.count(kMinProgramBytes, "programs");
  programs.resize(n);
  for (uint32_t p = 0; p < n && r; ++p) {
    Program &prog = programs[p];
    r.entry("program", p);
    prog.name = r.str("name");
    prog.kind = static_cast<ProgramKind>(r.u8());
    for (int i = 0; i < 3; ++i)
      r.zero("after kind");
    prog.rows = r.u32();
    prog.arenaBytes = r.u64();

    uint32_t numEvents = r.count(kMinEventBytes, "events");
    prog.events.resize(numEvents);
    for (uint32_t e = 0; e < numEvents && r; ++e) {
      r.entry("program", p, "event", e);
      prog.events[e].name = r.str("name");
      prog.events[e].count = r.u32();
    }

    r.entry("program", p);
    uint32_t numTasks = r.count(sizeof(TaskRecord), "tasks");
    prog.tasks.resize(numTasks);
    if (const uint8_t *b = r.take(numTasks * sizeof(TaskRecord)); b && numTasks)
      std::memcpy(prog.tasks.data(), b, numTasks * sizeof(TaskRecord));

    uint32_t numOrder = r.count(4, "order entries");
    prog.order.resize(numOrder);
    for (uint32_t &t : prog.order)
      t = r.u32();
  }
  r.endSection();
}

} // namespace

uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t basis) {
  uint64_t h = basis;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

Status writePlan(const Plan &plan, std::vector<uint8_t> &out) {
  MK_PLAN_TRY(checkWritable(plan));
  out.clear();
  size_t estimate = kPlanHeaderBytes + 4096 + plan.tensors.size() * 128;
  for (const Program &p : plan.programs)
    estimate += p.tasks.size() * (sizeof(TaskRecord) + 4) + p.events.size() * 48;
  out.reserve(estimate);

  ByteWriter w(out);
  w.raw(kPlanMagic, sizeof kPlanMagic);
  w.u32(kPlanFormatVersion);
  w.u32(kIsaVersion);
  w.u32(static_cast<uint32_t>(plan.target));
  w.u32(plan.tensorParallel);
  w.u64(0); // payload bytes, patched below
  w.u64(0); // checksum, patched below
  writeMeta(w, plan.model);
  writeTensors(w, plan.tensors);
  writePrograms(w, plan.programs);

  std::span<const uint8_t> payload(out.data() + kPlanHeaderBytes,
                                   out.size() - kPlanHeaderBytes);
  w.patch64(kPlanPayloadBytesOffset, payload.size());
  w.patch64(kPlanChecksumOffset, fnv1a64(payload));
  return Status::ok();
}

Status readPlan(std::span<const uint8_t> bytes, Plan &out) {
  if (bytes.empty())
    return Status::error("empty plan: 0 bytes, expected a 40-byte header starting with "
                         "the magic \"MKPLAN\\0\\1\"");
  if (std::memcmp(bytes.data(), kPlanMagic, std::min(bytes.size(), sizeof kPlanMagic)))
    return Status::error("not an mk plan: the file does not start with the magic "
                         "\"MKPLAN\\0\\1\"");
  if (bytes.size() < kPlanHeaderBytes)
    return Status::error(strFormat("truncated header: need %zu bytes at offset 0, file "
                                   "has %zu",
                                   kPlanHeaderBytes, bytes.size()));

  ByteReader header(bytes);
  header.seek(sizeof kPlanMagic);
  uint32_t format = header.u32();
  if (format != kPlanFormatVersion)
    return Status::error(strFormat("plan format version %u is not supported (this build "
                                   "reads version %u); rebuild the plan with this "
                                   "build's mkc",
                                   format, kPlanFormatVersion));
  uint32_t isa = header.u32();
  if (isa != kIsaVersion)
    return Status::error(strFormat("plan ISA version %u is not supported (this build "
                                   "executes ISA version %u); rebuild the plan with this "
                                   "build's mkc",
                                   isa, kIsaVersion));
  Plan plan;
  plan.target = static_cast<TargetKind>(header.u32());
  plan.tensorParallel = header.u32();
  uint64_t payloadBytes = header.u64();
  uint64_t checksum = header.u64();

  size_t have = bytes.size() - kPlanHeaderBytes;
  if (payloadBytes > have)
    return Status::error(strFormat("truncated payload: the header says %" PRIu64
                                   " bytes, file has %zu after the %zu-byte header",
                                   payloadBytes, have, kPlanHeaderBytes));
  if (payloadBytes < have)
    return Status::error(
        strFormat("%zu unexpected bytes after the payload (offset %" PRIu64
                  "; the header says the payload is %" PRIu64 " bytes)",
                  have - payloadBytes, kPlanHeaderBytes + payloadBytes, payloadBytes));
  uint64_t actual = fnv1a64(bytes.subspan(kPlanHeaderBytes));
  if (actual != checksum)
    return Status::error(strFormat("checksum mismatch: the header says 0x%016" PRIx64
                                   ", the payload hashes to 0x%016" PRIx64
                                   "; the file is corrupted",
                                   checksum, actual));

  ByteReader r(bytes);
  r.seek(kPlanHeaderBytes);
  readMeta(r, plan.model);
  readTensors(r, plan.tensors);
  readPrograms(r, plan.programs);
  r.expectEnd();
  if (!r)
    return r.status();
  out = std::move(plan);
  return Status::ok();
}

} // namespace mk::isa
