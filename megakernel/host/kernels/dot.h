//===- dot.h - Fixed-order bf16 dot products for the host task kernels -----===//
//
// Every projection output element is one dotBf16() call, so its value depends on the
// two rows and the build's SIMD target only: not on the tile, the row block, the
// thread or the run.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/bf16.h"

#include <cstddef>
#include <cstdint>

namespace mk::host::kernels {

/// Rows of activations processed per pass over a weight tile: each weight row is
/// loaded once per block and reused from L1 for the block's rows. Numerics do not
/// depend on it.
inline constexpr int64_t kRowBlock = 8;

/// sum_i a[i] * b[i] in fp32. Order: 4 accumulators of the static SIMD target's width
/// W, element i going to lane i % 4W while i < n - n % 4W; the accumulators are added
/// as (a0 + a1) + (a2 + a3), reduced across lanes with the target's fixed shuffle
/// tree, and the tail is added in index order.
float dotBf16(const bf16 *a, const bf16 *b, size_t n);

/// Lanes of the static SIMD target (1 for Highway's scalar target).
size_t dotLanes();

} // namespace mk::host::kernels
