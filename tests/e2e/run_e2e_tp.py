#!/usr/bin/python3
"""End-to-end test of tensor parallelism: mkc compile --tp N -> mkrun on the host executor.

  run_e2e_tp.py --bin-dir DIR [--config NAME[:N] ...] [--seed S] [--keep DIR] [-v]

Runs: TP=2 and TP=4 of llama-gqa, llama-mha and qwen3-qknorm (TP=4 replicates their
KV heads where there are 2), TP=2 of qwen3-moe and mixtral-gqa (make_model.py describes
the models). For each model and N, with the settings of run_e2e.py (20-token prompt,
24 new tokens, --ignore-eos, batch 2, prefill chunk 16):

 1. mkc compile the model with --tp 1 and with --tp N;
 2. mkrun the TP=1 plan and the TP=N plan (--greedy --workers 2, which is per rank,
    --dump-logits: the full-vocabulary rows, gathered from the ranks);
 3. against the float64 reference (run_e2e.Reference, teacher-forced on the TP=N run's
    own tokens, with its MoE routing rule): relative L2 error <= 3e-2 at every step,
    the token == the reference's argmax where its margin is clear, the token == the
    argmax of the dumped row;
 4. against TP=1: relative L2 error of each step's logits <= TP1_TOL (3e-2, the
    float64 budget; measured at most 2.1e-2, llama-mha TP=4) over the steps both runs
    decoded from the same tokens and, for MoE models, the same experts (the reference
    fitted to each run's rows, with the routing rule of run_e2e.py: a near-tie router
    decision may go either way in either run, and an either-way expert moves the
    logits far beyond bf16 noise), and the same token wherever TP=1's row has a clear
    margin. The ranks round each o_proj / down_proj partial sum to bf16 and the
    all-reduce rounds their fp32 sum again, where TP=1 rounds one fp32 accumulation:
    the residual stream differs by bf16 roundings, not more;
 5. determinism: the TP=N run again with --workers 2 and with --workers 1 per rank:
    logits files bitwise identical, same tokens;
 6. sampling (--temperature 0.8 --top-p 0.95 --seed 7) with --workers 1 and 2: the
    same tokens. Every rank samples from the gathered rows, and mkrun fails when a rank
    generated other tokens than rank 0 (greedy runs included), so every run above
    also says the ranks agreed;
 7. once per N (the first model not in KNOWN_FAILURES): --tp given equal to the plan's runs; --tp other than
    the plan's is a one-line error; --profile writes a trace with a track group per
    rank, and mkprof lists the all_reduce and all_gather tiles of every rank.

Prints one summary line per run (then one line per failed check); exits 1 on a failed
check or a failing tool, 2 if mkc or mkrun is not in --bin-dir. While `mkc compile
--tp 2` says tensor parallelism is not supported, every configuration is SKIPPED with
a message that says so (naming one with --config is then an error).
"""
import argparse
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
import make_model  # noqa: E402
import run_e2e  # noqa: E402
from run_e2e import (BATCH, MAX_SEQ_LEN, NEW_TOKENS, PREFILL_CHUNK, PROMPT_LEN,  # noqa: E402
                     REL_TOL, CLEAR_MARGIN, ToolError, compare_rows, run)

RUNS = [("llama-gqa", 2), ("llama-mha", 2), ("qwen3-qknorm", 2),
        ("llama-gqa", 4), ("llama-mha", 4), ("qwen3-qknorm", 4),
        ("qwen3-moe", 2), ("mixtral-gqa", 2)]
TP1_TOL = 3e-2
# Runs that fail for a known reason outside the runtime: they run, and their failures
# print as XFAIL; one that passes fails the test (XPASS) until it is taken off the list.
KNOWN_FAILURES = {}
SAMPLING = ("--temperature", "0.8", "--top-p", "0.95", "--seed", "7")


def first_route_difference(a, b, last):
    """The first position <= last where the fits a and b select other experts in some
    MoE layer, or None."""
    for t in range(last + 1):
        for layer, r in a.routes.items():
            if not torch.equal(r.experts[t], b.routes[layer].experts[t]):
                return t
    return None


def compile_plan(bin_dir, model_dir, tp, plan, verbose):
    run([os.path.join(bin_dir, "mkc"), "compile", "--model", model_dir, "--target", "host",
         "--batch", str(BATCH), "--prefill-chunk", str(PREFILL_CHUNK),
         "--max-seq-len", str(MAX_SEQ_LEN), "--tp", str(tp), "-o", plan], verbose)


def mkrun_sampled(bin_dir, plan, model_dir, ids, workers, verbose):
    out = run([os.path.join(bin_dir, "mkrun"), plan, "--weights", model_dir,
               "--prompt-ids", ",".join(str(t) for t in ids),
               "--max-new-tokens", str(NEW_TOKENS), "--ignore-eos", "--workers",
               str(workers), *SAMPLING], verbose)
    return run_e2e.parse_generated(out)


def same_file(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def check_cli(bin_dir, plan, model_dir, prompt, tp, work, tag, verbose, fails):
    """Step 7; returns a summary fragment."""
    mkrun = os.path.join(bin_dir, "mkrun")
    ids = ",".join(str(t) for t in prompt)
    base = [mkrun, plan, "--weights", model_dir, "--prompt-ids", ids, "--max-new-tokens",
            "4", "--workers", "1"]
    run(base + ["--tp", str(tp)], verbose)
    p = subprocess.run(base + ["--tp", str(tp + 1)], capture_output=True, text=True)
    lines = p.stderr.strip().splitlines()
    if p.returncode != 1 or len(lines) != 1 or f"--tp {tp + 1}" not in lines[0]:
        fails.append(f"--tp {tp + 1} on a --tp {tp} plan: expected one error line naming "
                     f"--tp and exit 1, got exit {p.returncode}: {p.stderr.strip()!r}")
    trace = os.path.join(work, tag + ".trace.json")
    run(base + ["--profile", trace], verbose)
    with open(trace) as f:
        events = json.load(f)["traceEvents"]
    groups = sorted(e["args"]["name"] for e in events
                    if e.get("ph") == "M" and e.get("name") == "process_name")
    want = sorted(["launches"] + [f"rank {r}" for r in range(tp)])
    if groups != want:
        fails.append(f"--profile: track groups {groups}, expected {want}")
    out = run([os.path.join(bin_dir, "mkprof"), trace, "--plan", plan], verbose)
    rows = set(re.findall(r"^(\d+)\s+(all_reduce|all_gather)\s+\d+", out, re.M))
    want_rows = {(str(r), k) for r in range(tp) for k in ("all_reduce", "all_gather")}
    if rows != want_rows:
        fails.append(f"mkprof: comm rows for {sorted(rows)}, expected every rank's "
                     f"all_reduce and all_gather:\n{out}")
    return f"--tp {tp} accepted, --tp {tp + 1} refused, trace of {tp} ranks summarized"


def check_run(name, tp, bin_dir, work, seed, cli, verbose):
    """Returns (ok, summary line, [failure lines])."""
    t0 = time.time()
    fails = []
    config, router = (run_e2e.DENSE | run_e2e.MOE)[name]
    model_dir = os.path.join(work, name)
    if not os.path.exists(os.path.join(model_dir, "config.json")):
        make_model.make_model(model_dir, config, seed, router=router)
    vocab = make_model.CONFIGS[config]["vocab_size"]
    tag = f"{name}.tp{tp}"
    plan1 = os.path.join(work, name + ".tp1.mkp")
    plan = os.path.join(work, tag + ".mkp")
    if not os.path.exists(plan1):
        compile_plan(bin_dir, model_dir, 1, plan1, verbose)
    compile_plan(bin_dir, model_dir, tp, plan, verbose)

    rng = np.random.default_rng(seed + 1000)
    prompt = [int(t) for t in rng.integers(3, vocab, PROMPT_LEN)]
    npy1 = os.path.join(work, name + ".tp1.npy")
    tokens1, logits1 = run_e2e.mkrun(bin_dir, plan1, model_dir, prompt, NEW_TOKENS, 2,
                                     npy1, verbose)
    npy = os.path.join(work, tag + ".npy")
    tokens, logits = run_e2e.mkrun(bin_dir, plan, model_dir, prompt, NEW_TOKENS, 2, npy,
                                   verbose)
    if len(tokens) != NEW_TOKENS or logits.shape[1] != vocab:
        fails.append(f"mkrun --tp {tp} generated {len(tokens)} tokens of logits "
                     f"{logits.shape}, expected {NEW_TOKENS} x {vocab}")
        return False, f"{name} TP={tp}: FAIL", fails

    # 3. The float64 reference, teacher-forced on this run's tokens.
    seq = prompt + tokens[:-1]
    ref = run_e2e.Reference(model_dir, seq)
    start = PROMPT_LEN - 1
    fit = ref.fit({start + i: logits[i] for i in range(len(tokens))})
    fails.extend(ref.route_failures(fit, len(seq) - 1))
    err, clear, ref_arg, _ = run_e2e.check_steps("", tokens, logits, fit, start, fails,
                                                 verbose)

    # 4. TP=1: the rows both runs computed from the same tokens (row i depends on the
    # tokens before i) and, for MoE models, the same experts.
    same = next((i for i, (a, b) in enumerate(zip(tokens, tokens1)) if a != b),
                len(tokens))
    rows = min(same + 1, len(tokens))
    if ref.moe:
        fit1 = ref.fit({start + i: logits1[i] for i in range(rows)})
        split = first_route_difference(fit, fit1, start + rows - 1)
        if split is not None:
            rows = max(split - start, 0)
    err1, clear1, _ = compare_rows(logits[:rows],
                                   torch.from_numpy(logits1[:rows].astype(np.float64)))
    for i in range(rows):
        if not err1[i] <= TP1_TOL:
            fails.append(f"step {i}: relative L2 error {err1[i]:.4g} against TP=1's logits "
                         f"> {TP1_TOL}")
        if tokens[i] != tokens1[i] and clear1[i]:
            fails.append(f"step {i}: token {tokens[i]}, TP=1 chose {tokens1[i]} with a "
                         f"clear margin")

    # 5. Determinism across runs and worker counts (per rank).
    identical = True
    for label, workers in (("again --workers 2", 2), ("--workers 1", 1)):
        path = os.path.join(work, f"{tag}.w{workers}.npy")
        tw, _ = run_e2e.mkrun(bin_dir, plan, model_dir, prompt, NEW_TOKENS, workers, path,
                              verbose)
        if tw != tokens or not same_file(path, npy):
            identical = False
            fails.append(f"{label}: tokens or logits not bitwise identical to the first "
                         f"run's")

    # 6. Sampling: the ranks draw one token from the gathered rows.
    sampled = [mkrun_sampled(bin_dir, plan, model_dir, prompt, w, verbose) for w in (1, 2)]
    if sampled[0] != sampled[1] or len(sampled[0]) != NEW_TOKENS:
        fails.append(f"sampled tokens: --workers 1 {sampled[0]}, --workers 2 {sampled[1]}")

    summary = (f"{name} TP={tp}: max rel err {err.max():.3e} vs float64 "
               f"({int(clear.sum())} clear-margin steps, "
               f"{sum(1 for i in range(len(tokens)) if tokens[i] != int(ref_arg[i]))} "
               f"argmax differences); vs TP=1: max rel err "
               f"{err1.max() if rows else float('nan'):.3e} over {rows} "
               f"steps, tokens {'identical' if same == len(tokens) else f'differ from step {same}'}; "
               f"workers 1/2 and reruns "
               f"{'bitwise identical' if identical else 'DIFFER'}; sampled tokens "
               f"{'identical' if sampled[0] == sampled[1] else 'DIFFER'} across workers")
    if cli:
        summary += "; " + check_cli(bin_dir, plan, model_dir, prompt, tp, work, tag,
                                    verbose, fails)
    summary += f"; {time.time() - t0:.1f} s -> {'PASS' if not fails else 'FAIL'}"
    return not fails, summary, fails


def tp_support(bin_dir, work, verbose):
    """None when mkc compiles a --tp 2 plan, else mkc's reason."""
    model_dir = os.path.join(work, "probe")
    make_model.make_model(model_dir, "llama-mha", 0)
    cmd = [os.path.join(bin_dir, "mkc"), "compile", "--model", model_dir, "--target",
           "host", "--batch", "1", "--tp", "2", "-o", os.path.join(work, "probe.mkp")]
    if verbose:
        print("  $", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode == 0:
        return None
    if "not supported" in p.stderr or "not expected" in p.stderr:  # no TP, no --tp
        return p.stderr.strip()
    raise ToolError(f"{' '.join(cmd)}\n  exited with {p.returncode}\n"
                    f"  stderr: {p.stderr.strip()}")


def parse_config(text):
    name, _, n = text.partition(":")
    runs = [r for r in RUNS if r[0] == name and (not n or str(r[1]) == n)]
    if not runs:
        raise argparse.ArgumentTypeError(
            f"{text}: not one of {', '.join(f'{m}:{t}' for m, t in RUNS)}")
    return runs


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", required=True, help="directory with mkc, mkrun, mkprof")
    ap.add_argument("--config", action="append", type=parse_config,
                    help="run only this model (NAME) or run (NAME:N); repeatable")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", help="work in this directory and keep it")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    for tool in ("mkc", "mkrun", "mkprof"):
        if not os.access(os.path.join(args.bin_dir, tool), os.X_OK):
            print(f"run_e2e_tp.py: error: {args.bin_dir}/{tool} is not an executable",
                  file=sys.stderr)
            return 2
    runs = [r for c in args.config for r in c] if args.config else RUNS
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        work = args.keep
    else:
        work = tempfile.mkdtemp(prefix="mk-e2e-tp-")
    try:
        missing = tp_support(args.bin_dir, work, args.verbose)
    except ToolError as e:
        print(f"probe: ERROR: {e}", flush=True)
        print("e2e TP: FAIL")
        return 1
    if missing:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        if args.config:
            print(f"run_e2e_tp.py: error: this build cannot compile --tp 2 plans: "
                  f"{missing}", file=sys.stderr)
            return 2
        print(f"e2e TP: *** SKIPPED: this build cannot compile --tp 2 plans ({missing}). "
              f"The runs must pass once it can. ***")
        return 0
    ok_all = True
    cli_done = set()
    try:
        for name, tp in runs:
            try:
                cli = tp not in cli_done and (name, tp) not in KNOWN_FAILURES
                ok, summary, fails = check_run(name, tp, args.bin_dir, work, args.seed,
                                               cli, args.verbose)
                if cli:
                    cli_done.add(tp)
            except ToolError as e:
                print(f"{name} TP={tp}: ERROR: {e}", flush=True)
                ok_all = False
                continue
            known = KNOWN_FAILURES.get((name, tp))
            if known and not ok:
                print(f"{summary.rsplit(' -> ', 1)[0]} -> XFAIL (known: {known})",
                      flush=True)
                for f in fails:
                    print(f"  {name} TP={tp}: XFAIL: {f}", flush=True)
                continue
            if known:
                summary += (f" (XPASS: listed in KNOWN_FAILURES ({known}); take it off "
                            f"the list)")
                ok = False
            print(summary, flush=True)
            for f in fails:
                print(f"  {name} TP={tp}: {f}", flush=True)
            ok_all &= ok
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("e2e TP:", "PASS" if ok_all else "FAIL")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
