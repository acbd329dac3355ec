//===- TaskEnums.td - Closed sets of the plan: placements, program kinds ---===//
//
// I32EnumAttrs (as Triton's TritonAttrDefs.td): in an op's assembly format they
// print and parse as bare keywords, and anything else fails to parse. Their values
// are the ISA's (megakernel/include/mk/isa/plan.h), static_asserted case by case in
// TaskEnums.h, so a dialect value converts to the plan's with a cast. The graph
// dialect's `mkg.program` attribute (an EnumAttr) stores the same ProgramKind: a
// graph function becomes the task program of that kind.
//
// This file declares no dialect: graph and task .td files include it, and only the
// MkTaskIncGen target generates the C++ enums (and their IntegerAttr classes,
// mk::task::PlacementAttr and ProgramKindAttr) from it.
//===----------------------------------------------------------------------===//
#ifndef MK_TASK_ENUMS
#define MK_TASK_ENUMS

include "mlir/IR/EnumAttr.td"

def MKT_Placement : I32EnumAttr<"Placement",
    "tensor placement", [
      I32EnumAttrCase<"Weight", 0, "weight">,
      I32EnumAttrCase<"Activation", 1, "activation">,
      I32EnumAttrCase<"KvCache", 2, "kv_cache">,
      I32EnumAttrCase<"StepState", 3, "step_state">,
      I32EnumAttrCase<"Comm", 4, "comm">]> {
  let cppNamespace = "::mk::task";
}

def MKT_ProgramKind : I32EnumAttr<"ProgramKind",
    "program kind", [
      I32EnumAttrCase<"Decode", 0, "decode">,
      I32EnumAttrCase<"Prefill", 1, "prefill">]> {
  let cppNamespace = "::mk::task";
}

#endif // MK_TASK_ENUMS
