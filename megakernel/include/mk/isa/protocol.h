//===- protocol.h - The queue/scoreboard protocol, shared by host and CUDA ==//
//
// One global ticket counter and one never-reset counter per event. Ticket t runs task
// order[t % T] of step t / T. A task of step s that waits {e, c, back} is ready when
//   counter[e] >= (s + 1 - back) * c.
// A worker: claim a ticket -> prefetch the operands that depend on no event
// (weights) -> wait -> prefetch the weights the wait decided -> run -> make its
// outputs visible -> signal.
//
// Prefetch of data-dependent spans. A task's weight footprint (task_footprint.h) has
// two parts. Its static weights are rows that the record alone names: they are
// prefetched before the wait, as always (dense tiles stream their whole tile while
// they wait). Its late weights are rows that an activation decides: the embedding's
// table rows (the tokens, which the previous step's argmax writes) and a MoE expert
// tile's expert (the router's routes: slot s serves slotExpert[s], and a slot past the
// count D serves none). Reading that activation before the wait would read the
// previous step's value, so late spans are computed and prefetched only after the
// wait (Footprint<K>::lateWeights, run after the acquire that made the producer's
// writes visible), and an expert tile streams nothing at all before it: no byte of an
// expert the router did not select is read, not even speculatively. The host's
// workerLoop does it in prefetchLate; the CUDA loop stages only static spans into
// shared memory, and the task's engine streams the late rows from global memory after
// the wait.
//
// Memory ordering, and why it is enough:
// - signal() is a release RMW: every write the task made (the outputs) happens-before
//   any acquire load that observes the incremented value.
// - ready() is an acquire load: once a consumer sees counter >= target, all writes of
//   the producers that contributed those increments are visible to it.
// - claim() is relaxed: the ticket only selects work; it publishes no data.
// Deadlock freedom: the queue order is topological and cross-step edges point back,
// so a worker holding ticket t only waits on tasks with smaller tickets, all of which
// were claimed by workers that are running (or finished): some smallest unfinished
// ticket is always ready. This holds for any number of workers, resident or not.
//
// No STL beyond <cstdint>: this header is compiled by g++ (host executor) and nvcc.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/host_device.h"
#include "mk/isa/task_record.h"

#include <cstdint>

#if __has_include(<cuda/atomic>)
#include <cuda/atomic>
#define MK_HAVE_CUDA_ATOMIC 1
#else
// Without the CUDA toolkit (CCCL) the host executor uses std::atomic_ref, which has the
// same semantics for the orders used here.
#include <atomic>
#define MK_HAVE_CUDA_ATOMIC 0
#endif

namespace mk::protocol {

#if MK_HAVE_CUDA_ATOMIC
template <typename T>
using AtomicRef = ::cuda::atomic_ref<T, ::cuda::thread_scope_device>;
inline constexpr auto kRelaxed = ::cuda::memory_order_relaxed;
inline constexpr auto kAcquire = ::cuda::memory_order_acquire;
inline constexpr auto kRelease = ::cuda::memory_order_release;
#else
template <typename T> using AtomicRef = std::atomic_ref<T>;
inline constexpr auto kRelaxed = std::memory_order_relaxed;
inline constexpr auto kAcquire = std::memory_order_acquire;
inline constexpr auto kRelease = std::memory_order_release;
#endif

/// Device- (or process-) wide state of one launch. All fields are 8-byte aligned
/// counters that only ever grow.
struct LaunchState {
  uint64_t nextTicket; // claim counter
  uint64_t *events;    // [numEvents] never-reset counters
};

/// Which task and step a ticket stands for.
struct TicketWork {
  uint32_t task;
  uint64_t step;
};

MK_HOST_DEVICE TicketWork decodeTicket(uint64_t ticket, const uint32_t *order,
                                       uint32_t numTasks) {
  return {order[ticket % numTasks], ticket / numTasks};
}

MK_HOST_DEVICE uint64_t claimTicket(uint64_t *nextTicket) {
  return AtomicRef<uint64_t>(*nextTicket).fetch_add(1, kRelaxed);
}

/// Counter value at which `wait` is satisfied for a task of `step`; 0 for a
/// cross-step wait of step 0 (there is no previous step).
MK_HOST_DEVICE uint64_t waitTarget(const isa::Wait &wait, uint64_t step) {
  uint64_t back = wait.stepBack;
  return step + 1 <= back ? 0 : (step + 1 - back) * uint64_t(wait.count);
}

MK_HOST_DEVICE uint64_t loadAcquire(uint64_t *counter) {
  return AtomicRef<uint64_t>(*counter).load(kAcquire);
}

MK_HOST_DEVICE bool waitSatisfied(uint64_t *events, const isa::Wait &wait,
                                  uint64_t step) {
  return loadAcquire(&events[wait.event]) >= waitTarget(wait, step);
}

/// Publishes the task's outputs: release, so the writes before it are visible to any
/// worker whose acquire load observes the new count.
MK_HOST_DEVICE void signalEvent(uint64_t *events, uint32_t event) {
  AtomicRef<uint64_t>(events[event]).fetch_add(1, kRelease);
}

/// Index of the first unsatisfied wait of `task` at `step`, or numWaits if ready.
MK_HOST_DEVICE uint32_t firstUnsatisfiedWait(uint64_t *events,
                                             const isa::TaskRecord &task, uint64_t step) {
  for (uint32_t w = 0; w < task.numWaits; ++w)
    if (!waitSatisfied(events, task.wait[w], step))
      return w;
  return task.numWaits;
}

/// The worker loop, parameterized by the executor. `Exec` provides:
///   bool stopRequested();                         // abort (watchdog, error)
///   void prefetch(const TaskRecord&, uint32_t task, uint64_t step);  // static spans
///   bool spin(const TaskRecord&, uint32_t task, uint64_t step, uint32_t wait,
///             uint64_t spins);                    // false: give up (abort)
///   void prefetchLate(const TaskRecord&, uint32_t task, uint64_t step); // after the
///                                                 // wait: the spans it decided
///   void run(const TaskRecord&, uint32_t task, uint64_t step);
///   void onClaim/onReady/onDone(uint32_t task, uint64_t step);   // profiling hooks
/// Runs tickets until `numSteps` steps of the program are claimed.
template <typename Exec>
MK_HOST_DEVICE void workerLoop(Exec &exec, LaunchState &state,
                               const isa::TaskRecord *tasks, const uint32_t *order,
                               uint32_t numTasks, uint64_t numSteps) {
  const uint64_t totalTickets = numSteps * numTasks;
  for (;;) {
    if (exec.stopRequested())
      return;
    uint64_t ticket = claimTicket(&state.nextTicket);
    if (ticket >= totalTickets)
      return;
    TicketWork work = decodeTicket(ticket, order, numTasks);
    const isa::TaskRecord &task = tasks[work.task];
    exec.onClaim(work.task, work.step);
    exec.prefetch(task, work.task, work.step);
    for (uint64_t spins = 0;; ++spins) {
      uint32_t w = firstUnsatisfiedWait(state.events, task, work.step);
      if (w == task.numWaits)
        break;
      if (!exec.spin(task, work.task, work.step, w, spins))
        return;
    }
    exec.onReady(work.task, work.step);
    exec.prefetchLate(task, work.task, work.step);
    exec.run(task, work.task, work.step);
    for (uint32_t s = 0; s < task.numSignals; ++s)
      signalEvent(state.events, task.signal[s]);
    exec.onDone(work.task, work.step);
  }
}

#if defined(__CUDACC__)
#define MK_CTA_LOOP __device__ __forceinline__
#else
#define MK_CTA_LOOP inline
#endif

/// Staging slots of ctaWorkerLoop: the task being run and the one claimed ahead.
inline constexpr uint32_t kPrefetchSlots = 2;

/// The CUDA executor's loop: a CTA is one worker. Its leader (thread 0) claims tickets
/// and waits; every thread prefetches and runs the tasks; the leader signals. Written
/// against Exec's CTA primitives (leader, barrier, fence) only, so a host test can run
/// it on threads (tests/unit/protocol).
///
/// Look-ahead (`lookahead`): the leader claims the CTA's next ticket as soon as it turns
/// to the current one, and the CTA starts the next task's prefetch (into the other of
/// two staging slots) before it waits for and runs the current task, so the next task's
/// first weight bytes load while this one waits and computes. Holding one ticket ahead
/// cannot deadlock: the smallest unfinished ticket is always some CTA's current task
/// (a CTA claims its look-ahead ticket after its current one, so that is larger), and
/// every event it waits on is signalled by smaller tickets, all finished. The cost: a
/// ready task held ahead by a CTA that still waits cannot be taken by an idle one.
/// Without look-ahead the next ticket is claimed (and staged) when the current task is
/// done, as the host's workerLoop does.
///
/// `Exec` provides (leader: the hooks of workerLoop, spin and the profiling ones;
/// every thread: prefetch, awaitPrefetch and run):
///   bool leader();                                    // threadIdx.x == 0
///   void barrier();                                   // __syncthreads()
///   void fence();                                     // __threadfence()
///   uint64_t *broadcast();                            // 3 words of shared memory
///   void prefetch(task, taskIndex, step, slot);       // every thread: start staging
///   void awaitPrefetch(slot);                         // every thread: slot landed
///   void prepare(task, taskIndex, step, slot);        // leader: the task's context
///   void publish(task, taskIndex, step);              // leader: after run, before
///                                                     // the signals (outputs that
///                                                     // the signals let others
///                                                     // overwrite)
/// onClaim is called when the CTA turns to the task (its ticket was claimed during
/// the previous task), so claim-to-ready is the CTA's wait for the task's inputs.
///
/// Memory ordering, in addition to the argument at the top of this file:
/// - Consumers: the leader's acquire load observes the producers' signals; the
///   __threadfence after it and the CTA barrier order it before every thread's reads
///   of the task's inputs.
/// - Producers: the barrier after run orders every thread's output writes before the
///   leader's __threadfence and release fetch_add (fences are cumulative), so a
///   consumer that acquires the count sees all of the CTA's writes.
/// - Staging: weights are never written during a launch, so they may be read before
///   any wait; a slot is restaged only after the barrier that ends the task that read
///   it.
template <typename Exec>
MK_CTA_LOOP void ctaWorkerLoop(Exec &exec, LaunchState &state,
                               const isa::TaskRecord *tasks, const uint32_t *order,
                               uint32_t numTasks, uint64_t numSteps, bool lookahead) {
  const bool leader = exec.leader();
  const uint64_t totalTickets = numSteps * numTasks;
  // [0], [1]: claimed tickets, alternately (every thread read a word before the
  // barrier of the next claim, which precedes the leader's next write of it); [2]: 1 =
  // stop.
  uint64_t *shared = exec.broadcast();
  uint32_t claims = 0;
  auto claim = [&] {
    uint64_t &word = shared[claims++ & 1];
    if (leader)
      word = exec.stopRequested() ? totalTickets : claimTicket(&state.nextTicket);
    exec.barrier();
    return word;
  };
  auto prefetch = [&](uint64_t ticket, uint32_t slot) {
    if (ticket < totalTickets) {
      const TicketWork w = decodeTicket(ticket, order, numTasks);
      exec.prefetch(tasks[w.task], w.task, w.step, slot);
    }
  };
  uint64_t ticket = claim();
  prefetch(ticket, 0);
  for (uint32_t slot = 0; ticket < totalTickets; slot ^= 1) {
    const TicketWork work = decodeTicket(ticket, order, numTasks);
    const isa::TaskRecord &task = tasks[work.task];
    if (leader)
      exec.onClaim(work.task, work.step);
    uint64_t next = totalTickets;
    if (lookahead) {
      next = claim();
      prefetch(next, slot ^ 1);
    }
    if (leader) {
      bool ok = true;
      for (uint64_t spins = 0;; ++spins) {
        uint32_t w = firstUnsatisfiedWait(state.events, task, work.step);
        if (w == task.numWaits)
          break;
        if (!exec.spin(task, work.task, work.step, w, spins)) {
          ok = false;
          break;
        }
      }
      exec.fence();
      shared[2] = ok ? 0 : 1;
      exec.prepare(task, work.task, work.step, slot);
    }
    exec.awaitPrefetch(slot);
    exec.barrier();
    if (shared[2]) {
      exec.awaitPrefetch(slot ^ 1); // no copy into shared memory outlives the CTA
      return;
    }
    if (leader)
      exec.onReady(work.task, work.step);
    exec.run(task, work.task, work.step);
    exec.barrier();
    if (leader) {
      exec.fence();
      exec.publish(task, work.task, work.step);
      for (uint32_t s = 0; s < task.numSignals; ++s)
        signalEvent(state.events, task.signal[s]);
      exec.onDone(work.task, work.step);
    }
    if (!lookahead) {
      next = claim();
      prefetch(next, slot ^ 1);
    }
    ticket = next;
  }
}

//===----------------------------------------------------------------------===//
// Cross-rank communication (tensor parallelism)
//
// The N ranks of a tensor-parallel plan run the same program (SPMD): the same tasks,
// events and queue order, each over its own slices of the weights. A comm site is one
// point of a step where the ranks exchange data: an all_reduce (tiles j = 0..n-1 over
// column ranges of [R, H]) after each layer's O projection and MLP, and the all_gather
// of the LM head's argmax partials. Sites are numbered 0..S-1 in program order (task
// aux[0]; the tile is aux[1]). The executor keeps a per-program counter `commBase`,
// the same on every rank because every rank runs the same launches; site k of
// launch-local step s has epoch
//   e = commBase + s * S + k + 1       (commEpoch; uint32, compared with wrap)
// and uses buffer b = e % 2 of the program's symmetric tensors comm [2, N, R, ...] and
// flags [2, F, N] (every rank has them; on CUDA, NCCL symmetric windows). After a
// launch of `steps` steps, commBase += steps * S.
//
// Rank p runs comm tile (k, j), after its local waits (the partial's producers):
//   1. push: for each rank q (p included), write p's tile into q's comm[b][p], then
//      store flags_q[b][j][p] = e with release semantics (system scope on CUDA).
//   2. wait: for each rank q, acquire-load own flags[b][j][q] until it reached e.
//   3. combine: read own comm[b][q] for q = 0..N-1 in rank order (all_reduce: fp32 sum
//      of the partials, q = 0 first; rounded to bf16, + residual, rounded). Every rank
//      reads the same values in the same order, so every rank gets the same bits.
// Never a per-CTA or per-launch barrier: with a dynamic queue, worker i on two ranks
// runs different tasks; the flags are the only cross-rank synchronization.
//
// Why two buffers suffice. The plan verifier checks that the sites are totally
// ordered on each rank: every tile of site k + 1 is a same-step descendant of every
// tile of site k, and every tile of site 0 descends (through a previous-step wait)
// from the previous step's site S-1. So rank p pushes epoch e + 2 (buffer b again) only
// after its own e + 1 tiles completed, which needed every rank's push of e + 1, which
// every rank made only after completing epoch e, including reading comm[b]: nothing
// is overwritten before it was read. The same argument shows a flag slot's epochs only
// grow, and that a reader waiting for e never sees e + 2 first. Launches: a launch
// ends on each rank after its last site completed; the next launch's first epoch uses
// the other buffer, and its second needs every rank's push of the first. Different
// programs have different comm tensors.
//
// Deadlock freedom: the ticket order is the same on every rank. Take the smallest
// ticket t unfinished on any rank. On every rank, every smaller ticket is finished, so
// t is claimed (a worker is free, or holds t); its local waits name smaller tickets,
// so it is ready; a comm task pushes before it waits, so every rank's push of t
// arrives and t completes on every rank. Any number of workers per rank.
//
// Memory ordering: the pushed bytes are plain writes sequenced before the release
// store of the flag; the reader's acquire load that observes e makes them visible
// (on CUDA: __threadfence_system-strength release at system scope, because the peer's
// memory is another GPU's). The flag of a slot is written by one rank only.
//===----------------------------------------------------------------------===//

/// The epoch of comm site `site` of launch-local step `step` (see above).
MK_HOST_DEVICE uint32_t commEpoch(uint64_t commBase, uint64_t step, uint32_t sites,
                                  uint32_t site) {
  return static_cast<uint32_t>(commBase + step * sites + site + 1);
}

/// The buffer (0 or 1) of the comm tensors that epoch `e` uses.
MK_HOST_DEVICE uint32_t commBuffer(uint32_t epoch) { return epoch & 1u; }

/// Index of flag [b][tile][rank] in flags [2, F, N].
MK_HOST_DEVICE uint64_t commFlagIndex(uint32_t buffer, uint32_t tile, uint32_t rank,
                                      uint32_t tileSlots, uint32_t ranks) {
  return (uint64_t(buffer) * tileSlots + tile) * ranks + rank;
}

/// Whether a flag holding `value` has reached epoch `epoch` (wrap-safe).
MK_HOST_DEVICE bool epochReached(uint32_t value, uint32_t epoch) {
  return static_cast<int32_t>(value - epoch) >= 0;
}

#if MK_HAVE_CUDA_ATOMIC
/// A flag in another rank's (another GPU's) memory: system scope.
template <typename T>
using SystemAtomicRef = ::cuda::atomic_ref<T, ::cuda::thread_scope_system>;
#else
template <typename T> using SystemAtomicRef = std::atomic_ref<T>;
#endif

// The orders of the flag store and poll. MK_PROTOCOL_TEST_RELAXED_COMM_FLAGS exists
// only for the TP stress test's broken variant, which shows that ThreadSanitizer
// reports the race when they are weakened; nothing else may define it.
#ifdef MK_PROTOCOL_TEST_RELAXED_COMM_FLAGS
inline constexpr auto kFlagStore = kRelaxed;
inline constexpr auto kFlagLoad = kRelaxed;
#else
inline constexpr auto kFlagStore = kRelease;
inline constexpr auto kFlagLoad = kAcquire;
#endif

/// Step 1's flag store: publishes the bytes pushed before it.
MK_HOST_DEVICE void storeFlagRelease(uint32_t *flag, uint32_t epoch) {
  SystemAtomicRef<uint32_t>(*flag).store(epoch, kFlagStore);
}

/// Step 2's poll: once it returns a value that reached the epoch, the pushed bytes
/// are visible.
MK_HOST_DEVICE uint32_t loadFlagAcquire(uint32_t *flag) {
  return SystemAtomicRef<uint32_t>(*flag).load(kFlagLoad);
}

} // namespace mk::protocol
