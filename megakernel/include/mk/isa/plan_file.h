//===- plan_file.h - Reading and writing plan files (.mkp) ----------------===//
//
// A plan file is a 40-byte header followed by a checksummed payload; the layout is
// documented at the top of megakernel/isa/plan_file.cpp. Readers check structure only
// (every read bounds-checked, counts checked against the bytes left before anything is
// allocated); verifyPlan() (plan_verify.h) checks meaning. Nothing here throws.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"
#include "mk/isa/status.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mk::isa {

/// The plan format version this build writes; the only one it reads.
inline constexpr uint32_t kPlanFormatVersion = 3;
inline constexpr char kPlanMagic[8] = {'M', 'K', 'P', 'L', 'A', 'N', '\0', '\1'};

// Header layout, little-endian:
//   [0, 8) magic · [8] u32 format version · [12] u32 ISA version · [16] u32 target ·
//   [20] u32 tensor parallel · [24] u64 payload bytes · [32] u64 FNV-1a 64 of the payload
inline constexpr size_t kPlanHeaderBytes = 40;
inline constexpr size_t kPlanPayloadBytesOffset = 24;
inline constexpr size_t kPlanChecksumOffset = 32;

/// Longest name (tensor, program, event, model family) a plan file may hold.
inline constexpr uint32_t kPlanMaxStringBytes = 4096;

inline constexpr uint64_t kFnv1a64Basis = 0xcbf29ce484222325ull;

/// FNV-1a 64 of `bytes`; pass a previous result as `basis` to hash in pieces.
uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t basis = kFnv1a64Basis);
inline uint64_t fnv1a64(std::string_view text, uint64_t basis = kFnv1a64Basis) {
  return fnv1a64(std::span(reinterpret_cast<const uint8_t *>(text.data()), text.size()),
                 basis);
}

/// Serializes `plan` into `out` (replacing its contents). Fails only for what the format
/// cannot hold (a name over kPlanMaxStringBytes, rank over kMaxRank, counts over 2^32).
Status writePlan(const Plan &plan, std::vector<uint8_t> &out);

/// Parses a plan. On error `out` is left unchanged and the message names the section,
/// the entry and the byte offset.
Status readPlan(std::span<const uint8_t> bytes, Plan &out);

/// Writes to `path.tmp.<pid>`, syncs, then renames over `path`, so an existing file is
/// replaced whole or not at all. Errors start with `path`.
Status writePlanFile(const std::string &path, const Plan &plan);

/// Reads and parses a plan file. Errors start with `path`, e.g.
///   "p.mkp: truncated tensor table: need 48 bytes at offset 1234, file has 1250"
Status readPlanFile(const std::string &path, Plan &out);

} // namespace mk::isa
