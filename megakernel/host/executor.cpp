//===- executor.cpp - The host megakernel: a plan on CPU threads --------------===//
#include "mk/host/executor.h"

#include "mk/host/lane_order.h"
#include "mk/isa/executor_checks.h"
#include "mk/isa/message_text.h"
#include "mk/isa/protocol.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace mk::host {

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kNotWaiting = UINT32_MAX;

uint64_t nsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start)
      .count();
}

/// How long an idle worker polls for the next launch before it sleeps.
constexpr auto kIdlePoll = std::chrono::microseconds(100);
/// How often the launching thread checks for a hang or a failed peer rank.
constexpr auto kWatchdogPeriod = std::chrono::milliseconds(2);

/// Which rows of a task's range[0] a launch computes (LaunchRows).
enum class RowUse : uint8_t {
  Active, // rows [0, end)
  Logits, // the LM head's rows and what carries its outputs on
  All,    // the task finds its rows itself (positions or the MoE routes)
};

static_assert(isa::kNumTaskKinds == 16, "a new task kind needs its RowUse below");
constexpr RowUse rowUse(isa::TaskKind kind) {
  using K = isa::TaskKind;
  switch (kind) {
  case K::Embedding:
  case K::Qkv:
  case K::AttnDecode:
  case K::AttnMerge:
  case K::AttnPrefill:
  case K::OProj:
  case K::GateUp:
  case K::DownProj:
  case K::MoeCombine:
  case K::AllReduce:
    return RowUse::Active;
  case K::LmHead:
  case K::Argmax:
  case K::AllGather:
    return RowUse::Logits;
  // The router's one task covers all rows and skips inactive ones; an expert tile's
  // rows are its slot's (the routes), so neither depends on range[0].
  case K::MoeRouter:
  case K::MoeGateUp:
  case K::MoeDown:
    return RowUse::All;
  }
  return RowUse::All;
}

/// One iteration of a polling loop: lets another thread of the core run.
inline void relax() { std::this_thread::yield(); }

} // namespace

/// A launch's rows, resolved against its program (LaunchRows, clipped to [0, R)).
struct HostExecutor::RowLimits {
  uint32_t end = 0, logitsBegin = 0, logitsEnd = 0;
  bool all = true; // nothing is clipped

  /// `task` with range[0] clipped to the rows its kind computes in this launch.
  isa::TaskRecord clip(const isa::TaskRecord &task) const {
    isa::TaskRecord t = task;
    if (all)
      return t;
    isa::Range &rows = t.range[0];
    switch (rowUse(isa::TaskKind(task.kind))) {
    case RowUse::Active:
      rows.end = std::min(rows.end, end);
      break;
    case RowUse::Logits:
      rows.begin = std::max(rows.begin, logitsBegin);
      rows.end = std::min(rows.end, logitsEnd);
      break;
    case RowUse::All:
      break;
    }
    rows.begin = std::min(rows.begin, rows.end);
    return t;
  }
};

/// The executor's worker threads. Each runs one job per launch: run() publishes the
/// job by bumping `generation_`; a thread that saw generation g runs the job once it
/// sees another value, then counts itself out of `pending_`. A launch waits until
/// pending_ is 0 before it returns, so the next run() finds every thread idle and no
/// thread can skip a job.
/// Memory ordering: the job and everything the launch prepared are written before the
/// generation bump (under mutex_, and a release store); a worker's acquire load (or
/// its wake-up under mutex_) that sees the new generation sees them. A worker's
/// writes (task outputs, its profile and byte counts) precede its acq_rel decrement of
/// pending_; the launch's acquire load that sees 0 sees every worker's (the decrements
/// form one release sequence).
class HostExecutor::Pool {
public:
  using Job = std::function<void(unsigned worker)>;

  explicit Pool(unsigned size) : size_(size) { threads_.reserve(size); }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_ = true;
    }
    wake_.notify_all();
    for (std::thread &t : threads_)
      t.join();
  }

  /// Starts the threads not running yet; an error if the OS refuses one (the threads
  /// already started stay, idle, and a later call starts the rest).
  Status start(const std::string &program) {
    while (threads_.size() < size_) {
      const unsigned index = unsigned(threads_.size());
      const uint64_t seen = generation_.load(std::memory_order_relaxed);
      try {
        threads_.emplace_back([this, index, seen] { loop(index, seen); });
      } catch (const std::system_error &e) {
        return Status::error(program + ": cannot start worker thread " +
                             std::to_string(index) + " of " + std::to_string(size_) +
                             ": " + e.what());
      }
    }
    return Status::ok();
  }

  /// Hands `job` to every thread (start() succeeded). `job` must live until done().
  void run(const Job &job) {
    job_ = &job;
    pending_.store(size_, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
  }

  /// Waits up to `timeout` for every thread to finish the job; true when they have.
  bool done(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return finished_.wait_for(
        lock, timeout, [&] { return pending_.load(std::memory_order_acquire) == 0; });
  }

private:
  void loop(unsigned index, uint64_t seen) {
    for (;;) {
      const Clock::time_point idleSince = Clock::now();
      for (uint32_t polls = 0; generation_.load(std::memory_order_acquire) == seen;
           ++polls) {
        if ((polls & 15) == 15 && Clock::now() - idleSince > kIdlePoll) {
          std::unique_lock<std::mutex> lock(mutex_);
          wake_.wait(lock, [&] {
            return quit_ || generation_.load(std::memory_order_relaxed) != seen;
          });
          if (quit_)
            return;
          break;
        }
        relax();
      }
      seen = generation_.load(std::memory_order_acquire);
      (*job_)(index);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        finished_.notify_all();
      }
    }
  }

  const unsigned size_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;     // generation_ moved, or quit_
  std::condition_variable finished_; // pending_ reached 0
  std::atomic<uint64_t> generation_{0};
  std::atomic<unsigned> pending_{0};
  const Job *job_ = nullptr;
  bool quit_ = false; // under mutex_
};

/// What the watchdog can see of one worker: the task it holds and the wait it is on.
struct HostExecutor::Worker {
  std::atomic<uint32_t> task{kNotWaiting};
  std::atomic<uint64_t> step{0};
  std::atomic<uint32_t> wait{kNotWaiting};
  std::atomic<uint32_t> commPeer{kNotWaiting}; // the rank a comm task waits for
  std::vector<ProfileRecord> profile;
  uint64_t weightBytes = 0; // streamed by this worker's tasks this launch
};

HostExecutor::HostExecutor(const isa::Plan &plan, ExecutorOptions options, uint32_t rank,
                           HostCommGroup *group)
    : plan_(plan), options_(options), rank_(rank), group_(group) {
  workers_ = options.workers ? options.workers
                             : std::max(1u, std::thread::hardware_concurrency());
  refs_.resize(plan.tensors.size());
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const isa::TensorDesc &t = plan.tensors[i];
    refs_[i].dtype = t.dtype;
    refs_[i].rank = t.rank;
    std::copy(t.shape, t.shape + isa::kMaxRank, refs_[i].shape);
  }
  for (const isa::Program &p : plan.programs) {
    // Zeroed so that a task reading a tile no task of this step wrote (a bug the
    // verifier exists to prevent) reads zeros, not garbage from the last launch.
    arenas_.push_back(std::unique_ptr<uint8_t[], AlignedDelete>(
        new (std::align_val_t(64)) uint8_t[std::max<uint64_t>(p.arenaBytes, 64)]()));
  }
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const isa::TensorDesc &t = plan.tensors[i];
    if (t.placement == isa::Placement::Activation && t.program < arenas_.size())
      refs_[i].data = arenas_[t.program].get() + t.offset;
    // Comm buffers start zeroed: epoch 0 is never a comm site's (epochs start at 1).
    if (t.placement == isa::Placement::Comm) {
      commBuffers_.push_back(std::unique_ptr<uint8_t[], AlignedDelete>(
          new (std::align_val_t(64)) uint8_t[std::max<uint64_t>(t.bytes(), 64)]()));
      refs_[i].data = commBuffers_.back().get();
    }
  }
  // The order the workers claim in: each phase dealt into one lane per worker.
  for (const isa::Program &p : plan.programs)
    orders_.push_back(laneOrder(p, workers_));
  for (const isa::Program &p : plan.programs) {
    const uint16_t id = findTensor(plan, p.name + ".positions");
    positions_.push_back(
        id != isa::kNoTensor && plan.tensors[id].placement == isa::Placement::StepState &&
                plan.tensors[id].dtype == isa::DType::I32 &&
                plan.tensors[id].numElements() == p.rows
            ? id
            : isa::kNoTensor);
  }
  pool_ = std::make_unique<Pool>(workers_);
  commSites_.assign(plan.programs.size(), 0);
  commBase_.assign(plan.programs.size(), 0);
  for (size_t p = 0; p < plan.programs.size(); ++p)
    for (const isa::TaskRecord &r : plan.programs[p].tasks)
      if (isa::isCommKind(r.kind))
        commSites_[p] = std::max(commSites_[p], r.aux[0] + 1);

  const uint32_t ranks = plan.tensorParallel;
  if (ranks > 1 && !group)
    setup_ = Status::error("the plan is tensor-parallel (" + std::to_string(ranks) +
                           " ranks): each rank needs its executor in a rank group "
                           "(mkrun runs them with --tp)");
  else if (group && group->ranks() != ranks)
    setup_ = Status::error("the plan has " + std::to_string(ranks) +
                           " tensor-parallel ranks, the rank group " +
                           std::to_string(group->ranks()));
  else if (group)
    setup_ = group->join(rank, refs_.data());
}

HostExecutor::~HostExecutor() {
  pool_.reset(); // joins the workers
  if (group_ && setup_)
    group_->leave(rank_);
}

std::string HostExecutor::describe() const {
  std::string s =
      "host: " + std::to_string(workers_) + " worker thread" + (workers_ == 1 ? "" : "s");
  if (plan_.tensorParallel > 1)
    s += " (rank " + std::to_string(rank_) + " of " +
         std::to_string(plan_.tensorParallel) + ")";
  return s;
}

Status HostExecutor::bind(uint16_t id, void *data) {
  if (Status s = isa::checkBindable(plan_, id, data); !s)
    return s;
  if (plan_.tensors[id].placement == isa::Placement::Comm)
    return Status::error("bind: tensor " + quote(plan_.tensors[id].name) +
                         " is a comm buffer; the executor owns it");
  refs_[id].data = data;
  return Status::ok();
}

Status HostExecutor::checkLaunchable(uint32_t program) const {
  if (!setup_)
    return setup_;
  if (group_)
    if (Status s = group_->complete(); !s)
      return Status::error("launch: " + s.message());
  return isa::checkLaunchable(plan_, program, isa::Executor::Host,
                              [&](uint16_t id) { return refs_[id].data != nullptr; });
}

Status HostExecutor::rowLimits(uint32_t programIndex, const LaunchRows &rows,
                               RowLimits &limits) const {
  const isa::Program &program = plan_.programs[programIndex];
  if (rows.logitsBegin > rows.logitsEnd)
    return Status::error(program.name + ": launch rows: logits rows [" +
                         std::to_string(rows.logitsBegin) + ", " +
                         std::to_string(rows.logitsEnd) + ") are reversed");
  limits.end = std::min(rows.end, program.rows);
  limits.logitsEnd = std::min(rows.logitsEnd, limits.end);
  limits.logitsBegin = std::min(rows.logitsBegin, limits.logitsEnd);
  limits.all = limits.end == program.rows && limits.logitsBegin == 0 &&
               limits.logitsEnd == program.rows;
  // A row past `end` that is active would lose its KV-cache append and its output.
  const uint16_t positions = positions_[programIndex];
  if (positions != isa::kNoTensor && refs_[positions].data) {
    const auto *pos = static_cast<const int32_t *>(refs_[positions].data);
    for (uint32_t r = limits.end; r < program.rows; ++r)
      if (pos[r] >= 0)
        return Status::error(program.name + ": launch rows: row " + std::to_string(r) +
                             " is active (position " + std::to_string(pos[r]) +
                             ") but the launch computes rows [0, " +
                             std::to_string(limits.end) + ")");
  }
  return Status::ok();
}

Status HostExecutor::launch(uint32_t programIndex, uint64_t steps,
                            std::vector<ProfileRecord> *profile, const StepHook &onStep,
                            const LaunchRows &rows) {
  RowLimits limits;
  Status checked = checkLaunchable(programIndex);
  if (checked)
    checked = rowLimits(programIndex, rows, limits);
  if (checked)
    checked = pool_->start(plan_.programs[programIndex].name);
  if (Status s = checked; !s) {
    // The other ranks would wait for this one's comm pushes: stop them too.
    if (group_ && setup_)
      group_->fail(rank_, s.message());
    return s;
  }
  const isa::Program &program = plan_.programs[programIndex];
  const uint32_t numTasks = program.tasks.size();
  lastWeightBytes_ = 0;
  if (numTasks == 0 || steps == 0)
    return Status::ok();

  std::vector<uint64_t> events(program.events.size(), 0);
  protocol::LaunchState state{0, events.data()};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> completed{0};
  std::vector<Worker> workers(workers_);
  const bool recording = options_.profile && profile;
  // Unique in the process, never 0 (TaskContext::launch).
  static std::atomic<uint64_t> launches{0};
  const uint64_t launchSerial = launches.fetch_add(1, std::memory_order_relaxed) + 1;
  const Clock::time_point start = Clock::now();

  RankContext rankContext;
  if (group_) {
    rankContext.rank = rank_;
    rankContext.ranks = group_->ranks();
    rankContext.peers = group_->peers();
    rankContext.commBase = commBase_[programIndex];
    rankContext.commSites = commSites_[programIndex];
  }

  // The protocol's executor hooks for one worker thread.
  struct Exec final : CommSpin {
    const HostExecutor &self;
    const isa::Program &program;
    uint32_t programIndex;
    Worker &me;
    uint32_t index;
    std::atomic<bool> &stop;
    std::atomic<uint64_t> &completed;
    bool recording;
    Clock::time_point start;
    const StepHook &onStep;
    RankContext rank;
    const RowLimits &rows;
    uint64_t launch; // the launch's serial number (TaskContext::launch)
    ProfileRecord current{};
    isa::TaskRecord clipped{}; // the claimed task over this launch's rows
    bool idle = false;         // it has no rows: not run, nothing streamed

    Exec(const HostExecutor &self, const isa::Program &program, uint32_t programIndex,
         Worker &me, uint32_t index, std::atomic<bool> &stop,
         std::atomic<uint64_t> &completed, bool recording, Clock::time_point start,
         const StepHook &onStep, const RankContext &rank, const RowLimits &rows,
         uint64_t launch)
        : self(self), program(program), programIndex(programIndex), me(me), index(index),
          stop(stop), completed(completed), recording(recording), start(start),
          onStep(onStep), rank(rank), rows(rows), launch(launch) {
      this->rank.spin = this;
    }

    TaskContext context(uint64_t step) const {
      TaskContext ctx = makeTaskContext(self.plan_, programIndex, self.refs_.data(),
                                        uint32_t(self.refs_.size()), step, rank);
      ctx.launch = launch;
      return ctx;
    }
    bool stopRequested() { return stop.load(std::memory_order_relaxed); }
    // A comm task waiting for rank `peer`'s flag: the same back-off as an event wait;
    // gives up when the launch stops or another rank failed.
    bool spin(uint32_t peer, uint64_t spins) override {
      me.commPeer.store(peer, std::memory_order_relaxed);
      if (stop.load(std::memory_order_relaxed))
        return false;
      if (self.group_ && self.group_->failed()) {
        stop.store(true, std::memory_order_relaxed);
        return false;
      }
      if (spins > 2048)
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      else if (spins > 64)
        std::this_thread::yield();
      return true;
    }
    void onClaim(uint32_t task, uint64_t step) {
      me.task.store(task, std::memory_order_relaxed);
      me.step.store(step, std::memory_order_relaxed);
      if (recording)
        current = {task, index, step, nsSince(start), 0, 0, -1};
      clipped = rows.clip(program.tasks[task]);
      idle = clipped.range[0].begin == clipped.range[0].end &&
             !isa::isCommKind(isa::TaskKind(clipped.kind));
    }
    // The hooks below use `clipped`, the claimed task (workerLoop passes the record).
    void prefetch(const isa::TaskRecord &, uint32_t, uint64_t step) {
      if (idle)
        return;
      const uint64_t bytes = taskStreamBytes(context(step), clipped);
      me.weightBytes += bytes;
      if (recording)
        current.weightBytes += bytes;
    }
    void prefetchLate(const isa::TaskRecord &, uint32_t, uint64_t step) {
      if (idle)
        return;
      const LateFetch late = lateTaskStream(context(step), clipped);
      me.weightBytes += late.bytes;
      if (recording)
        current.weightBytes += late.bytes;
      current.expert = late.expert;
    }
    bool spin(const isa::TaskRecord &, uint32_t, uint64_t, uint32_t wait,
              uint64_t spins) {
      me.wait.store(wait, std::memory_order_relaxed);
      if (stop.load(std::memory_order_relaxed))
        return false;
      // Spin briefly (the producer is usually running now), then yield, then sleep so
      // an oversubscribed machine still makes progress.
      if (spins > 2048)
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      else if (spins > 64)
        std::this_thread::yield();
      return true;
    }
    void onReady(uint32_t, uint64_t) {
      me.wait.store(kNotWaiting, std::memory_order_relaxed);
      if (recording)
        current.readyNs = nsSince(start);
    }
    void run(const isa::TaskRecord &, uint32_t, uint64_t step) {
      if (!idle)
        runTask(context(step), clipped);
      me.commPeer.store(kNotWaiting, std::memory_order_relaxed);
      // Before the signal: step s + 1 waits on it (see StepHook).
      if (onStep && clipped.kind == uint16_t(isa::TaskKind::Argmax))
        onStep(step);
    }
    void onDone(uint32_t, uint64_t) {
      me.task.store(kNotWaiting, std::memory_order_relaxed);
      completed.fetch_add(1, std::memory_order_relaxed);
      if (recording) {
        current.doneNs = nsSince(start);
        me.profile.push_back(current);
      }
    }
  };

  const Pool::Job job = [&](unsigned w) {
    Exec exec(*this, program, programIndex, workers[w], w, stop, completed, recording,
              start, onStep, rankContext, limits, launchSerial);
    protocol::workerLoop(exec, state, program.tasks.data(), orders_[programIndex].data(),
                         numTasks, steps);
  };
  pool_->run(job);

  // Watchdog: the launch is hung when no task completes for watchdogMs. Once it
  // stops the launch, it waits for the workers to leave their loops.
  const uint64_t total = steps * numTasks;
  uint64_t lastCompleted = 0;
  Clock::time_point lastProgress = Clock::now();
  std::string hang;
  while (!pool_->done(kWatchdogPeriod)) {
    if (stop.load(std::memory_order_relaxed))
      continue;
    // Another rank failed (its message is returned below).
    if (group_ && group_->failed()) {
      stop.store(true, std::memory_order_relaxed);
      continue;
    }
    uint64_t now = completed.load(std::memory_order_relaxed);
    if (now != lastCompleted || now == total) {
      lastCompleted = now;
      lastProgress = Clock::now();
      continue;
    }
    auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                                      lastProgress);
    if (uint64_t(idle.count()) < options_.watchdogMs)
      continue;
    // Describe every waiting worker before stopping them.
    std::vector<isa::StuckWorker> stuck;
    std::string commWaits;
    for (unsigned w = 0; w < workers_; ++w) {
      const uint32_t task = workers[w].task.load(std::memory_order_relaxed);
      const uint32_t peer = workers[w].commPeer.load(std::memory_order_relaxed);
      if (task < numTasks && peer != kNotWaiting) {
        const isa::TaskRecord &r = program.tasks[task];
        commWaits += "; worker " + std::to_string(w) + " runs task " +
                     std::to_string(task) + " (" +
                     isa::taskKindName(isa::TaskKind(r.kind)) + " site " +
                     std::to_string(r.aux[0]) + " tile " + std::to_string(r.aux[1]) +
                     ") and waits for rank " + std::to_string(peer) + "'s flag";
      }
    }
    for (unsigned w = 0; w < workers_; ++w) {
      uint32_t task = workers[w].task.load(std::memory_order_relaxed);
      uint32_t wait = workers[w].wait.load(std::memory_order_relaxed);
      if (task >= numTasks || wait == kNotWaiting)
        continue;
      uint64_t step = workers[w].step.load(std::memory_order_relaxed);
      const isa::Wait &wt =
          program.tasks[task].wait[std::min<uint32_t>(wait, isa::kMaxWaits - 1)];
      uint64_t counter =
          wt.event < events.size() ? protocol::loadAcquire(&events[wt.event]) : 0;
      stuck.push_back({w, task, step, wait, counter, protocol::waitTarget(wt, step)});
    }
    hang = isa::watchdogMessage(program,
                                "no task finished for " + std::to_string(idle.count()) +
                                    " ms (" + std::to_string(now) + " of " +
                                    std::to_string(total) + " tasks done)",
                                stuck) +
           commWaits;
    stop.store(true, std::memory_order_relaxed);
  }
  for (const Worker &w : workers)
    lastWeightBytes_ += w.weightBytes;
  if (group_) {
    if (!hang.empty())
      group_->fail(rank_, hang);
    else if (group_->failed())
      return Status::error("stopped: " + group_->failure());
  }
  if (!hang.empty())
    return Status::error(hang);
  commBase_[programIndex] += steps * commSites_[programIndex];
  if (recording) {
    profile->clear();
    for (Worker &w : workers)
      profile->insert(profile->end(), w.profile.begin(), w.profile.end());
    std::sort(profile->begin(), profile->end(),
              [](const ProfileRecord &a, const ProfileRecord &b) {
                return a.claimNs < b.claimNs;
              });
  }
  return Status::ok();
}

} // namespace mk::host
