#!/usr/bin/env bash
# compile_matrix.sh BIN_DIR PRESET_DIR
#
# Compiles the real-size presets for every target and both decode batch sizes, each
# plan with a 64-token prefill program, and checks that `mkc inspect` reads, verifies
# and describes every one. Tiny presets are the lit tests' business; this is the check
# that tiling, scheduling and memory planning hold up at 1B-70B sizes, and with the
# 18k expert tensors of Qwen3-30B-A3B.
#
# Every combination runs even after a failure; the script then lists the failures and
# exits 1. Run by ctest (label compile-matrix); about 30 s on a 2-core machine, most of
# it the 70B and Qwen3-30B-A3B.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BIN_DIR PRESET_DIR" >&2
  exit 2
fi
mkc="$1/mkc"
presets="$2"
[[ -x "$mkc" ]] || { echo "compile_matrix: $mkc: not an executable" >&2; exit 2; }
[[ -d "$presets" ]] || { echo "compile_matrix: $presets: not a directory" >&2; exit 2; }

models=(llama-3.2-1b llama-3.1-8b qwen3-8b llama-3.1-70b qwen3-30b-a3b mixtral-8x7b)
targets=(host a100 h100 h200)
batches=(1 8)
chunk=64

work=$(mktemp -d "${TMPDIR:-/tmp}/compile_matrix.XXXXXX")
trap 'rm -rf "$work"' EXIT

failures=()
fail() { # fail NAME WHAT OUTPUT_FILE
  failures+=("$1: $2")
  echo "FAIL $1: $2" >&2
  sed 's/^/    /' "$3" >&2
}

for model in "${models[@]}"; do
  for target in "${targets[@]}"; do
    for batch in "${batches[@]}"; do
      name="$model/$target/b$batch"
      plan="$work/$model-$target-b$batch.mkp"
      log="$work/log"
      if ! "$mkc" compile -m "$presets/$model" -t "$target" -b "$batch" \
        --prefill-chunk "$chunk" -o "$plan" >"$log" 2>&1; then
        fail "$name" "mkc compile failed" "$log"
        continue
      fi
      if ! "$mkc" inspect "$plan" >"$log" 2>&1; then
        fail "$name" "mkc inspect failed" "$log"
        continue
      fi
      expected=(
        "^plan .*: target $target, tensor parallel 1\$"
        "^program decode (decode, $batch rows): "
        "^program prefill (prefill, $chunk rows): "
        "^verified: yes\$"
      )
      if [[ $(grep -c '"num_experts\|"num_local_experts' "$presets/$model/config.json") -gt 0 ]]; then
        expected+=("^experts: " "^  moe: [0-9]* layers x (1 router + " "^  expected decode weight bytes per step (batch 1): dense .* experts x ")
      fi
      ok=1
      for pattern in "${expected[@]}"; do
        if ! grep -q -- "$pattern" "$log"; then
          fail "$name" "mkc inspect output has no line matching '$pattern'" "$log"
          ok=0
          break
        fi
      done
      if [[ $ok -eq 1 ]]; then
        tasks=$(sed -n 's/^program \([a-z]*\) .*: \([0-9]*\) tasks,.*/\1 \2 tasks/p' "$log" |
          paste -sd, | sed 's/,/, /g')
        echo "ok   $name ($tasks)"
      fi
      rm -f "$plan"
    done
  done
done

total=$((${#models[@]} * ${#targets[@]} * ${#batches[@]}))
if [[ ${#failures[@]} -ne 0 ]]; then
  echo "compile_matrix: ${#failures[@]} of $total plans failed:" >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "compile_matrix: all $total plans compiled and verified"
