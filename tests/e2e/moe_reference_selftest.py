#!/usr/bin/python3
"""Checks hf_reference.py's mixture-of-experts block against a second, plain
implementation: one row at a time in Python floats, the top-k found by k scans for the
largest remaining probability (the first, i.e. lowest, id wins on equal values), the
weights renormalized by an explicit sum, each expert an explicit loop of dot products.

  moe_reference_selftest.py [-v]

Cases: random routers; an all-zero router (every probability equal: experts 0..k-1);
router rows duplicated so that two experts tie exactly at the k-th place; k == E; k ==
1; norm_topk_prob on and off; forced experts. Each in float64 and with the bf16 / fp32
rounding points of the emulation (Model(bf16=True)), which the plain version applies by
bit manipulation of single values. Then, on models make_model.py writes, the layer
types (mlp_only_layers, decoder_sparse_step, Mixtral's every layer) and the weight byte
accounting against the safetensors file. Exits 1 on the first mismatch.
"""
import math
import os
import struct
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hf_reference as ref  # noqa: E402
import make_model  # noqa: E402


def plain_fp32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def plain_bf16(v):
    (u,) = struct.unpack("<I", struct.pack("<f", v))  # round to fp32 first, as torch
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return struct.unpack("<f", struct.pack("<I", u))[0]


def plain_moe(x, router, experts, k, norm, emulate, force=None):
    """x: [T][H] floats; router: [E][H]; experts[e] = (gate [I][H], up [I][H], down
    [H][I]). Returns (per row: chosen ids ascending, weights, output [H])."""
    F = plain_fp32 if emulate else (lambda v: v)
    Rb = plain_bf16 if emulate else (lambda v: v)
    E = len(router)
    out = []
    for t, row in enumerate(x):
        logits = [F(math.fsum(a * b for a, b in zip(row, router[e]))) for e in range(E)]
        m = max(logits)
        ex = [F(math.exp(l - m)) for l in logits]
        total = F(math.fsum(ex))
        p = [F(v / total) for v in ex]
        chosen = []
        for _ in range(k):
            best = None
            for e in range(E):  # ascending id: a later equal value never replaces
                if e not in chosen and (best is None or p[e] > p[best]):
                    best = e
            chosen.append(best)
        if force is not None:
            chosen = list(force[t])
        chosen.sort()
        w = [p[e] for e in chosen]
        if norm:
            s = F(math.fsum(w))
            w = [F(v / s) for v in w]
        acc = [0.0] * len(row)
        for j, e in enumerate(chosen):
            gate, up, down = experts[e]
            g = [Rb(math.fsum(a * b for a, b in zip(row, gr))) for gr in gate]
            u = [Rb(math.fsum(a * b for a, b in zip(row, ur))) for ur in up]
            act = [Rb(Rb(gi / (1.0 + math.exp(-gi))) * ui) for gi, ui in zip(g, u)]
            y = [Rb(math.fsum(a * b for a, b in zip(act, dr))) for dr in down]
            acc = [F(w[j] * yc + a) for yc, a in zip(y, acc)]
        out.append((chosen, w, [Rb(a) for a in acc]))
    return out


def bf16_values(t):
    return t.to(torch.bfloat16).to(torch.float64)


def check_case(name, x, router, experts, k, norm, emulate, force=None):
    R = ref.bf16 if emulate else ref._identity
    F = ref.fp32 if emulate else ref._identity
    routing = ref.moe_route(x, router, k, norm, F, force)
    y = ref.moe_experts(x, routing, lambda e: experts[e], R, F)
    plain_experts = [tuple(w.tolist() for w in ex) for ex in experts]
    expect = plain_moe(x.tolist(), router.tolist(), plain_experts, k, norm, emulate,
                       None if force is None else force.tolist())
    label = f"{name} ({'bf16/fp32 emulation' if emulate else 'float64'})"
    for t, (chosen, w, out) in enumerate(expect):
        got = routing.experts[t].tolist()
        if got != chosen:
            return f"{label}: row {t}: experts {got}, the plain version chose {chosen}"
        if not torch.allclose(routing.weights[t], torch.tensor(w, dtype=ref.DT),
                              rtol=1e-12, atol=0):
            return f"{label}: row {t}: weights {routing.weights[t].tolist()} != {w}"
        want = torch.tensor(out, dtype=ref.DT)
        # float64: summation order only; emulation: a bf16 rounding may flip at a tie
        # of the two sums' last bits, one bf16 ulp of one element.
        tol = 1e-12 if not emulate else 2 ** -7
        err = (y[t] - want).abs().max() / want.abs().max().clamp(min=1e-30)
        if err > tol:
            return f"{label}: row {t}: output differs by {float(err):.3g} (relative)"
    return None


def moe_cases():
    g = torch.Generator().manual_seed(7)
    T, H, I = 7, 16, 8

    def randn(*shape, std=1.0):
        return bf16_values(std * torch.randn(*shape, generator=g, dtype=ref.DT))

    def experts(E):
        return [(randn(I, H, std=0.3), randn(I, H, std=0.3), randn(H, I, std=0.3))
                for _ in range(E)]

    x = randn(T, H)
    cases = []
    for E, k in ((8, 2), (6, 3), (4, 4), (5, 1)):
        router = randn(E, H, std=0.5)
        cases.append((f"random router E={E} k={k}", x, router, experts(E), k))
    E, k = 8, 2
    cases.append(("all-zero router", x, torch.zeros(E, H, dtype=ref.DT), experts(E), k))
    # Experts 1 and 2 share a row; expert 0 is twice it: for x.v > 0, 0 is first and 1,
    # 2 tie for second; for x.v < 0 the best random one is first and 1, 2 tie again.
    router = randn(E, H, std=0.05)
    v = randn(H, std=0.5)
    router[0], router[1], router[2] = 2 * v, v, v
    cases.append(("tie at the k-th place", x, router, experts(E), k))
    return cases


def run_moe_checks(verbose):
    failures, ties = [], 0
    for name, x, router, ex, k in moe_cases():
        for norm in (True, False):
            for emulate in (False, True):
                msg = check_case(f"{name}, norm_topk_prob {norm}", x, router, ex, k, norm,
                                 emulate)
                if msg:
                    failures.append(msg)
        routing = ref.moe_route(x, router, k, True)
        ties += int(routing.tie.sum())
        if name.startswith("tie") and not routing.tie.any():
            failures.append(f"{name}: no row has a tie at the k-th place")
        if name.startswith("tie"):
            swapped = routing.swap
            msg = check_case(f"{name}, forced to the swapped choice", x, router, ex, k,
                             True, False, force=swapped)
            if msg:
                failures.append(msg)
            forced = ref.moe_route(x, router, k, True, force=swapped)
            if not forced.forced.equal((swapped != routing.own).any(-1)):
                failures.append(f"{name}: Routing.forced does not mark the swapped rows")
            if ((forced.excess - routing.gap).abs() > 1e-12)[forced.forced].any():
                failures.append(f"{name}: a swap's excess is not the router's gap")
        if verbose:
            print(f"  {name}: experts {routing.experts.tolist()}")
    zero = ref.moe_route(torch.ones(3, 4, dtype=ref.DT), torch.zeros(6, 4, dtype=ref.DT),
                         3, False)
    if zero.experts.tolist() != [[0, 1, 2]] * 3 or not zero.tie.all():
        failures.append(f"all-zero router: experts {zero.experts.tolist()}, expected "
                        f"[0, 1, 2] per row, all ties")
    return failures, ties


def run_model_checks():
    failures = []
    expect_layers = {"qwen3-moe": [True, False, True],
                     "qwen3-moe-nonorm": [False, True, False, True],
                     "mixtral-gqa": [True, True], "mixtral-mqa": [True, True]}
    with tempfile.TemporaryDirectory(prefix="mk-moe-selftest-") as work:
        for name, layers in expect_layers.items():
            d = os.path.join(work, name)
            make_model.make_model(d, name, seed=3)
            m = ref.Model(d)
            if m.moe != layers:
                failures.append(f"{name}: MoE layers {m.moe}, expected {layers}")
            cfg = make_model.CONFIGS[name]
            wb = m.weight_bytes()
            total = sum(m.stored_bytes.values())
            embed = m.stored_bytes["model.embed_tokens.weight"]
            experts = sum(wb["expert"].values()) * m.num_experts
            untied_head = 0 if m.tied else embed
            if wb["dense"] + wb["router"] + experts + untied_head != total:
                failures.append(f"{name}: weight_bytes {wb} does not add up to the "
                                f"file's {total} bytes")
            E, k, I, _ = make_model.moe_shape(cfg)
            H = cfg["hidden_size"]
            for l, b in wb["expert"].items():
                if b != 3 * I * H * 2:
                    failures.append(f"{name}: layer {l}: expert bytes {b}, expected "
                                    f"3 * {I} * {H} * 2")
            step = {l: set(range(k)) for l in wb["expert"]}
            want = wb["dense"] + wb["router"] + k * sum(wb["expert"].values())
            if m.decode_weight_bytes([step, step]) != want:
                failures.append(f"{name}: decode_weight_bytes of k experts per layer is "
                                f"{m.decode_weight_bytes([step, step])}, expected {want}")
            # A forward with every layer forced to its own choice changes nothing.
            ids = [5, 9, 17, 33, 65, 7]
            logits = m.logits(ids)
            own = {l: r.own for l, r in m.routes.items()}
            if not torch.equal(m.logits(ids, own), logits):
                failures.append(f"{name}: forcing the router's own choice changed the "
                                f"logits")
        d = os.path.join(work, "zero")
        make_model.make_model(d, "qwen3-moe", seed=3, router="zero")
        m = ref.Model(d)
        m.logits([5, 9, 17])
        for l, r in m.routes.items():
            if r.experts.tolist() != [[0, 1]] * 3 or \
                    not torch.allclose(r.weights, torch.full((3, 2), 0.5, dtype=ref.DT)):
                failures.append(f"zero router: layer {l}: experts {r.experts.tolist()} "
                                f"weights {r.weights.tolist()}, expected 0, 1 at 0.5")
    return failures


def main(argv):
    verbose = "-v" in argv
    torch.set_num_threads(1)
    failures, ties = run_moe_checks(verbose)
    failures += run_model_checks()
    for f in failures:
        print(f"moe_reference_selftest: FAIL: {f}")
    if failures:
        return 1
    print(f"moe_reference_selftest: PASS ({len(moe_cases())} router cases x "
          f"norm_topk_prob on/off x float64/emulation, {ties} exact ties at the k-th "
          f"place; 4 models' layer types and weight bytes; forced routes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
