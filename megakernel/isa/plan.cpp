//===- plan.cpp - Names of the plan enums, per-rank model numbers ----------===//
#include "mk/isa/plan.h"

namespace mk::isa {

const char *dtypeName(DType t) {
  switch (t) {
  case DType::BF16:
    return "bf16";
  case DType::F16:
    return "f16";
  case DType::F32:
    return "f32";
  case DType::I32:
    return "i32";
  }
  return "invalid";
}

const char *placementName(Placement p) {
  switch (p) {
  case Placement::Weight:
    return "weight";
  case Placement::Activation:
    return "activation";
  case Placement::KvCache:
    return "kv_cache";
  case Placement::StepState:
    return "step_state";
  case Placement::Comm:
    return "comm";
  }
  return "invalid";
}

const char *programKindName(ProgramKind k) {
  switch (k) {
  case ProgramKind::Decode:
    return "decode";
  case ProgramKind::Prefill:
    return "prefill";
  }
  return "invalid";
}

const char *ropeStyleName(RopeStyle s) {
  switch (s) {
  case RopeStyle::RotateHalf:
    return "rotate_half";
  case RopeStyle::Interleaved:
    return "interleaved";
  }
  return "invalid";
}

RankDims rankDims(const ModelMeta &m, uint32_t tp) {
  const uint32_t n = tp ? tp : 1;
  RankDims d;
  d.heads = m.numHeads / n;
  if (m.numKvHeads >= n || m.numKvHeads == 0) {
    d.kvHeads = m.numKvHeads / n;
  } else {
    d.kvHeads = 1;
    d.kvReplicas = n / m.numKvHeads;
  }
  d.intermediate = m.intermediateSize / n;
  d.moeIntermediate = m.moeIntermediateSize / n;
  d.vocab = m.vocabSize / n;
  return d;
}

} // namespace mk::isa
