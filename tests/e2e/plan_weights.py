#!/usr/bin/python3
"""The weight bytes an mk plan's decode program streams in one step, counted from the plan.

  plan_weights.py PLAN.mkp --head-dim D [--experts LAYER:E,E,... ...]

A second, independent count of what `mkrun --stats-json` reports as
decode_weight_bytes_per_step (the executors sum the spans of task_footprint.h's
footprints, static and late, over the tasks they run). This one reads the plan's tensor
table and task records itself and applies each kind's footprint as
megakernel/include/mk/isa/task_footprint.h and moe-design's "Prefetch and bytes" state
it, per task:

  embedding     late: the R table rows it gathers, R = its range[0] (every row is
                gathered, active or not)
  qkv           w rows [h0 * head_dim, h1 * head_dim) for heads range[1] = [h0, h1),
                norm_w whole, bias rows as w's (if any), head_norm_w whole (if any)
  o_proj,       w rows range[1]
  down_proj
  gate_up       w_gate and w_up rows range[1], norm_w whole
  lm_head       w rows range[1], norm_w whole
  moe_router    w whole, norm_w whole
  moe_gate_up   late, slot s = range[2].begin: if s < D (the distinct experts the step
                selected in the task's layer), rows range[1] of w_gate and w_up of expert
                e = the s-th selected expert in ascending id (tensor id operand + e)
  moe_down      late, likewise: rows range[1] of expert e's w
  all_reduce,   nothing (activations and comm buffers)
  all_gather
  others        nothing (they read activations, KV caches and step state only)

A kind this table does not know is an error, so a new kind cannot be counted as free.
Kind ids and operand roles come from the MK_TASK_KINDS table in the source tree
(task_kinds.h), so the count follows the table's order. Only the plan's TENS and PROG
sections are read (META is skipped by its length); a layout this reader does not know
fails with the section's name rather than miscounting.
"""
import argparse
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TASK_KINDS_H = os.path.join(HERE, "..", "..", "megakernel", "include", "mk", "isa",
                            "task_kinds.h")

DTYPE_BYTES = {0: 2, 1: 2, 2: 4, 3: 4}  # BF16, F16, F32, I32 (tensor_view.h DType)
PLACEMENT_WEIGHT = 0
PROGRAM_DECODE = 0
TASK_RECORD = struct.Struct("<HHI6I2I12H" + "IHBB" * 4 + "2I" + "BBBBI" + "QQ")
MAX_RANK = 4


class PlanError(Exception):
    pass


_KINDS = {}


def task_kinds(path=None):
    """[(name, [role names without marks])] in kind-id order, from MK_TASK_KINDS."""
    path = path or TASK_KINDS_H
    if path not in _KINDS:
        _KINDS[path] = _parse_task_kinds(path)
    return _KINDS[path]


def _parse_task_kinds(path):
    with open(path) as f:
        text = f.read()
    body = text[text.index("#define MK_TASK_KINDS(X)"):]
    body = body[:body.index("// clang-format on")]
    body = re.sub(r"/\*.*?\*/", "", body.replace("\\\n", "\n"), flags=re.S)
    kinds = []
    for m in re.finditer(r"\bX\(\s*(\w+)\s*,\s*\"([^\"]+)\"\s*,\s*(\w+)\s*,([^)]*)\)",
                         body):
        roles = [r.strip("=?") for r in re.findall(r"\"([^\"]+)\"", m.group(4))]
        kinds.append((m.group(2), roles))
    if not kinds:
        raise PlanError(f"{path}: no X(...) rows in MK_TASK_KINDS")
    return kinds


class Tensor:
    def __init__(self, name, dtype, placement, rank, shape):
        self.name, self.dtype, self.placement = name, dtype, placement
        self.rank, self.shape = rank, shape[:rank]

    def row_bytes(self):
        n = DTYPE_BYTES[self.dtype]
        for d in self.shape[1:]:
            n *= d
        return n

    def rows(self):
        return self.shape[0] if self.rank else 0


class Task:
    def __init__(self, fields):
        self.kind, self.layer = fields[0], fields[1]
        self.range = [(fields[3 + 2 * i], fields[4 + 2 * i]) for i in range(3)]
        self.operands = list(fields[11:23])
        self.num_operands = fields[23 + 16 + 2 + 2]


class Program:
    def __init__(self, name, kind, rows, tasks):
        self.name, self.kind, self.rows, self.tasks = name, kind, rows, tasks


class Reader:
    def __init__(self, data, pos, end, what):
        self.data, self.pos, self.end, self.what = data, pos, end, what

    def take(self, n):
        if self.pos + n > self.end:
            raise PlanError(f"{self.what}: truncated (this reader does not know the "
                            f"section's layout)")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        s = struct.Struct("<" + fmt)
        return s.unpack(self.take(s.size))

    def u32(self):
        return self.unpack("I")[0]

    def str(self):
        return self.take(self.u32()).decode("utf-8")


def read_plan(path):
    """(tensors, programs) of a .mkp file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 40 or data[:8] != b"MKPLAN\0\1":
        raise PlanError(f"{path}: not an mk plan")
    pos, sections = 40, {}
    while pos < len(data):
        if pos + 12 > len(data):
            raise PlanError(f"{path}: truncated section header at offset {pos}")
        tag = data[pos:pos + 4].decode("latin-1")
        (size,) = struct.unpack_from("<Q", data, pos + 4)
        sections[tag] = (pos + 12, pos + 12 + size)
        pos += 12 + size
    for tag in ("TENS", "PROG"):
        if tag not in sections:
            raise PlanError(f"{path}: no {tag} section")

    r = Reader(data, *sections["TENS"], f"{path}: TENS")
    tensors = []
    for _ in range(r.u32()):
        name = r.str()
        dtype, placement, rank, _zero, _layer, _program = r.unpack("BBBBHH")
        shape = list(r.unpack("4q"))
        r.unpack("Q")  # arena offset
        r.unpack("BBHHH")  # shard dim, 0, shard parts, shard replicas, 0
        if dtype not in DTYPE_BYTES or rank > MAX_RANK:
            raise PlanError(f"{path}: TENS: tensor {name!r}: dtype {dtype} rank {rank}")
        tensors.append(Tensor(name, dtype, placement, rank, shape))
    if r.pos != r.end:
        raise PlanError(f"{path}: TENS: {r.end - r.pos} bytes left over (this reader "
                        f"does not know the section's layout)")

    r = Reader(data, *sections["PROG"], f"{path}: PROG")
    programs = []
    for _ in range(r.u32()):
        name = r.str()
        kind, _a, _b, _c, rows, _arena = r.unpack("BBBBIQ")
        for _ in range(r.u32()):
            r.str()
            r.u32()
        tasks = [Task(TASK_RECORD.unpack(r.take(TASK_RECORD.size)))
                 for _ in range(r.u32())]
        r.take(4 * r.u32())
        programs.append(Program(name, kind, rows, tasks))
    if r.pos != r.end:
        raise PlanError(f"{path}: PROG: {r.end - r.pos} bytes left over (this reader "
                        f"does not know the section's layout)")
    return tensors, programs


def decode_program(programs):
    decode = [p for p in programs if p.kind == PROGRAM_DECODE]
    if len(decode) != 1:
        raise PlanError(f"expected one decode program, found {len(decode)}")
    return decode[0]


def step_bytes(tensors, program, head_dim, selected, kinds=None):
    """Weight bytes of one step of `program`. selected {layer: ascending list of the
    distinct experts the step selected there}; an MoE layer missing from it selected
    none."""
    kinds = kinds or task_kinds()
    total = 0
    for i, t in enumerate(program.tasks):
        if t.kind >= len(kinds):
            raise PlanError(f"task {i}: kind id {t.kind} is not in MK_TASK_KINDS")
        kind, roles = kinds[t.kind]

        def tensor(role, offset=0):
            idx = roles.index(role)
            op = t.operands[idx] if idx < t.num_operands else 0xFFFF
            if op == 0xFFFF:
                return None
            w = tensors[op + offset]
            if w.placement != PLACEMENT_WEIGHT:
                raise PlanError(f"task {i} ({kind}): operand {role} is not a weight")
            return w

        def rows(role, r0, r1, offset=0):
            w = tensor(role, offset)
            return 0 if w is None else (r1 - r0) * w.row_bytes()

        def whole(role):
            w = tensor(role)
            return 0 if w is None else w.rows() * w.row_bytes()

        r0, r1 = t.range[0], t.range[1]
        if kind == "embedding":
            total += rows("table", r0[0], r0[1])
        elif kind == "qkv":
            n0, n1 = r1[0] * head_dim, r1[1] * head_dim
            total += rows("w", n0, n1) + whole("norm_w") + rows("bias", n0, n1) + \
                whole("head_norm_w")
        elif kind in ("o_proj", "down_proj"):
            total += rows("w", *r1)
        elif kind == "gate_up":
            total += rows("w_gate", *r1) + rows("w_up", *r1) + whole("norm_w")
        elif kind == "lm_head":
            total += rows("w", *r1) + whole("norm_w")
        elif kind == "moe_router":
            total += whole("w") + whole("norm_w")
        elif kind in ("moe_gate_up", "moe_down"):
            chosen = selected.get(t.layer, [])
            s = t.range[2][0]
            if s < len(chosen):
                e = chosen[s]
                if kind == "moe_gate_up":
                    total += rows("w_gate", *r1, e) + rows("w_up", *r1, e)
                else:
                    total += rows("w", *r1, e)
        elif kind in ("attn_decode", "attn_merge", "attn_prefill", "argmax",
                      "moe_combine", "all_reduce", "all_gather"):
            pass
        else:
            raise PlanError(f"task {i}: kind {kind!r} has no footprint rule in "
                            f"{os.path.basename(__file__)}")
    return total


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("plan")
    ap.add_argument("--head-dim", type=int, required=True)
    ap.add_argument("--experts", action="append", default=[], metavar="LAYER:E,E,...",
                    help="the distinct experts a step selects in LAYER (repeatable)")
    args = ap.parse_args(argv)
    selected = {}
    for item in args.experts:
        layer, _, ids = item.partition(":")
        selected[int(layer)] = sorted(int(e) for e in ids.split(",") if e)
    try:
        tensors, programs = read_plan(args.plan)
        program = decode_program(programs)
        print(step_bytes(tensors, program, args.head_dim, selected))
    except (PlanError, OSError) as e:
        print(f"plan_weights.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
