#!/usr/bin/python3
"""End-to-end test: mkc -> mkrun on random-weight HF models against a float64 reference.

  run_e2e.py --bin-dir DIR [--config NAME ...] [--seed S] [--keep DIR] [-v]

Configurations: the dense llama-gqa, llama-mha and qwen3-qknorm, and the mixture-of-
experts qwen3-moe, qwen3-moe-nonorm, mixtral-gqa and mixtral-mqa, and two router
variants (make_model.py --router; make_model.py describes the models):
qwen3-moe-zero-router, an all-zero router: every router logit equal, so every row must
select experts 0 and 1 by the lower-id tie rule, and the weight bytes are known without
the reference's routing; mixtral-mqa-tied-router: experts 1 and 2 share a router row,
so their logits are equal bit for bit and tie at the k-th place in most rows (the
summary counts them; a run without one fails), where only the lower-id rule picks 1.
For each
(the router variants skip 5. and 6., which are their base model's code paths):

 1. write the model (config.json + BF16 model.safetensors) into a temporary directory;
 2. mkc compile --target host --batch 2 --prefill-chunk 16 --max-seq-len 128;
 3. mkrun --prompt-ids <20 random ids> --max-new-tokens 24 --ignore-eos --greedy
    --workers 2 --dump-logits --stats-json: the 20-token prompt spans two prefill
    chunks (16 + 4), the 44 positions cross KV blocks (16 tokens) and, for llama-gqa,
    the llama3 original_max_position_embeddings (32);
 4. run hf_reference.Model (float64) on prompt + generated[:-1] (teacher forcing on mk's
    own tokens) and compare row i of mk's logits (the logits generated token i was
    chosen from: step 0 = prefill's last row, steps 1.. = decode) with the reference
    logits at position len(prompt) - 1 + i:
      - relative L2 error ||mk - ref|| / ||ref|| <= 3e-2 at every step;
      - mk's token == argmax(ref) wherever the reference's top-2 margin is clear:
        top1 - top2 > 2% of (max - min) of that reference row. Below that margin bf16
        activations may legitimately flip the choice; above it they must not;
      - mk's token == argmax of mk's own logits row (greedy reads what it dumps);
    and, as a diagnostic that does not fail the test, with hf_reference.Model(bf16=True)
    (the same computation rounded to bf16 where mk's host executor documents its
    rounding points). mk agrees with that to ~1e-7 at most steps; an fp32-vs-fp64
    accumulation difference that flips one bf16 rounding (in the KV cache or the
    residual stream) moves the later steps by up to ~1e-2, so it is not a gate. A
    large disagreement with it and with the float64 reference points at mk's function,
    a small one with the emulation and a large one with float64 at the bf16 budget;
 5. the same run with --workers 1, --workers 5 and with --steps-per-launch 1 and 5
    (default 8): logits files bitwise identical to the first run's and the same tokens
    (the determinism contract: any worker count, any launch split);
 6. prefill alone: prompts that are prefixes of the teacher-forced sequence, of 1, 16,
    32 and 43 tokens (one row; exactly one and two full chunks; 16 + 16 + 11), with
    --max-new-tokens 1: the single row (prefill's last row) against the reference at
    the prefix's last position, same tolerance;
 7. weight bytes, where mkrun's --stats-json has decode_weight_bytes_per_step: it must
    equal, exactly, what plan_weights.py counts from the plan's decode tasks (each
    kind's footprint: static rows, the gathered embedding rows, and for the MoE kinds
    the rows of the experts the reference's routing selects at each decode step);
    for the MoE models also, as the end-to-end statement, within 2% of the model's own
    count: every weight but the embedding table once (hf_reference's
    decode_weight_bytes: attention, norms, dense MLPs, routers, LM head) plus each MoE
    layer's selected experts. The plan count is larger by the norm weights each tile
    re-reads and the gathered embedding rows;
 8. MoE models only, batch-4 decode: a --batch 4 plan; four prompts of 20, 13, 7 and 17
    tokens decoded together (mkrun --prompts-file, on a directory that links the
    model's files and adds a tokenizer.json whose added tokens "<t0>".."<tV-1>" are
    the ids, so prompts and generated ids go through mkrun's text); --dump-logits takes
    one prompt only, so each prompt is also run alone on the same plan with
    --dump-logits: the batched tokens must equal the alone tokens (rows do not
    interact), the alone logits must pass the checks of step 4, and
    decode_weight_bytes_per_step of the batched run must equal the plan count for the
    union of the four rows' experts at each step.

Routing in the reference. A router decision is discrete: where two experts' logits are
closer than the bf16 noise of the hidden state, float64 and bf16 pick either, and the
pick moves the logits far beyond 3e-2 (seen: 0.6). Like the token margin rule above,
the reference accepts either pick there and must match mk everywhere else:
  - the float64 forward takes each MoE layer's experts from the bf16 emulation's own
    top-k (Model.logits' force_routes), so both follow one path;
  - where that differs from float64's own top-k, the float64 logits of the two choices
    must be within ROUTE_BAND (20%) of the row's router-logit RMS (seen: up to 5%),
    else the test fails (the emulation would not be computing HF's function);
  - where the emulation itself is within NEAR_TIE (1% of the RMS) of a tie, mk's fp32
    accumulation order may pick the other expert (its k-th choice swapped for the best
    one left out): for each combination of swaps at the (at most 4) closest such
    decisions, the harness reruns the emulation with those swaps (its later decisions
    follow the new path) and the float64 forward with its routes, and keeps the
    combination nearest mk's logits.
  Exact ties (equal logits: the zero router, the tied rows) are never either-way: the
  lower id wins.
The summary line counts the decisions, ties, float64/emulation differences and swaps.

Prints one summary line per configuration (then one line per failed check) and exits
1 if any check fails or a tool fails (exit status, missing output), 2 if mkc or mkrun is
not in --bin-dir. While mkc lists no tiny-qwen3-moe preset or mkrun's --stats-json has
no decode_weight_bytes_per_step, the MoE configurations are SKIPPED with a message that
says so (naming one with --config is then an error). The tolerances are not knobs: a
failure is a bug in mk or in the reference; -v prints every step and every command,
--keep DIR keeps the files.
"""
import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hf_reference  # noqa: E402
import make_model  # noqa: E402
import plan_weights  # noqa: E402

# name -> (make_model config, router mode)
DENSE = {"llama-gqa": ("llama-gqa", "random"), "llama-mha": ("llama-mha", "random"),
         "qwen3-qknorm": ("qwen3-qknorm", "random")}
MOE = {"qwen3-moe": ("qwen3-moe", "random"),
       "qwen3-moe-nonorm": ("qwen3-moe-nonorm", "random"),
       "mixtral-gqa": ("mixtral-gqa", "random"), "mixtral-mqa": ("mixtral-mqa", "random"),
       "qwen3-moe-zero-router": ("qwen3-moe", "zero"),
       "mixtral-mqa-tied-router": ("mixtral-mqa", "tied")}
CONFIGS = list(DENSE) + list(MOE)
MOE_PRESET = "tiny-qwen3-moe"
BYTES_KEY = "decode_weight_bytes_per_step"

PROMPT_LEN = 20
NEW_TOKENS = 24
PREFILL_CHUNK = 16
MAX_SEQ_LEN = 128
BATCH = 2
BATCH4_PROMPT_LENS = (20, 13, 7, 17)
REL_TOL = 3e-2
EXACT = 1e-6  # mk and the bf16 emulation agree to fp32 precision (diagnostic)
PREFILL_LENGTHS = (1, 16, 32, 43)
CLEAR_MARGIN = 0.02  # of the reference row's logit range
BYTES_TOL = 0.02  # model-level weight bytes per decode step
ROUTE_BAND = 0.2  # of the row's router-logit RMS: float64 vs emulation routing
NEAR_TIE = 0.01  # of the row's router-logit RMS: emulation vs mk routing
MAX_NEAR_TIES = 4


class ToolError(Exception):
    pass


def run(cmd, verbose):
    if verbose:
        print("  $", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise ToolError(f"{' '.join(cmd)}\n  exited with {p.returncode}\n"
                        f"  stdout: {p.stdout.strip()}\n  stderr: {p.stderr.strip()}")
    return p.stdout


def parse_generated(stdout):
    for line in stdout.splitlines():
        if line.startswith("generated ids:"):
            return [int(t) for t in line[len("generated ids:"):].split()]
    raise ToolError(f"mkrun printed no 'generated ids:' line:\n{stdout}")


def read_stats(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ToolError(f"{path}: cannot read mkrun's --stats-json: {e}")


def mkrun(bin_dir, plan, model_dir, ids, new_tokens, workers, logits_path, verbose,
          extra=(), stats_path=None):
    stats = ("--stats-json", stats_path) if stats_path else ()
    out = run([os.path.join(bin_dir, "mkrun"), plan, "--weights", model_dir,
               "--prompt-ids", ",".join(str(t) for t in ids),
               "--max-new-tokens", str(new_tokens), "--ignore-eos", "--greedy",
               "--workers", str(workers), "--dump-logits", logits_path, *stats, *extra],
              verbose)
    tokens = parse_generated(out)
    logits = np.load(logits_path)
    if logits.dtype != np.float32 or logits.shape != (len(tokens), logits.shape[1]):
        raise ToolError(f"{logits_path}: expected float32 [{len(tokens)}, vocab], got "
                        f"{logits.dtype} {logits.shape}")
    return tokens, logits


def compile_plan(bin_dir, model_dir, batch, plan, verbose):
    run([os.path.join(bin_dir, "mkc"), "compile", "--model", model_dir, "--target", "host",
         "--batch", str(batch), "--prefill-chunk", str(PREFILL_CHUNK),
         "--max-seq-len", str(MAX_SEQ_LEN), "-o", plan], verbose)


def compare_rows(mk, ref):
    """mk: float32 [n, V]; ref: float64 [n, V]. Per row: rel err, clear?, ref argmax."""
    mk64 = torch.from_numpy(mk.astype(np.float64))
    err = (mk64 - ref).norm(dim=-1) / ref.norm(dim=-1)
    top2 = ref.topk(2, dim=-1).values
    span = ref.max(dim=-1).values - ref.min(dim=-1).values
    clear = (top2[:, 0] - top2[:, 1]) > CLEAR_MARGIN * span
    return err, clear, ref.argmax(dim=-1)


# ----------------------------------------------------------------------------------------
# The reference of one sequence, with the MoE routing rule of the module docstring
# ----------------------------------------------------------------------------------------

class Fit:
    """The reference logits [T, V] and MoE routes chosen for one comparison."""

    def __init__(self, logits, routes, swapped, near_ties, err):
        self.logits, self.routes = logits, routes
        self.swapped, self.near_ties, self.err = swapped, near_ties, err


class Reference:
    def __init__(self, model_dir, seq):
        self.seq = seq
        self.f64 = hf_reference.Model(model_dir)
        self.emu = hf_reference.Model(model_dir, bf16=True)
        self.emu_logits = self.emu.logits(seq)
        self.emu_routes = dict(self.emu.routes)
        self.moe = any(self.f64.moe)
        self._cache = {}

    def forward(self, swapped=frozenset()):
        """(float64 logits, routes) with the experts of the emulation that takes the
        swap choice at the given (layer, position) decisions (and its own top-k at all
        others, on the path those swaps make)."""
        if swapped not in self._cache:
            force = None
            if self.moe:
                routes = self.emu_routes
                if swapped:
                    self.emu.logits(self.seq, swap_routes=swapped)
                    routes = self.emu.routes
                force = {l: r.experts for l, r in routes.items()}
            logits = self.f64.logits(self.seq, force)
            self._cache[swapped] = (logits, dict(self.f64.routes))
        return self._cache[swapped]

    def near_ties(self, last):
        """The emulation's decisions at positions <= last within NEAR_TIE of a tie (not
        exact ties), closest first."""
        out = []
        for l, r in self.emu_routes.items():
            rms = r.logits.pow(2).mean(-1).sqrt()
            for t in range(last + 1):
                if 0 < r.gap[t] < NEAR_TIE * rms[t]:
                    out.append((float(r.gap[t] / rms[t]), l, t))
        return [(l, t) for _, l, t in sorted(out)]

    def fit(self, mk_rows):
        """The reference for mk's logits rows {position: float32 [V]}."""
        positions = sorted(mk_rows)
        mk = np.stack([mk_rows[p] for p in positions])
        ties = self.near_ties(positions[-1]) if self.moe else []
        cands = ties[:MAX_NEAR_TIES]
        best = None
        for n in range(len(cands) + 1):
            for combo in itertools.combinations(cands, n):
                logits, routes = self.forward(frozenset(combo))
                err = float(compare_rows(mk, logits[positions])[0].max())
                if best is None or err < best.err:
                    best = Fit(logits, routes, combo, ties, err)
        return best

    def route_failures(self, fit, last):
        """Decisions up to position `last` where the forced experts are farther from
        float64's own choice than ROUTE_BAND."""
        fails = []
        for l, r in fit.routes.items():
            rms = r.logits.pow(2).mean(-1).sqrt()
            for t in range(last + 1):
                if r.forced[t] and r.excess[t] > ROUTE_BAND * rms[t]:
                    fails.append(
                        f"reference: layer {l} position {t}: the bf16 emulation's "
                        f"experts {r.experts[t].tolist()} are "
                        f"{float(r.excess[t] / rms[t]):.3g} x the router-logit RMS from "
                        f"float64's own {r.own[t].tolist()} (allowed {ROUTE_BAND}): the "
                        f"emulation is not HF's function")
        return fails

    def route_counts(self, fit, last):
        """(decisions, exact ties at the k-th place, float64's own top-k != the
        emulation's) up to position `last`."""
        n = ties = forced = 0
        for r in fit.routes.values():
            n += last + 1
            ties += int(r.tie[:last + 1].sum())
            forced += int(r.forced[:last + 1].sum())
        return n, ties, forced


def selected_experts(routes, position):
    """{MoE layer: ascending list of the experts used at `position`}."""
    return {l: sorted(r.experts[position].tolist()) for l, r in routes.items()}


def union_experts(per_row):
    out = {}
    for sel in per_row:
        for l, experts in sel.items():
            out.setdefault(l, set()).update(experts)
    return {l: sorted(s) for l, s in out.items()}


def check_steps(label, tokens, logits, fit, ref_start, fails, verbose, emu_logits=None):
    """Step checks of 4. for mk's rows (row i <-> reference position ref_start + i);
    returns (err, clear, ref_arg, err16)."""
    ref = fit.logits[ref_start:ref_start + len(tokens)]
    err, clear, ref_arg = compare_rows(logits, ref)
    own = logits.argmax(axis=1)
    for i, (t, a) in enumerate(zip(tokens, own)):
        if t != a:
            fails.append(f"{label}step {i}: mkrun chose token {t} but its dumped logits' "
                         f"argmax is {a}")
    for i in range(len(tokens)):
        pos = ref_start + i
        phase = "prefill" if i == 0 else "decode"
        if not err[i] <= REL_TOL:
            fails.append(f"{label}step {i} ({phase}, position {pos}): relative L2 error "
                         f"{err[i]:.4g} > {REL_TOL}")
        if clear[i] and tokens[i] != int(ref_arg[i]):
            fails.append(f"{label}step {i} ({phase}, position {pos}): mk chose "
                         f"{tokens[i]}, the reference's clear argmax is "
                         f"{int(ref_arg[i])}")
    err16 = None
    if emu_logits is not None:
        err16, _, _ = compare_rows(logits, emu_logits[ref_start:ref_start + len(tokens)])
    if verbose:
        for i in range(len(tokens)):
            diag = f" (bf16 ref {err16[i]:.1e})" if err16 is not None else ""
            print(f"    {label}step {i:2d} pos {ref_start + i:3d} rel err {err[i]:.3e}"
                  f"{diag} token {tokens[i]:4d} ref argmax {int(ref_arg[i]):4d}"
                  f"{'' if clear[i] else ' (margin not clear)'}")
    return err, clear, ref_arg, err16


def check_bytes(label, stats, expected_total, steps, fails):
    """mkrun's decode_weight_bytes_per_step against an exact per-run total."""
    if stats.get("decode_steps") != steps:
        fails.append(f"{label}decode_steps is {stats.get('decode_steps')}, expected "
                     f"{steps}")
        return None
    got = stats[BYTES_KEY]
    if abs(got * steps - expected_total) >= 0.5:
        fails.append(f"{label}{BYTES_KEY} {got:.6f} != the plan's footprint count "
                     f"{expected_total / steps:.6f} ({got * steps:.0f} vs "
                     f"{expected_total} bytes over {steps} steps)")
    return got


# ----------------------------------------------------------------------------------------
# Batch-4 decode through --prompts-file
# ----------------------------------------------------------------------------------------

def write_id_tokenizer(model_dir, batch_dir, vocab):
    """batch_dir: links to the model's files plus a tokenizer.json whose added tokens
    "<tN>" are the ids N (no byte-level vocabulary: nothing else encodes)."""
    os.makedirs(batch_dir, exist_ok=True)
    for name in ("config.json", "model.safetensors"):
        link = os.path.join(batch_dir, name)
        if not os.path.lexists(link):
            os.symlink(os.path.abspath(os.path.join(model_dir, name)), link)
    added = [{"id": i, "content": f"<t{i}>", "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": False}
             for i in range(vocab)]
    tok = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
           "normalizer": None,
           "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                             "trim_offsets": True, "use_regex": True},
           "post_processor": None,
           "decoder": {"type": "ByteLevel", "add_prefix_space": False,
                       "trim_offsets": True, "use_regex": True},
           "model": {"type": "BPE", "dropout": None, "unk_token": None,
                     "continuing_subword_prefix": None, "end_of_word_suffix": None,
                     "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                     "vocab": {}, "merges": []}}
    with open(os.path.join(batch_dir, "tokenizer.json"), "w") as f:
        json.dump(tok, f)


def mkrun_batch(bin_dir, plan, batch_dir, prompts, new_tokens, prompts_path, stats_path,
                verbose):
    """Generated ids per prompt of one continuous-batching run."""
    with open(prompts_path, "w") as f:
        for p in prompts:
            f.write("".join(f"<t{t}>" for t in p) + "\n")
    out = run([os.path.join(bin_dir, "mkrun"), plan, "--weights", batch_dir,
               "--prompts-file", prompts_path, "--max-new-tokens", str(new_tokens),
               "--ignore-eos", "--greedy", "--workers", "2", "--stats-json", stats_path],
              verbose)
    got = {}
    for line in out.splitlines():
        m = re.match(r"\[(\d+)\] (.*)$", line)
        if m:
            got[int(m.group(1))] = [int(t) for t in re.findall(r"<t(\d+)>", m.group(2))]
    result = []
    for i, p in enumerate(prompts):
        ids = got.get(i)
        if ids is None or ids[:len(p)] != p:
            raise ToolError(f"mkrun --prompts-file printed no line '[{i}] <prompt ids>"
                            f"<generated ids>' for prompt {i}:\n{out}")
        result.append(ids[len(p):])
    return result


def check_batch4(name, model_dir, bin_dir, work, seed, vocab, byte_check, verbose,
                 fails):
    """Step 8; returns a summary fragment."""
    plan = os.path.join(work, name + ".b4.mkp")
    compile_plan(bin_dir, model_dir, 4, plan, verbose)
    rng = np.random.default_rng(seed + 2000)
    prompts = [[int(t) for t in rng.integers(3, vocab, n)] for n in BATCH4_PROMPT_LENS]
    batch_dir = os.path.join(work, name + ".batch")
    write_id_tokenizer(model_dir, batch_dir, vocab)
    stats_path = os.path.join(work, name + ".b4.stats.json")
    batched = mkrun_batch(bin_dir, plan, batch_dir, prompts, NEW_TOKENS,
                          os.path.join(work, name + ".b4.prompts"), stats_path, verbose)
    worst, clear_n, swaps, per_step = 0.0, 0, 0, [[] for _ in range(NEW_TOKENS - 1)]
    differ = 0
    for b, prompt in enumerate(prompts):
        label = f"batch 4, prompt {b}: "
        npy = os.path.join(work, f"{name}.b4.{b}.npy")
        tokens, logits = mkrun(bin_dir, plan, model_dir, prompt, NEW_TOKENS, 2, npy,
                               verbose)
        if batched[b] != tokens:
            differ += 1
            fails.append(f"{label}the batched run generated {batched[b]}, the same "
                         f"prompt alone on the same plan {tokens}")
        seq = prompt + tokens[:-1]
        ref = Reference(model_dir, seq)
        start = len(prompt) - 1
        fit = ref.fit({start + i: logits[i] for i in range(len(tokens))})
        fails.extend(label + f for f in ref.route_failures(fit, len(seq) - 1))
        err, clear, _, _ = check_steps(label, tokens, logits, fit, start, fails, verbose)
        worst = max(worst, float(err.max()))
        clear_n += int(clear.sum())
        swaps += len(fit.swapped)
        for i in range(1, len(tokens)):
            per_step[i - 1].append(selected_experts(fit.routes, start + i))
    stats = read_stats(stats_path)
    text = (f"batch 4 ({'/'.join(map(str, BATCH4_PROMPT_LENS))}-token prompts): "
            f"tokens {'== each prompt alone' if not differ else 'DIFFER from alone'}, "
            f"max rel err {worst:.3e}, {clear_n} "
            f"clear-margin steps, {swaps} near-tie swaps")
    if byte_check:
        tensors, programs = plan_weights.read_plan(plan)
        program = plan_weights.decode_program(programs)
        head_dim = hf_reference.Model(model_dir).head_dim
        total = sum(plan_weights.step_bytes(tensors, program, head_dim, union_experts(s))
                    for s in per_step)
        got = check_bytes("batch 4: ", stats, total, len(per_step), fails)
        if got is not None:
            distinct = np.mean([sum(len(v) for v in union_experts(s).values())
                                for s in per_step])
            text += (f"; {BYTES_KEY} {got:.1f} (plan count {total / len(per_step):.1f}, "
                     f"{distinct:.2f} distinct experts per step over all MoE layers)")
    return text


# ----------------------------------------------------------------------------------------
# One configuration
# ----------------------------------------------------------------------------------------

def check_config(name, bin_dir, work, seed, byte_check, verbose):
    """Returns (ok, summary line, [failure lines])."""
    t0 = time.time()
    fails = []
    config, router = (DENSE | MOE)[name]
    model_dir = os.path.join(work, name)
    make_model.make_model(model_dir, config, seed, router=router)
    vocab = make_model.CONFIGS[config]["vocab_size"]
    plan = os.path.join(work, name + ".mkp")
    compile_plan(bin_dir, model_dir, BATCH, plan, verbose)

    rng = np.random.default_rng(seed + 1000)
    prompt = [int(t) for t in rng.integers(3, vocab, PROMPT_LEN)]
    npy = os.path.join(work, f"{name}.npy")
    stats_path = os.path.join(work, f"{name}.stats.json")
    tokens, logits = mkrun(bin_dir, plan, model_dir, prompt, NEW_TOKENS, 2, npy, verbose,
                           stats_path=stats_path)
    if len(tokens) != NEW_TOKENS:
        fails.append(f"mkrun generated {len(tokens)} tokens, expected {NEW_TOKENS}")
    if logits.shape[1] != vocab:
        fails.append(f"logits have {logits.shape[1]} columns, the vocabulary is {vocab}")
        return False, f"{name}: FAIL", fails

    # Teacher forcing on mk's own tokens.
    seq = prompt + tokens[:-1]
    ref = Reference(model_dir, seq)
    start = PROMPT_LEN - 1
    fit = ref.fit({start + i: logits[i] for i in range(len(tokens))})
    route_fails = ref.route_failures(fit, len(seq) - 1)
    fails.extend(route_fails)
    err, clear, ref_arg, err16 = check_steps("", tokens, logits, fit, start, fails,
                                             verbose, ref.emu_logits)
    mismatches = sum(1 for i in range(len(tokens))
                     if clear[i] and tokens[i] != int(ref_arg[i]))
    flips = sum(1 for i in range(len(tokens)) if tokens[i] != int(ref_arg[i]))

    # Determinism across worker counts and launch splits.
    identical = True
    full = router == "random"
    runs = (("--workers 1", 1, ()), ("--workers 5", 5, ()),
            ("--steps-per-launch 1", 2, ("--steps-per-launch", "1")),
            ("--steps-per-launch 5", 2, ("--steps-per-launch", "5")))
    for label, w, extra in runs if full else ():
        path = os.path.join(work, f"{name}.{label.strip('-').replace(' ', '')}.npy")
        tw, lw = mkrun(bin_dir, plan, model_dir, prompt, NEW_TOKENS, w, path, verbose, extra)
        if tw != tokens:
            identical = False
            fails.append(f"{label} generated other tokens than the first run")
        with open(path, "rb") as a, open(npy, "rb") as b:
            if a.read() != b.read():
                identical = False
                diff = np.abs(lw.astype(np.float64) - logits).max() \
                    if lw.shape == logits.shape else float("nan")
                fails.append(f"{label}: logits not bitwise identical to the first run's "
                             f"(max abs diff {diff:.3g})")

    # Prefill alone, prompts that are prefixes of the teacher-forced sequence.
    prefill_errs = []
    for length in PREFILL_LENGTHS if full else ():
        path = os.path.join(work, f"{name}.prefill{length}.npy")
        _, lp = mkrun(bin_dir, plan, model_dir, seq[:length], 1, 2, path, verbose)
        pfit = ref.fit({length - 1: lp[0]})
        fails.extend(ref.route_failures(pfit, length - 1))
        e, _, _ = compare_rows(lp[:1], pfit.logits[length - 1:length])
        prefill_errs.append(float(e[0]))
        if not e[0] <= REL_TOL:
            fails.append(f"prefill of {length} tokens ({-(-length // PREFILL_CHUNK)} "
                         f"chunk(s)), last row (position {length - 1}): relative L2 error "
                         f"{e[0]:.4g} > {REL_TOL}")

    worst = int(err.argmax())
    summary = (f"{name}: max rel err {err.max():.3e} (step {worst}), mean {err.mean():.3e}; "
               f"bf16-emulation diagnostic: max {err16.max():.1e}, "
               f"{int((err16 <= EXACT).sum())}/{len(tokens)} steps within {EXACT:g}; "
               f"{len(tokens)} steps checked, {int(clear.sum())} with a clear margin, "
               f"{mismatches} clear-margin mismatches ({flips} argmax differences in "
               f"all)")
    if full:
        summary += (f"; prefill of {'/'.join(map(str, PREFILL_LENGTHS))} tokens: rel err "
                    f"{'/'.join(f'{e:.1e}' for e in prefill_errs)}; workers 1/2/5 and "
                    f"steps per launch 1/5/8 "
                    f"{'bitwise identical' if identical else 'DIFFER'}")

    if ref.moe:
        n, ties, forced = ref.route_counts(fit, len(seq) - 1)
        summary += (f"; routing: {n} decisions, {ties} exact ties at the k-th place, "
                    f"{forced} where float64's own top-k differs from the emulation's "
                    f"({'all' if not route_fails else 'NOT all'} within {ROUTE_BAND:g} x "
                    f"RMS), {len(fit.near_ties)} near ties, "
                    f"{len(fit.swapped)} swapped to match mk")
        if router == "tied" and ties == 0:
            fails.append("the tied router rows never tied at the k-th place")
        if router == "zero":
            k = ref.f64.top_k
            if ties != n:
                fails.append(f"the all-zero router tied at {ties} of {n} decisions, "
                             f"expected all")
            for l, r in fit.routes.items():
                if not (r.experts == torch.arange(k)).all():
                    fails.append(f"the reference's layer {l} selected experts other than "
                                 f"0..{k - 1}")

    # Weight bytes of the decode steps (one sequence: its rows' experts).
    stats = read_stats(stats_path)
    if byte_check:
        steps = len(tokens) - 1
        tensors, programs = plan_weights.read_plan(plan)
        program = plan_weights.decode_program(programs)
        head_dim = ref.f64.head_dim
        per_step = [selected_experts(fit.routes, start + i)
                    for i in range(1, len(tokens))]
        total = sum(plan_weights.step_bytes(tensors, program, head_dim, s)
                    for s in per_step)
        got = check_bytes("", stats, total, steps, fails)
        if got is not None:
            summary += f"; {BYTES_KEY} {got:.1f} == plan count"
            if ref.moe:
                model_bytes = ref.f64.decode_weight_bytes(
                    [{l: set(e) for l, e in s.items()} for s in per_step])
                rel = got / model_bytes - 1
                summary += f", {rel * 100:+.2f}% vs dense + selected experts " \
                           f"{model_bytes:.1f}"
                if abs(rel) > BYTES_TOL:
                    fails.append(f"{BYTES_KEY} {got:.1f} is {rel * 100:+.2f}% from the "
                                 f"model's dense + selected experts' bytes "
                                 f"{model_bytes:.1f} (allowed {BYTES_TOL * 100:g}%)")

    if ref.moe:
        summary += "; " + check_batch4(name, model_dir, bin_dir, work, seed, vocab,
                                       byte_check, verbose, fails)
    summary += f"; {time.time() - t0:.1f} s -> {'PASS' if not fails else 'FAIL'}"
    return not fails, summary, fails


# ----------------------------------------------------------------------------------------
# What this build of mk supports
# ----------------------------------------------------------------------------------------

def probe(bin_dir, work, verbose):
    """(MoE presets listed?, stats has decode_weight_bytes_per_step?)."""
    presets = run([os.path.join(bin_dir, "mkc"), "presets"], verbose).split()
    model_dir = os.path.join(work, "probe")
    make_model.make_model(model_dir, "llama-mha", 0)
    plan = os.path.join(work, "probe.mkp")
    compile_plan(bin_dir, model_dir, 1, plan, verbose)
    stats_path = os.path.join(work, "probe.stats.json")
    mkrun(bin_dir, plan, model_dir, [5, 6, 7], 2, 1, os.path.join(work, "probe.npy"),
          verbose, stats_path=stats_path)
    return MOE_PRESET in presets, BYTES_KEY in read_stats(stats_path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", required=True, help="directory with mkc and mkrun")
    ap.add_argument("--config", action="append", choices=CONFIGS,
                    help="run only this configuration (repeatable)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", help="work in this directory and keep it")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    for tool in ("mkc", "mkrun"):
        if not os.access(os.path.join(args.bin_dir, tool), os.X_OK):
            print(f"run_e2e.py: error: {args.bin_dir}/{tool} is not an executable",
                  file=sys.stderr)
            return 2
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        work = args.keep
    else:
        work = tempfile.mkdtemp(prefix="mk-e2e-")
    ok_all = True
    skipped = None
    try:
        try:
            has_moe, has_bytes = probe(args.bin_dir, work, args.verbose)
        except ToolError as e:
            print(f"probe: ERROR: {e}", flush=True)
            print("e2e: FAIL")
            return 1
        names = args.config or CONFIGS
        if not (has_moe and has_bytes):
            missing = []
            if not has_moe:
                missing.append(f"mkc presets lists no {MOE_PRESET} (no MoE compiler)")
            if not has_bytes:
                missing.append(f"mkrun --stats-json writes no {BYTES_KEY}")
            skipped = "; ".join(missing)
            asked = [n for n in names if n in MOE]
            if args.config and asked:
                print(f"run_e2e.py: error: --config {' '.join(asked)}: this build cannot "
                      f"run MoE models: {skipped}", file=sys.stderr)
                return 2
            names = [n for n in names if n not in MOE]
            print(f"e2e: *** MoE configurations SKIPPED ({', '.join(MOE)}): {skipped}. "
                  f"They run, and must pass, once both exist. ***", flush=True)
        for name in names:
            try:
                ok, summary, fails = check_config(name, args.bin_dir, work, args.seed,
                                                  has_bytes, args.verbose)
            except (ToolError, plan_weights.PlanError) as e:
                print(f"{name}: ERROR: {e}", flush=True)
                ok_all = False
                continue
            print(summary, flush=True)
            for f in fails:
                print(f"  {name}: {f}", flush=True)
            ok_all &= ok
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    result = "PASS" if ok_all else "FAIL"
    if skipped:
        result += f" (dense only: MoE configurations SKIPPED: {skipped})"
    print("e2e:", result)
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
