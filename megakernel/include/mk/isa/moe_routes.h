//===- moe_routes.h - The routes a MoE router writes, and how tasks read them ===//
//
// A MoE layer of a program with R rows, E experts, k experts per token and
// Smax = min(E, R * k) expert slots (a slot is one distinct selected expert: no step
// selects more than Smax):
//
//   moe_router   x [R, H] bf16, norm_w [H] bf16, w [E, H] bf16, positions [R] i32
//                -> xg [Smax, R, H] bf16, routes [moeRoutesLength(R, k, Smax)] i32,
//                   route_weights [R, k] f32
//   moe_gate_up  xg, routes, w_gate / w_up: E tensors [I, H] bf16 -> act [Smax, R, I]
//   moe_down     act, routes, w: E tensors [H, I] bf16 -> expert_out [Smax, R, H] bf16
//   moe_combine  expert_out, routes, route_weights, residual [R, H] -> out [R, H] bf16
//
// routes, one i32 tensor (j: a row's experts in ascending expert id):
//
//   [0]                                   D: distinct experts selected (<= Smax)
//   [1 + s]                     s < Smax  slotExpert[s]: expert of slot s; slots
//                                         0..D-1 in ascending expert id; -1 for s >= D
//   [1 + Smax + s]              s < Smax  slotRows[s] = n_s: rows routed to slot s
//                                         (0 for s >= D)
//   [1 + 2Smax + s*R + i]       i < R     slotRow[s][i]: the i-th of those rows in
//                                         ascending order; -1 for i >= n_s
//   [1 + 2Smax + Smax*R + r*k + j]        rowSlot[r][j]: slot of row r's j-th expert;
//                                         -1 for an inactive row
//   [1 + 2Smax + Smax*R + R*k + r*k + j]  rowLocal[r][j]: index of row r among that
//                                         slot's rows; -1 for an inactive row
//
// route_weights[r][j] is the weight of row r's j-th expert (0 for an inactive row).
// The router writes every element (unused ones as -1 / 0 / 0.0f), so the tensors
// depend on the inputs only; xg[s][i] is written for i < n_s only (nothing reads the
// rest).
//
// No STL: compiled by g++ (host executor, compiler, tests) and nvcc.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/host_device.h"

#include <cstdint>

namespace mk::isa {

/// Expert slots of a MoE layer: min(E, R * k).
MK_HOST_DEVICE constexpr uint32_t moeSlots(uint32_t numExperts, uint32_t rows,
                                           uint32_t topK) {
  const uint64_t selections = uint64_t(rows) * topK;
  return selections < numExperts ? uint32_t(selections) : numExperts;
}

/// i32 elements of the routes tensor: 1 + 2 Smax + Smax R + 2 R k.
MK_HOST_DEVICE constexpr uint64_t moeRoutesLength(uint32_t rows, uint32_t topK,
                                                  uint32_t slots) {
  return 1 + 2 * uint64_t(slots) + uint64_t(slots) * rows + 2 * uint64_t(rows) * topK;
}

/// The expert that slot `slot` serves, or -1 when the slot is past the count D. Reads
/// only the count and the slot's entry, so an expert tile needs no other shape.
MK_HOST_DEVICE int32_t moeSlotExpert(const int32_t *routes, uint32_t slot) {
  const int32_t count = routes[0];
  return count > 0 && slot < uint32_t(count) ? routes[1 + slot] : -1;
}

/// A view of a routes tensor of a layer with `rows` rows, `topK` experts per token and
/// `slots` slots. T is int32_t (the router writes) or const int32_t (the others read).
template <typename T> struct MoeRoutesView {
  T *data;
  uint32_t rows, topK, slots;

  MK_HOST_DEVICE T &numDistinct() const { return data[0]; }
  MK_HOST_DEVICE T &slotExpert(uint32_t s) const { return data[1 + s]; }
  MK_HOST_DEVICE T &slotRows(uint32_t s) const { return data[1 + slots + s]; }
  MK_HOST_DEVICE T &slotRow(uint32_t s, uint32_t i) const {
    return data[1 + 2 * slots + s * rows + i];
  }
  MK_HOST_DEVICE T &rowSlot(uint32_t r, uint32_t j) const {
    return data[1 + 2 * slots + slots * rows + r * topK + j];
  }
  MK_HOST_DEVICE T &rowLocal(uint32_t r, uint32_t j) const {
    return data[1 + 2 * slots + slots * rows + rows * topK + r * topK + j];
  }
  /// The expert of slot s, or -1 when s >= D.
  MK_HOST_DEVICE int32_t expertOfSlot(uint32_t s) const { return moeSlotExpert(data, s); }
  MK_HOST_DEVICE uint64_t length() const { return moeRoutesLength(rows, topK, slots); }
};

using MoeRoutes = MoeRoutesView<int32_t>;
using ConstMoeRoutes = MoeRoutesView<const int32_t>;

} // namespace mk::isa
