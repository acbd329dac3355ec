#!/usr/bin/env bash
# compile_time.sh [BIN_DIR [PRESET_DIR]]
#
# Wall-clock time of `mkc compile` (config -> verified plan file on disk) for the
# real-size presets x every target x decode batch 1 and 8, each with a 64-token prefill
# program, and for the tensor-parallel rows (Llama-3.1-70B on h100 with --tp 8): the
# best of RUNS runs per combination, so the number is the compiler's cost and not the
# noise of a shared machine. Prints a table (with each row's budget) and the maximum;
# exits 1 when any compile fails or its best time reaches its budget.
#
#   BIN_DIR     where mkc is (default: build/bin of this checkout)
#   PRESET_DIR  model presets (default: models/presets of this checkout)
#   RUNS=5      runs per combination
#   LIMIT_S     one budget for every compile, in seconds (default: 3 for
#               llama-3.1-70b and the mixture-of-experts presets, 1 for the others)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$repo/build/bin}
presets=${2:-$repo/models/presets}
runs=${RUNS:-5}
mkc="$bin/mkc"
[[ -x "$mkc" ]] || { echo "compile_time: $mkc: not an executable (build first)" >&2; exit 2; }
[[ -d "$presets" ]] || { echo "compile_time: $presets: not a directory" >&2; exit 2; }

models=(llama-3.2-1b llama-3.1-8b qwen3-8b llama-3.1-70b qwen3-30b-a3b mixtral-8x7b)
targets=(host a100 h100 h200)
batches=(1 8)
chunk=64
# Tensor-parallel rows: "model target ranks", each for every batch.
tp_rows=("llama-3.1-70b h100 8")

work=$(mktemp -d "${TMPDIR:-/tmp}/compile_time.XXXXXX")
trap 'rm -rf "$work"' EXIT
log="$work/log"

# `time` is bash's keyword: wall-clock seconds with millisecond resolution, no extra
# process between the shell and mkc.
TIMEFORMAT=%3R

# The budget of one compile of MODEL, in seconds.
limit_for() {
  if [[ -n "${LIMIT_S:-}" ]]; then
    echo "$LIMIT_S"
  elif [[ "$1" == llama-3.1-70b || "$1" == qwen3-30b-a3b || "$1" == mixtral-8x7b ]]; then
    echo 3
  else
    echo 1
  fi
}

printf '%-14s %-6s %5s %3s %7s %8s %6s\n' model target batch tp tasks seconds limit
max=0
max_name=""
failed=0
slow=()
# Times one combination: MODEL TARGET BATCH TP.
measure() {
  local model=$1 target=$2 batch=$3 tp=$4
  local limit best="" t tasks run name="$1 $2 batch $3"
  if [[ $tp != 1 ]]; then
    name+=" tp $tp"
  fi
  limit=$(limit_for "$model")
  for ((run = 0; run < runs; ++run)); do
    if ! t=$({ time "$mkc" compile -m "$presets/$model" -t "$target" -b "$batch" \
      --tp "$tp" --prefill-chunk "$chunk" -o "$work/plan.mkp" >"$log" 2>&1; } 2>&1); then
      echo "compile_time: mkc compile -m $model -t $target -b $batch --tp $tp failed:" >&2
      sed 's/^/    /' "$log" >&2
      failed=1
      return
    fi
    if [[ -z "$best" ]] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$t
    fi
  done
  # "mkc: wrote P for T (decode N tasks, prefill M tasks; E events) in X ms"
  tasks=$(grep -o '[0-9]* tasks' "$log" | awk '{ s += $1 } END { print s }')
  printf '%-14s %-6s %5s %3s %7s %8s %6s\n' "$model" "$target" "$batch" "$tp" "$tasks" \
    "$best" "$limit"
  if awk -v a="$best" -v b="$max" 'BEGIN { exit !(a > b) }'; then
    max=$best
    max_name=$name
  fi
  if awk -v a="$best" -v l="$limit" 'BEGIN { exit !(a >= l) }'; then
    slow+=("$name: $best s, budget $limit s")
  fi
}

for model in "${models[@]}"; do
  for target in "${targets[@]}"; do
    for batch in "${batches[@]}"; do
      measure "$model" "$target" "$batch" 1
    done
  done
done
for row in "${tp_rows[@]}"; do
  read -r model target tp <<<"$row"
  for batch in "${batches[@]}"; do
    measure "$model" "$target" "$batch" "$tp"
  done
done

echo "max: $max s ($max_name); best of $runs runs each"
if [[ $failed -ne 0 ]]; then
  echo "compile_time: FAIL: some compiles failed" >&2
  exit 1
fi
if [[ ${#slow[@]} -ne 0 ]]; then
  echo "compile_time: FAIL: over budget:" >&2
  printf '  %s\n' "${slow[@]}" >&2
  exit 1
fi
