#!/usr/bin/env bash
# host_ab.sh   A/B of two host builds (or two flag sets) on the bench model, interleaved
#
#   bench/host_ab.sh MODE MKRUN_A MKRUN_B [mkrun flags...]
#
# Runs A, B, A, B, ... RUNS times each on host_decode.sh's bench model and plan
# (WORK_DIR, written by host_decode.sh; run it once first) and prints each side's
# median and the median of the pairwise ratios A/B: pairing keeps the ratio
# meaningful on a shared machine whose speed drifts between runs, where two separate
# medians would not. MODE:
#   prefill   prefill_ms of a PREFILL-token prompt (mkrun -n 1)
#   decode    decode_ms_per_token of a 4-token prompt and TOKENS greedy steps
# MKRUN_A and MKRUN_B are mkrun binaries (copy build/bin/mkrun aside before a change to
# keep the old one); the flags after them go to both, e.g. --workers 1 --simd-target
# AVX2. To compare flag sets on one binary, give it twice and put the differing flags
# in A_ARGS and B_ARGS.
#
# Environment (defaults in brackets):
#   RUNS       pairs of runs [8]
#   PREFILL    prefill prompt length [200]
#   TOKENS     decode steps [64]
#   WORK_DIR   the bench model and plan [${TMPDIR:-/tmp}/mk-host-decode]
#   A_ARGS, B_ARGS   more mkrun flags for one side only []
#   READ_THREADS     N: before each pair, measure the N-thread read bandwidth
#              (host_roofline --threads N on 512 MiB, from BIN_DIR [build/bin]); the
#              report then lists it per pair and gives the pairwise median of the pairs
#              at or above the median bandwidth too: an effect that needs memory
#              bandwidth to spare (two workers) shows only when the neighbours leave
#              some []
set -euo pipefail

die() {
  echo "host_ab.sh: error: $*" >&2
  exit 2
}
[[ $# -ge 3 ]] || die "usage: host_ab.sh prefill|decode MKRUN_A MKRUN_B [mkrun flags...]"
mode=$1 a=$2 b=$3
shift 3
[[ $mode == prefill || $mode == decode ]] || die "mode '$mode': want prefill or decode"
for bin in "$a" "$b"; do
  [[ -x $bin ]] || die "$bin: not an executable"
done
runs=${RUNS:-8}
prefill=${PREFILL:-200}
tokens=${TOKENS:-64}
work=${WORK_DIR:-${TMPDIR:-/tmp}/mk-host-decode}
plan=$work/bench-150m.mkp
model=$work/bench-150m
[[ -f $plan && -d $model ]] || die "$plan: no bench plan (run bench/host_decode.sh once)"
read_threads=${READ_THREADS:-}
roofline=${BIN_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/bin}/host_roofline
if [[ -n $read_threads ]]; then
  [[ -x $roofline ]] || die "$roofline: not built (READ_THREADS needs it)"
fi
read -r -a a_args <<<"${A_ARGS:-}"
read -r -a b_args <<<"${B_ARGS:-}"

if [[ $mode == prefill ]]; then
  prompt=$(seq -s, 1 "$prefill")
  run_args=(--prompt-ids "$prompt" -n 1)
  key=prefill_ms unit=ms
else
  run_args=(--prompt-ids 1,2,3,4 -n "$((tokens + 1))" --ignore-eos --greedy)
  key=decode_ms_per_token unit=ms/token
fi

stats=$(mktemp)
values=$(mktemp)
trap 'rm -f "$stats" "$values"' EXIT
# one SIDE BIN [args...]: runs once, appends "SIDE value".
one() {
  local side=$1 bin=$2
  shift 2
  "$bin" "$plan" -w "$model" "${run_args[@]}" "$@" --stats-json "$stats" >/dev/null ||
    die "$bin failed"
  echo "$side $(grep -o "\"$key\": *[0-9.eE+-]*" "$stats" | sed 's/.*: *//')" >>"$values"
}
for ((r = 1; r <= runs; r++)); do
  echo "pair $r/$runs" >&2
  if [[ -n $read_threads ]]; then
    echo "R $("$roofline" --threads "$read_threads" --mib 512 --reps 3 --fma-ms 1 \
      2>/dev/null | sed -n 's/^read_gbps=//p')" >>"$values"
  fi
  one A "$a" "$@" "${a_args[@]}"
  one B "$b" "$@" "${b_args[@]}"
done

echo "# host_ab.sh $mode on '$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- |
  sed 's/^ *//')', load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# A: $a ${A_ARGS:-}; B: $b ${B_ARGS:-}; flags: $*"
awk -v unit="$unit" -v key="$key" '
  function median(v, n,    i, j, t) {
    for (i = 2; i <= n; i++)
      for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  $1 == "R" { g[++ng] = $2 }
  $1 == "A" { a[++na] = $2 }
  $1 == "B" { b[++nb] = $2 }
  END {
    for (i = 1; i <= na; i++) { r[i] = a[i] / b[i]; lo = i == 1 || r[i] < lo ? r[i] : lo
                                hi = i == 1 || r[i] > hi ? r[i] : hi
                                line = line sprintf(" %.2f/%.2f", a[i], b[i])
                                if (ng) line = line sprintf("@%.0f", g[i]) }
    # median() sorts its array: pick the ratios of the quiet pairs before r is sorted.
    if (ng) {
      for (i = 1; i <= ng; i++) gs[i] = g[i]
      cut = median(gs, ng)
      for (i = 1; i <= na; i++) if (g[i] >= cut) q[++nq] = r[i]
    }
    printf "%s (%s), %d pairs%s:%s\n", key, unit, na, ng ? " (A/B@read GB/s)" : "", line
    printf "A median %.2f  B median %.2f  A/B pairwise median %.3f (min %.3f, max %.3f)\n",
           median(a, na), median(b, nb), median(r, na), lo, hi
    if (ng)
      printf "pairs with the read at or above its median (%.1f GB/s): %d, A/B pairwise median %.3f\n",
             cut, nq, median(q, nq)
  }' "$values"
