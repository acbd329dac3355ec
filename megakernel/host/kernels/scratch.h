//===- scratch.h - Per-thread scratch buffers of the host tasks -------------===//
//
// A task's temporaries (the normalized rows of a block, its fp32 dots) live in a
// buffer per call site and worker thread, grown when a task needs more and reused by
// every later task on that thread. They are not initialized: a std::vector<T>(n) per
// task value-initializes n elements (a bf16 at a time for the 64-row prefill blocks)
// and, past malloc's mmap threshold (128 KiB), maps and unmaps fresh pages each time.
// Callers write every element they read.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>

namespace mk::host::kernels {

/// `n` uninitialized elements for the call site named by Tag (a distinct type per
/// site, so that no two live buffers alias), valid until this thread's next call with
/// the same Tag.
template <typename Tag, typename T> T *scratch(size_t n) {
  static_assert(std::is_trivially_default_constructible_v<T>);
  thread_local std::unique_ptr<T[]> buffer;
  thread_local size_t capacity = 0;
  if (capacity < n) {
    buffer.reset(new T[n]); // default-initialized: no stores
    capacity = n;
  }
  return buffer.get();
}

} // namespace mk::host::kernels
