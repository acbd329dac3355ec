#!/usr/bin/env bash
# tests/unit/mpi/mkrun_ranks_fail_together.sh MPIRUN MKRUN MKC MODEL [MPIRUN FLAGS...]
#
# Compiles MODEL for a100 with --tp 2, then runs
# `mpirun -np 2 mkrun PLAN --backend cuda` on a machine where the ranks cannot all get a
# GPU (none, or fewer than 2): every rank must print its one error line
#   mkrun: error: rank R of 2: ...
# and the job must exit non-zero within seconds: the ranks agree on the failure over MPI
# before any NCCL call, so no rank waits in a collective for one that failed.
set -uo pipefail
mpirun=$1 mkrun=$2 mkc=$3 weights=$4
shift 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plan=$tmp/tp2.mkp
out=$("$mkc" compile --model "$weights" --target a100 --tp 2 -o "$plan" 2>&1) ||
  { echo "mkrun_ranks_fail_together: mkc failed" >&2; printf '%s\n' "$out" >&2; exit 1; }
fail() {
  echo "mkrun_ranks_fail_together: $*" >&2
  printf '%s\n' "$out" >&2
  exit 1
}
start=$SECONDS
out=$(timeout 60 "$mpirun" -np 2 "$@" "$mkrun" "$plan" --weights "$weights" \
  --prompt-ids 1,2,3 -n 2 --backend cuda 2>&1)
rc=$?
elapsed=$((SECONDS - start))
((rc == 124)) && fail "the job hung (killed after 60 s)"
((rc != 0)) || fail "the job exited 0; expected every rank to fail (fewer GPUs than ranks)"
for r in 0 1; do
  lines=$(grep -c "^mkrun: error: rank $r of 2: " <<<"$out")
  ((lines == 1)) || fail "rank $r printed $lines error lines, expected 1"
done
((elapsed <= 20)) || fail "the job took $elapsed s to fail, expected seconds"
echo "ok: both ranks failed in $elapsed s (exit $rc)"
grep '^mkrun: error: ' <<<"$out"
