#!/usr/bin/env bash
# gpu_decode.sh                      measure, on the GPU of this machine
# gpu_decode.sh --plans-only DIR     compile the plans ahead (no GPU needed), for a GPU
#                                    machine without mkc: DIR/<model>-<target>.mkp
#
# In one run on one GPU: the device-to-device copy bandwidth (cudaMemcpy, bytes read +
# bytes written), then for each model (random bf16 weights, the preset's real shapes):
# mk's decode ms/token (`mkrun --backend cuda`) and a kernel-per-op baseline's
# (bench/baseline/decode_baseline: cuBLAS + one CUDA graph per step), each also as a
# ratio to the bandwidth floor = (bytes one decode step must read: the weights once +
# the KV cache at the context length) / copy bandwidth. Prints a table last and writes
# everything to OUT_FILE. Exits 1 when a measurement failed (after writing the report)
# or when MAX_MK_RATIO is set and mk/floor exceeds it.
#
# Environment (defaults in brackets):
#   MODELS            presets to run [llama-3.2-1b qwen3-8b] (models/presets/<name>)
#   CONTEXT           KV length attended per decode step [512]. The baseline attends
#                     exactly CONTEXT keys at a fixed position; mk runs a prompt of
#                     CONTEXT - TOKENS/2 tokens and generates TOKENS, so its decode
#                     steps attend CONTEXT keys on average
#   TOKENS            tokens mk generates per run [128]
#   MK_RUNS           mkrun runs per model; the median counts [3]
#   STEPS_PER_LAUNCH  mkrun --steps-per-launch [16]
#   ITERS, WARMUP     baseline graph replays timed / untimed [100, 10]
#   CHECK             1: first check the baseline against its CPU reference [1]
#   CHECK_LAYERS      layers of that check's model (full widths) [2]
#   COPY_MIB          copy-bandwidth buffer size in MiB [2048]
#   BIN_DIR           where mkc, mkrun and decode_baseline are [build/bin]
#   MKC, MKRUN        the tools [BIN_DIR/mkc, BIN_DIR/mkrun]
#   BASELINE          the baseline [BIN_DIR/decode_baseline; else built with nvcc
#                     into WORK_DIR]
#   PLAN_DIR          precompiled plans, <model>-<target>.mkp or <model>.mkp; without
#                     it mkc compiles them (mkc needs LLVM/MLIR)
#   MODEL_ROOT        existing model dirs <MODEL_ROOT>/<model> (config.json +
#                     *.safetensors); without it random ones are written to WORK_DIR
#                     (16 GB for qwen3-8b) and reused by later runs
#   WORK_DIR          scratch [${TMPDIR:-/tmp}/mk-gpu-decode]
#   TARGET            mkc target [from the GPU's name: h100, h200, a100]
#   BACKEND           mkrun --backend [cuda] (host: try the script without a GPU)
#   MKRUN_ARGS        more mkrun flags, e.g. --no-lookahead (an A/B of the CUDA
#                     worker's look-ahead claim) []
#   MAX_SEQ_LEN       mkc --max-seq-len [0 = mkc's default, min(4096, model max)]
#   OUT_FILE          report [bench/results/gpu-decode-<gpu>-<date>.txt]
#   MAX_MK_RATIO      budget: exit 1 when mk/floor exceeds it [unset: none]
#   PYTHON            a python3 with numpy [python3, else /usr/bin/python3]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
read -r -a models <<<"${MODELS:-llama-3.2-1b qwen3-8b}"
context=${CONTEXT:-512}
tokens=${TOKENS:-128}
mk_runs=${MK_RUNS:-3}
spl=${STEPS_PER_LAUNCH:-16}
iters=${ITERS:-100}
warmup=${WARMUP:-10}
check=${CHECK:-1}
check_layers=${CHECK_LAYERS:-2}
copy_mib=${COPY_MIB:-2048}
backend=${BACKEND:-cuda}
read -r -a mkrun_args <<<"${MKRUN_ARGS:-}"
max_seq_len=${MAX_SEQ_LEN:-0}
bin=${BIN_DIR:-$repo/build/bin}
mkc=${MKC:-$bin/mkc}
mkrun=${MKRUN:-$bin/mkrun}
work=${WORK_DIR:-${TMPDIR:-/tmp}/mk-gpu-decode}
presets=$repo/models/presets
helper=$repo/bench/gpu_decode_model.py

die() {
  echo "gpu_decode: $*" >&2
  exit 2
}
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

for v in context tokens mk_runs spl iters warmup check_layers copy_mib max_seq_len; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v: '${!v}' is not a number"
done
((${#models[@]})) || die "MODELS is empty"
for m in "${models[@]}"; do
  [[ -f $presets/$m/config.json ]] || die "$m: no $presets/$m/config.json (see mkc presets)"
done

if [[ -n ${PYTHON:-} ]]; then
  py=$PYTHON
else
  py=""
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import numpy' 2>/dev/null; then
      py=$p
      break
    fi
  done
  [[ -n $py ]] || die "no python3 with numpy (set PYTHON)"
fi

# --plans-only DIR: plans for every model x target, for a machine without mkc.
if [[ ${1:-} == --plans-only ]]; then
  [[ -n ${2:-} ]] || die "--plans-only needs a directory"
  [[ -x $mkc ]] || die "$mkc: not an executable (build mkc first)"
  mkdir -p "$2"
  read -r -a targets <<<"${TARGETS:-h100 h200}"
  for m in "${models[@]}"; do
    for t in "${targets[@]}"; do
      "$mkc" compile -m "$presets/$m" -t "$t" -b 1 --max-seq-len "$max_seq_len" \
        -o "$2/$m-$t.mkp"
    done
  done
  exit 0
fi
(($# == 0)) || die "unexpected argument '$1' (see the comment at the top of $0)"

mkdir -p "$work"
logs=$work/logs
mkdir -p "$logs"

# The machine.
gpu_name=unknown gpu_mem="" driver="" cc=""
if command -v nvidia-smi >/dev/null &&
  q=$(nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap \
    --format=csv,noheader 2>/dev/null | head -n1) && [[ -n $q ]]; then
  IFS=, read -r gpu_name gpu_mem driver cc <<<"$q"
  gpu_mem=${gpu_mem# } driver=${driver# } cc=${cc# }
  clocks=$(nvidia-smi --query-gpu=clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw,power.limit \
    --format=csv,noheader 2>/dev/null | head -n1 || true)
fi
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1)
slug=$(tr '[:upper:]' '[:lower:]' <<<"$gpu_name" | sed -e 's/nvidia//g' -e 's/[^a-z0-9]\+/-/g' -e 's/^-//' -e 's/-$//')
date_iso=$(date -u +%Y-%m-%dT%H:%MZ)
out_file=${OUT_FILE:-$repo/bench/results/gpu-decode-${slug:-unknown}-$(date -u +%F).txt}
if [[ -n ${TARGET:-} ]]; then
  target=$TARGET
elif [[ $backend == host ]]; then
  target=host
else
  case $gpu_name in
  *H200*) target=h200 ;;
  *H100* | *H800*) target=h100 ;;
  *A100* | *A800*) target=a100 ;;
  *) target="" ;;
  esac
fi
rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ $rev != unknown ]] && [[ -n $(git -C "$repo" status --porcelain 2>/dev/null) ]]; then
  rev="$rev + uncommitted changes"
fi
log "GPU: $gpu_name ($gpu_mem, driver $driver, cc $cc); mk target ${target:-?}; work $work"

failed=0
details=()
note() { details+=("$*"); }

# The baseline binary: given, built with the project, or built here.
baseline=${BASELINE:-}
baseline_err=""
if [[ -z $baseline && -x $bin/decode_baseline ]]; then
  baseline=$bin/decode_baseline
fi
if [[ -z $baseline ]]; then
  nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
  baseline=$work/decode_baseline
  log "building $baseline with $nvcc"
  if ! "$nvcc" -O3 -std=c++17 -arch=native "$repo/bench/baseline/decode_baseline.cu" \
    -o "$baseline" -lcublas >"$logs/nvcc.log" 2>&1; then
    baseline_err="nvcc failed: $(grep -m1 -i error "$logs/nvcc.log" || tail -n1 "$logs/nvcc.log")"
  fi
fi

# key=value from a line of decode_baseline's output.
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2" | head -n1; }
# The first error line of a log, else its last line.
err_line() { grep -m1 -i 'error' "$1" || tail -n1 "$1"; }

# (a) copy bandwidth.
copy_gbps=""
if [[ -z $baseline_err ]]; then
  log "copy bandwidth ($copy_mib MiB, cudaMemcpy device to device)"
  if "$baseline" --copy-bandwidth --copy-mib "$copy_mib" >"$logs/copy.log" 2>&1; then
    line=$(grep '^copy ' "$logs/copy.log" || true)
    copy_gbps=$(kv copy_gbps "$line")
    note "$(grep '^device ' "$logs/copy.log" || true)"
    note "$line"
  else
    note "copy: FAILED: $(err_line "$logs/copy.log")"
    failed=1
  fi
else
  note "baseline: FAILED: $baseline_err"
  failed=1
fi

declare -A floor_b base_ms mk_ms
for m in "${models[@]}"; do
  cfg=$presets/$m/config.json
  floor_line=$("$py" "$helper" bytes "$cfg" "$context" 1)
  floor_b[$m]=$(kv floor_bytes " $floor_line")
  note "$m: $floor_line (context $context, batch 1)"

  # (b) the model directory.
  if [[ -n ${MODEL_ROOT:-} ]]; then
    mdir=$MODEL_ROOT/$m
  else
    mdir=$work/models/$m
    log "$m: random weights in $mdir"
    "$py" "$helper" write "$cfg" "$mdir" || die "$m: could not write $mdir"
  fi

  # (c) the baseline.
  if [[ -z $baseline_err ]]; then
    if ! flags=$("$py" "$helper" flags "$cfg" 2>"$logs/$m-flags.log"); then
      note "$m baseline: FAILED: $(tail -n1 "$logs/$m-flags.log")"
      failed=1
    else
      read -r -a flag_arr <<<"$flags"
      ok=1
      if [[ $check == 1 ]]; then
        log "$m: baseline check ($check_layers layers) against the CPU reference"
        if "$baseline" --name="$m" "${flag_arr[@]}" --context="$context" \
          --layers="$check_layers" --iters=3 --warmup=1 --check >"$logs/$m-check.log" 2>&1; then
          note "$(grep '^check ' "$logs/$m-check.log" || true)"
        else
          note "$m baseline check: FAILED: $(grep '^check ' "$logs/$m-check.log" || err_line "$logs/$m-check.log")"
          failed=1 ok=0
        fi
      fi
      if ((ok)); then
        log "$m: baseline, $iters replays"
        if "$baseline" --name="$m" "${flag_arr[@]}" --context="$context" --iters="$iters" \
          --warmup="$warmup" >"$logs/$m-baseline.log" 2>&1; then
          line=$(grep '^baseline ' "$logs/$m-baseline.log" || true)
          base_ms[$m]=$(kv ms_per_token "$line")
          note "$line"
          [[ $(kv floor_bytes "$line") == "${floor_b[$m]}" ]] ||
            note "$m: WARNING: the baseline counts floor_bytes=$(kv floor_bytes "$line")"
        else
          note "$m baseline: FAILED: $(err_line "$logs/$m-baseline.log")"
          failed=1
        fi
      fi
    fi
  fi

  # (d) mk.
  mk_err=""
  plan=""
  if [[ -z $target ]]; then
    mk_err="no mkc target for GPU '$gpu_name' (set TARGET)"
  elif [[ -n ${PLAN_DIR:-} ]]; then
    for p in "$PLAN_DIR/$m-$target.mkp" "$PLAN_DIR/$m.mkp"; do
      if [[ -f $p ]]; then
        plan=$p
        break
      fi
    done
    [[ -n $plan ]] || mk_err="no $PLAN_DIR/$m-$target.mkp"
  elif [[ -x $mkc ]]; then
    plan=$work/plans/$m-$target.mkp
    mkdir -p "$work/plans"
    log "$m: mkc compile -t $target"
    if ! "$mkc" compile -m "$mdir" -t "$target" -b 1 --max-seq-len "$max_seq_len" \
      -o "$plan" >"$logs/$m-mkc.log" 2>&1; then
      mk_err="mkc compile: $(err_line "$logs/$m-mkc.log")"
    fi
  else
    mk_err="no $mkc and no PLAN_DIR: compile plans elsewhere with --plans-only"
  fi
  plen=$((context - tokens / 2))
  if [[ -z $mk_err && ! -x $mkrun ]]; then
    mk_err="$mkrun: not an executable"
  elif [[ -z $mk_err ]] && ((plen < 1)); then
    mk_err="CONTEXT $context is too short for TOKENS $tokens"
  fi
  if [[ -z $mk_err ]]; then
    ids=$("$py" "$helper" prompt "$cfg" "$plen")
    runs=()
    for ((r = 1; r <= mk_runs; ++r)); do
      json=$logs/$m-mk-$r.json
      log "$m: mkrun --backend $backend, prompt $plen + $tokens tokens (run $r of $mk_runs)"
      rm -f "$json"
      if ! "$mkrun" "$plan" -w "$mdir" --backend "$backend" --prompt-ids "$ids" \
        -n "$tokens" --ignore-eos --greedy --steps-per-launch "$spl" \
        --stats-json "$json" "${mkrun_args[@]}" >"$logs/$m-mk-$r.log" 2>&1; then
        mk_err="mkrun: $(err_line "$logs/$m-mk-$r.log")"
        break
      fi
      runs+=("$("$py" "$helper" json "$json" decode_ms_per_token)")
      note "$m mk run $r: $(grep -m1 '^mkrun: ' "$logs/$m-mk-$r.log" || true)"
    done
    if [[ -z $mk_err ]]; then
      mk_ms[$m]=$(printf '%s\n' "${runs[@]}" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
      wb=$("$py" "$helper" json "$json" weights_bytes 2>/dev/null || echo ?)
      note "mk model=$m target=$target backend=$backend mkrun_args='${MKRUN_ARGS:-}' plan=$plan prompt=$plen tokens=$tokens steps_per_launch=$spl ms_per_token=${mk_ms[$m]} runs=$(
        IFS=,
        echo "${runs[*]}"
      ) weights_bytes=$wb"
    fi
  fi
  if [[ -n $mk_err ]]; then
    note "$m mk: FAILED: $mk_err"
    failed=1
  fi
done

# The report: header, details, then the table.
table=$(
  printf '%-14s %8s %9s %8s %9s %8s %9s %9s %8s\n' model context floor_GB floor_ms \
    mk_ms mk/floor base_ms base/floor mk/base
  for m in "${models[@]}"; do
    awk -v m="$m" -v c="$context" -v fb="${floor_b[$m]}" -v bw="$copy_gbps" \
      -v mk="${mk_ms[$m]:-}" -v base="${base_ms[$m]:-}" '
      function r(a, b) { return (a != "" && b != "" && b > 0) ? sprintf("%.2f", a / b) : "-" }
      function f(x) { return x != "" ? sprintf("%.3f", x) : "-" }
      BEGIN {
        fl = bw != "" ? fb / (bw * 1e9) * 1e3 : ""
        printf "%-14s %8d %9.3f %8s %9s %8s %9s %9s %8s\n", m, c, fb / 1e9, f(fl),
          f(mk), r(mk, fl), f(base), r(base, fl), r(mk, base)
      }'
  done
)
budget_fail=0
if [[ -n ${MAX_MK_RATIO:-} ]]; then
  for m in "${models[@]}"; do
    if [[ -z ${mk_ms[$m]:-} || -z $copy_gbps ]] || awk -v mk="${mk_ms[$m]}" \
      -v fb="${floor_b[$m]}" -v bw="$copy_gbps" -v lim="$MAX_MK_RATIO" \
      'BEGIN { exit !(mk / (fb / (bw * 1e9) * 1e3) > lim) }'; then
      budget_fail=1
    fi
  done
fi

mkdir -p "$(dirname "$out_file")"
{
  echo "# gpu_decode.sh on $gpu_name ($gpu_mem, driver $driver, compute capability $cc); CPU: ${cpu:-?} x $(nproc); $date_iso"
  echo "# command: MODELS='${models[*]}' CONTEXT=$context TOKENS=$tokens MK_RUNS=$mk_runs STEPS_PER_LAUNCH=$spl ITERS=$iters WARMUP=$warmup BACKEND=$backend TARGET=${target:-?} bench/gpu_decode.sh"
  echo "# mk at $rev; mkrun: $mkrun; baseline: $baseline"
  [[ -z ${clocks:-} ]] || echo "# GPU at start (sm MHz, max sm MHz, mem MHz, temp C, power W, limit W): $clocks"
  echo "# floor_ms = bytes one decode step must read (all weights once, an untied input embedding"
  echo "#   excepted; K and V of every layer at the context) / copy bandwidth (cudaMemcpy D2D,"
  echo "#   bytes read + written). mk: median of MK_RUNS runs of mean decode ms/token; its"
  echo "#   steps attend CONTEXT keys on average. base: kernel-per-op cuBLAS + CUDA graph, median"
  echo "#   graph replay at CONTEXT keys, fixed position."
  printf '%s\n' "${details[@]}"
  echo "copy_gbps=${copy_gbps:-FAILED}"
  echo "$table"
} >"$out_file"
cat "$out_file"
log "wrote $out_file"
if ((budget_fail)); then
  echo "gpu_decode: FAIL: mk/floor above MAX_MK_RATIO=$MAX_MK_RATIO" >&2
  exit 1
fi
if ((failed)); then
  echo "gpu_decode: FAIL: some measurements failed (see above)" >&2
  exit 1
fi
