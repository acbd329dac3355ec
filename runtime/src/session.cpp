//===- session.cpp - Generation: prefill, multi-step decode, continuous batching ==//
#include "mk/runtime/session.h"

#include "mk/isa/step_state.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <string>

namespace mk::runtime {

namespace {
using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

/// Microseconds since the epoch of the steady clock (differences are what matter).
double nowUs(Clock::time_point t = Clock::now()) {
  return std::chrono::duration<double, std::micro>(t.time_since_epoch()).count();
}
} // namespace

/// Views of one program's step state (see isa/step_state.h) and its logits.
struct Session::Program {
  uint32_t index = 0;
  uint32_t rows = 0, seqs = 0;
  int64_t maxBlocks = 0;
  int32_t *tokens = nullptr, *positions = nullptr, *seqLens = nullptr;
  int32_t *blockTable = nullptr, *kvSlots = nullptr, *tokensOut = nullptr;
  uint16_t logits = isa::kNoTensor; // activation [rows, vocab / ranks] f32
  uint32_t vocab = 0;               // this rank's logits columns: vocab / ranks
};

/// One sequence in flight.
struct Session::Slot {
  size_t sequence = 0;
  const std::vector<int32_t> *prompt = nullptr;
  SequenceOutput *out = nullptr;
  SequenceBlocks blocks;
  uint32_t cached = 0; // tokens in the KV cache
  int32_t last = 0;    // newest token, not yet in the cache
  bool done = false;
  Sampler sampler;
  explicit Slot(const SamplingParams &p) : sampler(p) {}
};

Session::Session(const isa::Plan &plan, host::ExecutorOptions options)
    : plan_(plan), executor_(std::make_unique<host::HostExecutor>(plan, options)) {}

Session::Session(const isa::Plan &plan, std::unique_ptr<Executor> executor,
                 RankComm *ranks)
    : plan_(plan), executor_(std::move(executor)), ranks_(ranks) {}

Session::~Session() = default;

Status Session::load(const SafetensorsSet &weights, const WeightLoadOptions &options) {
  const uint32_t ranks = ranks_ ? ranks_->ranks() : 1;
  const uint32_t rank = ranks_ ? ranks_->rank() : 0;
  auto loadRank = [&]() -> Status {
    if (ranks != plan_.tensorParallel)
      return Status::error("plan: tensor-parallel over " +
                           std::to_string(plan_.tensorParallel) +
                           " ranks, the session runs " + std::to_string(ranks));
    if (Status s = weights_.load(plan_, weights, rank, options); !s)
      return s;
    if (Status s = weights_.bindTo(*executor_); !s)
      return s;
    if (Status s = kv_.init(plan_); !s)
      return s;
    if (Status s = kv_.bindTo(*executor_); !s)
      return s;
    return bindStepState();
  };
  Status s = loadRank();
  return ranks_ ? ranks_->agree(s) : s;
}

Status Session::bindStepState() {
  stepState_.assign(plan_.tensors.size(), {});
  for (size_t i = 0; i < plan_.tensors.size(); ++i) {
    const isa::TensorDesc &t = plan_.tensors[i];
    if (t.placement != isa::Placement::StepState)
      continue;
    stepState_[i].assign(t.bytes(), 0);
    if (Status s = executor_->bind(uint16_t(i), stepState_[i].data()); !s)
      return s;
  }
  auto find = [&](const std::string &name) -> uint16_t {
    for (size_t i = 0; i < plan_.tensors.size(); ++i)
      if (plan_.tensors[i].name == name)
        return uint16_t(i);
    return isa::kNoTensor;
  };
  for (uint32_t p = 0; p < plan_.programs.size(); ++p) {
    const isa::Program &program = plan_.programs[p];
    auto view = std::make_unique<Program>();
    view->index = p;
    view->rows = program.rows;
    std::string prefix = program.name + ".";
    auto i32 = [&](const char *what, int32_t *&out) -> Status {
      uint16_t id = find(prefix + what);
      if (id == isa::kNoTensor ||
          plan_.tensors[id].placement != isa::Placement::StepState ||
          plan_.tensors[id].dtype != isa::DType::I32)
        return Status::error("plan: program '" + program.name +
                             "' has no i32 step-state "
                             "tensor '" +
                             prefix + what + "'");
      out = reinterpret_cast<int32_t *>(stepState_[id].data());
      return Status::ok();
    };
    for (auto [what, ptr] : {std::pair{"tokens", &view->tokens},
                             {"positions", &view->positions},
                             {"seq_lens", &view->seqLens},
                             {"block_table", &view->blockTable},
                             {"kv_slots", &view->kvSlots}})
      if (Status s = i32(what, *ptr); !s)
        return s;
    const isa::TensorDesc &table = plan_.tensors[find(prefix + "block_table")];
    view->seqs = table.shape[0];
    view->maxBlocks = table.shape[1];
    view->logits = find(prefix + "logits");
    if (view->logits == isa::kNoTensor)
      return Status::error("plan: program '" + program.name + "' has no logits tensor");
    const isa::TensorDesc &logits = plan_.tensors[view->logits];
    const uint32_t ranks = std::max(plan_.tensorParallel, 1u);
    view->vocab = plan_.model.vocabSize / ranks;
    if (logits.dtype != isa::DType::F32 || logits.rank != 2 ||
        logits.shape[0] != program.rows || logits.shape[1] != view->vocab ||
        uint64_t(view->vocab) * ranks != plan_.model.vocabSize)
      return Status::error("plan: program '" + program.name + "': logits tensor " +
                           "is not f32 [" + std::to_string(program.rows) + ", " +
                           std::to_string(view->vocab) + "] (vocab " +
                           std::to_string(plan_.model.vocabSize) + " over " +
                           std::to_string(ranks) + " rank(s))");
    if (program.kind == isa::ProgramKind::Decode && !decode_) {
      decode_ = std::move(view);
    } else if (program.kind == isa::ProgramKind::Prefill && !prefill_) {
      if (Status s = i32("tokens_out", view->tokensOut); !s)
        return s;
      prefill_ = std::move(view);
    }
  }
  if (!decode_)
    return Status::error("plan: no decode program");
  if (!prefill_)
    return Status::error("plan: no prefill program (compile with --prefill-chunk > 0)");
  return Status::ok();
}

bool Session::accept(Slot &slot, int32_t token, const float *logits,
                     const GenerateOptions &options) {
  SequenceOutput &out = *slot.out;
  out.tokens.push_back(token);
  if (options.keepLogits)
    out.logits.insert(out.logits.end(), logits, logits + plan_.model.vocabSize);
  if (onToken_ && *onToken_)
    (*onToken_)(slot.sequence, token);
  const auto &eos = plan_.model.eosTokenIds;
  if (!options.ignoreEos && std::find(eos.begin(), eos.end(), token) != eos.end())
    out.hitEos = slot.done = true;
  // The newest token sits at position prompt + generated - 1 and still needs a cache
  // slot to be decoded from.
  if (out.tokens.size() >= options.maxNewTokens ||
      slot.prompt->size() + out.tokens.size() >= plan_.model.maxSeqLen)
    slot.done = true;
  return slot.done;
}

const float *Session::fullLogits(const Program &p, uint32_t first, uint32_t rows,
                                 Status &status) {
  const auto *mine = static_cast<const float *>(executor_->read(p.logits));
  if (!mine) {
    status = Status::error("cannot read the logits back from the executor");
    return nullptr;
  }
  mine += size_t(first) * p.vocab;
  if (!ranks_ || ranks_->ranks() == 1)
    return mine;
  // Rank q's block [rows, V/N] holds columns [q * V/N, (q + 1) * V/N) of the rows.
  const uint32_t n = ranks_->ranks();
  const size_t block = size_t(rows) * p.vocab;
  gathered_.resize(block * n);
  if (Status s = ranks_->allGather({mine, block}, gathered_); !s) {
    status = s;
    return nullptr;
  }
  fullRows_.resize(block * n);
  for (uint32_t q = 0; q < n; ++q)
    for (uint32_t r = 0; r < rows; ++r)
      std::copy_n(gathered_.data() + q * block + size_t(r) * p.vocab, p.vocab,
                  fullRows_.data() + size_t(r) * n * p.vocab + size_t(q) * p.vocab);
  return fullRows_.data();
}

Status Session::prefill(Slot &slot, const GenerateOptions &options, GenerateStats &stats,
                        std::vector<LaunchProfile> *profiles, double t0) {
  Program &p = *prefill_;
  const std::vector<int32_t> &prompt = *slot.prompt;
  const uint32_t length = prompt.size();
  uint32_t n = 0;
  for (uint32_t start = 0; start < length; start += p.rows) {
    n = std::min<uint32_t>(p.rows, length - start);
    if (Status s = kv_.ensure(slot.blocks, start + n); !s)
      return s;
    for (uint32_t r = 0; r < p.rows; ++r) {
      bool on = r < n;
      p.tokens[r] = on ? prompt[start + r] : 0;
      p.positions[r] = on ? int32_t(start + r) : -1;
      p.kvSlots[r] = on ? kv_.slot(slot.blocks, start + r) : -1;
    }
    p.seqLens[0] = int32_t(start + n);
    std::fill(p.blockTable, p.blockTable + p.maxBlocks, 0);
    std::copy(slot.blocks.blocks.begin(), slot.blocks.blocks.end(), p.blockTable);
    // Only the chunk's n rows, and the LM head only where the first generated token
    // comes from: the last row of the last chunk.
    const bool last = start + n == length;
    const LaunchRows active{.end = n, .logitsBegin = last ? n - 1 : n, .logitsEnd = n};
    auto t = Clock::now();
    std::vector<host::ProfileRecord> records;
    Status s = executor_->launch(p.index, 1, options.profile ? &records : nullptr,
                                 nullptr, active);
    if (!s)
      return s;
    if (profiles)
      profiles->push_back({p.index, rank(), nowUs(t) - t0, std::move(records)});
    stats.prefillMs += msSince(t);
    ++stats.launches;
  }
  stats.prefillTokens += length;
  slot.cached = length;
  // The first generated token comes from the last prompt row.
  // The logits are read back only when they are used (a device executor copies them).
  const float *logits = nullptr;
  if (!options.sampling.greedy || options.keepLogits) {
    Status s;
    logits = fullLogits(p, n - 1, 1, s);
    if (!logits)
      return Status::error("prefill: " + s.message());
  }
  int32_t token = options.sampling.greedy
                      ? p.tokensOut[n - 1]
                      : slot.sampler.sample({logits, plan_.model.vocabSize});
  slot.last = token;
  accept(slot, token, logits, options);
  return Status::ok();
}

Status Session::decodeLaunch(std::vector<Slot *> &rows, const GenerateOptions &options,
                             GenerateStats &stats, std::vector<LaunchProfile> *profiles,
                             double t0) {
  Program &p = *decode_;
  const uint32_t vocab = plan_.model.vocabSize;
  // Steps: as many as the launch may run without any sequence overrunning its budget.
  uint64_t steps = options.stepsPerLaunch;
  for (Slot *slot : rows)
    if (slot && !slot->done) {
      uint64_t left = options.maxNewTokens - slot->out->tokens.size();
      uint64_t room = plan_.model.maxSeqLen - slot->cached;
      steps = std::min({steps, left, room});
    }
  // An executor whose step hook runs after the step (CUDA) cannot give the hook the
  // logits of every step, nor let it replace the argmax: one step per launch then.
  const bool hookNeedsLogits = options.keepLogits || !options.sampling.greedy;
  if (hookNeedsLogits && !executor_->liveStepHook())
    steps = 1;
  steps = std::max<uint64_t>(steps, 1);
  for (uint32_t b = 0; b < p.rows; ++b) {
    Slot *slot = rows[b];
    int32_t *table = p.blockTable + size_t(b) * p.maxBlocks;
    std::fill(table, table + p.maxBlocks, 0);
    if (!slot || slot->done) {
      p.tokens[b] = 0;
      p.positions[b] = p.kvSlots[b] = -1;
      p.seqLens[b] = 0;
      continue;
    }
    if (Status s = kv_.ensure(slot->blocks, slot->cached + uint32_t(steps)); !s)
      return s;
    p.tokens[b] = slot->last;
    p.positions[b] = int32_t(slot->cached);
    p.seqLens[b] = int32_t(slot->cached + 1);
    p.kvSlots[b] = kv_.slot(slot->blocks, slot->cached);
    std::copy(slot->blocks.blocks.begin(), slot->blocks.blocks.end(), table);
  }
  uint64_t accepted = 0;
  Status hookStatus = Status::ok();
  auto onStep = [&](uint64_t) {
    if (!hookStatus)
      return;
    Status s;
    const float *logits = hookNeedsLogits ? fullLogits(p, 0, p.rows, s) : nullptr;
    if (hookNeedsLogits && !logits) { // as in prefill: nothing to sample or keep
      hookStatus = Status::error("decode: " + s.message());
      return;
    }
    for (uint32_t b = 0; b < p.rows; ++b) {
      Slot *slot = rows[b];
      if (!slot || slot->done)
        continue;
      const float *row = logits ? logits + size_t(b) * vocab : nullptr;
      int32_t token = p.tokens[b];
      if (!options.sampling.greedy)
        p.tokens[b] = token = slot->sampler.sample({row, vocab});
      ++accepted;
      accept(*slot, token, row, options);
    }
  };
  auto t = Clock::now();
  std::vector<host::ProfileRecord> records;
  Status s =
      executor_->launch(p.index, steps, options.profile ? &records : nullptr, onStep);
  if (!s)
    return s;
  if (!hookStatus)
    return hookStatus;
  if (profiles)
    profiles->push_back({p.index, rank(), nowUs(t) - t0, std::move(records)});
  stats.decodeMs += msSince(t);
  if (std::optional<uint64_t> bytes = executor_->lastLaunchWeightBytes())
    stats.decodeWeightBytes = stats.decodeWeightBytes.value_or(0) + *bytes;
  stats.decodeSteps += steps;
  stats.decodeTokens += accepted;
  ++stats.launches;
  for (uint32_t b = 0; b < p.rows; ++b)
    if (Slot *slot = rows[b]) {
      slot->cached += uint32_t(steps);
      slot->last = p.tokens[b];
    }
  return Status::ok();
}

Status Session::generate(const std::vector<std::vector<int32_t>> &prompts,
                         const GenerateOptions &options, const TokenCallback &onToken,
                         std::vector<SequenceOutput> &outputs, GenerateStats &stats,
                         std::vector<LaunchProfile> *profiles) {
  if (!decode_ || !prefill_)
    return Status::error("generate: the session has no weights loaded");
  if (Status s = Sampler::validate(options.sampling); !s)
    return s;
  const uint32_t vocab = plan_.model.vocabSize, maxSeq = plan_.model.maxSeqLen;
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty())
      return Status::error("prompt " + std::to_string(i) + " is empty");
    if (prompts[i].size() >= maxSeq)
      return Status::error(
          "prompt " + std::to_string(i) + " has " + std::to_string(prompts[i].size()) +
          " tokens; the plan's KV cache holds " + std::to_string(maxSeq) +
          " (recompile with a larger --max-seq-len)");
    for (int32_t id : prompts[i])
      if (id < 0 || uint32_t(id) >= vocab)
        return Status::error("prompt " + std::to_string(i) + ": token id " +
                             std::to_string(id) + " is outside the vocabulary (0.." +
                             std::to_string(vocab - 1) + ")");
  }
  outputs.assign(prompts.size(), {});
  stats = {};
  if (options.maxNewTokens == 0)
    return Status::ok();
  onToken_ = &onToken;
  const double t0 = nowUs(options.profileEpoch.value_or(Clock::now()));

  std::deque<size_t> waiting;
  for (size_t i = 0; i < prompts.size(); ++i)
    waiting.push_back(i);
  std::vector<std::unique_ptr<Slot>> owned(decode_->rows);
  std::vector<Slot *> rows(decode_->rows, nullptr);
  auto seed = [&](size_t sequence) {
    SamplingParams p = options.sampling;
    p.seed = options.sampling.seed + sequence; // independent of the batching order
    return p;
  };
  Status status;
  for (;;) {
    // Fill free rows with waiting prompts (a prompt that finishes at once frees its
    // row again).
    for (uint32_t b = 0; b < decode_->rows && !waiting.empty(); ++b) {
      while (!rows[b] && !waiting.empty()) {
        size_t seq = waiting.front();
        waiting.pop_front();
        auto slot = std::make_unique<Slot>(seed(seq));
        slot->sequence = seq;
        slot->prompt = &prompts[seq];
        slot->out = &outputs[seq];
        if (!(status = prefill(*slot, options, stats, profiles, t0)))
          break;
        if (slot->done) {
          kv_.release(slot->blocks);
          continue;
        }
        rows[b] = slot.get();
        owned[b] = std::move(slot);
      }
      if (!status)
        break;
    }
    if (!status)
      break;
    if (std::none_of(rows.begin(), rows.end(), [](Slot *s) { return s; }))
      break;
    if (!(status = decodeLaunch(rows, options, stats, profiles, t0)))
      break;
    for (uint32_t b = 0; b < decode_->rows; ++b)
      if (rows[b] && rows[b]->done) {
        kv_.release(rows[b]->blocks);
        rows[b] = nullptr;
        owned[b].reset();
      }
  }
  for (uint32_t b = 0; b < decode_->rows; ++b)
    if (rows[b])
      kv_.release(rows[b]->blocks);
  onToken_ = nullptr;
  return status;
}

} // namespace mk::runtime
