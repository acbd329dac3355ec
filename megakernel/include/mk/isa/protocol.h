//===- protocol.h - The queue/scoreboard protocol, shared by host and CUDA ==//
//
// One global ticket counter and one never-reset counter per event. Ticket t runs task
// order[t % T] of step t / T. A task of step s that waits {e, c, back} is ready when
//   counter[e] >= (s + 1 - back) * c.
// A worker: claim a ticket -> prefetch the operands that depend on no event
// (weights) -> wait -> run -> make its outputs visible -> signal.
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

#include "mk/isa/task_record.h"

#include <cstdint>

#if defined(__CUDACC__)
#define MK_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define MK_HOST_DEVICE inline
#endif

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
///   void prefetch(const TaskRecord&, uint32_t task, uint64_t step);
///   bool spin(const TaskRecord&, uint32_t task, uint64_t step, uint32_t wait,
///             uint64_t spins);                    // false: give up (abort)
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
    exec.run(task, work.task, work.step);
    for (uint32_t s = 0; s < task.numSignals; ++s)
      signalEvent(state.events, task.signal[s]);
    exec.onDone(work.task, work.step);
  }
}

#if defined(__CUDACC__)
/// The CUDA executor's loop: a CTA is one worker. Its leader (thread 0) claims the
/// ticket and waits; every thread prefetches and runs the task; the leader signals.
/// `Exec` provides, besides the hooks of workerLoop (spin and the profiling hooks are
/// called by the leader only; prefetch and run by every thread):
///   uint64_t *broadcast();   // two words of shared memory
///   void awaitPrefetch();    // every thread: the prefetch's copies have landed
///
/// Memory ordering, in addition to the argument at the top of this file:
/// - Consumers: the leader's acquire load observes the producers' signals; the
///   __threadfence after it and the CTA barrier order it before every thread's reads
///   of the task's inputs.
/// - Producers: the barrier after run orders every thread's output writes before the
///   leader's __threadfence and release fetch_add (fences are cumulative), so a
///   consumer that acquires the count sees all of the CTA's writes.
template <typename Exec>
__device__ __forceinline__ void
ctaWorkerLoop(Exec &exec, LaunchState &state, const isa::TaskRecord *tasks,
              const uint32_t *order, uint32_t numTasks, uint64_t numSteps) {
  const bool leader = threadIdx.x == 0;
  const uint64_t totalTickets = numSteps * numTasks;
  uint64_t *shared = exec.broadcast(); // [0]: ticket, [1]: 1 = stop
  for (;;) {
    if (leader)
      shared[0] = exec.stopRequested() ? totalTickets : claimTicket(&state.nextTicket);
    __syncthreads();
    const uint64_t ticket = shared[0];
    if (ticket >= totalTickets)
      return;
    const TicketWork work = decodeTicket(ticket, order, numTasks);
    const isa::TaskRecord &task = tasks[work.task];
    if (leader)
      exec.onClaim(work.task, work.step);
    exec.prefetch(task, work.task, work.step);
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
      __threadfence();
      shared[1] = ok ? 0 : 1;
    }
    exec.awaitPrefetch();
    __syncthreads();
    if (shared[1])
      return;
    if (leader)
      exec.onReady(work.task, work.step);
    exec.run(task, work.task, work.step);
    __syncthreads();
    if (leader) {
      __threadfence();
      for (uint32_t s = 0; s < task.numSignals; ++s)
        signalEvent(state.events, task.signal[s]);
      exec.onDone(work.task, work.step);
    }
  }
}
#endif

} // namespace mk::protocol
