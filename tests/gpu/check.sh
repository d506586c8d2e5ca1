#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU: build (release, this GPU's architecture), run the
# GPU correctness checks, then benchmark the CUDA backend on a random checkpoint with the
# Falcon Mamba 7B shapes (bf16, then 4-bit quantized on load). Meant to finish within 8 minutes
# on an H200. Results go to $OUT (or build-gpu-check/out): check.log (what ran), steps.log (every
# step's output), summary.json, bench_bf16.json, bench_q4.json.
#
#   bash tests/gpu/check.sh
#
# Environment:
#   OUT                   where logs and JSON go
#   FM_CHECK_BUDGET_S     total time budget in seconds (default 470); later steps are skipped
#                         when it runs short
#   FM_GPU_PREBUILT       folder with prebuilt gpu_selfcheck, bench_cuda, make_checkpoint (made
#                         by tests/gpu/build_prebuilt.sh), used when this machine cannot
#                         configure the project (no nlohmann_json / sentencepiece / pkg-config);
#                         default .devcarry/gpu-tools
#   FM_GPU_USE_PREBUILT   1: skip the build and use FM_GPU_PREBUILT straight away
#   FM_BENCH_FAR_MODE     prefill (default) or decode: how bench_cuda reaches position 100,000
#   FM_CHECKPOINT_DIR     where the random 7B checkpoint is written (default /tmp/fm-7b-random)
#   FM_CUDA_ARCH          CUDA architectures to build for (default native)
#
# Correctness: with Qt 6 Test available, ctest -L gpu (test_cuda_kernels, test_cuda_backend);
# without Qt, the same checks through the Qt-free gpu_selfcheck.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT_DIR=${OUT:-$ROOT/build-gpu-check/out}
BUDGET=${FM_CHECK_BUDGET_S:-470}
PREBUILT=${FM_GPU_PREBUILT:-$ROOT/.devcarry/gpu-tools}
FAR_MODE=${FM_BENCH_FAR_MODE:-prefill}
CKPT=${FM_CHECKPOINT_DIR:-/tmp/fm-7b-random}
BUILD=$ROOT/build-gpu-check/build
LOGS=$ROOT/build-gpu-check/logs  # one log per step; gathered into $OUT_DIR/steps.log at the end
rm -rf "$LOGS"
mkdir -p "$OUT_DIR" "$BUILD" "$LOGS"
LOG=$OUT_DIR/check.log
: >"$LOG"
START=$SECONDS
FAILED=0
declare -A RESULT

gather_logs() { for f in "$LOGS"/*.log; do echo "===== $(basename "$f")"; cat "$f"; done >"$OUT_DIR/steps.log" 2>/dev/null; }
say() { echo "[check.sh $((SECONDS - START))s] $*" | tee -a "$LOG"; }
left() { echo $((BUDGET - (SECONDS - START))); }
# run_step NAME SECONDS CMD...: runs CMD with a timeout, output to $LOGS/NAME.log
run_step() {
    local name=$1 limit=$2
    shift 2
    if ((limit < 5)); then
        say "$name: skipped (time budget spent)"
        RESULT[$name]=skipped
        return 124
    fi
    say "$name: $* (limit ${limit}s)"
    timeout --kill-after=10 "$limit" "$@" >"$LOGS/$name.log" 2>&1
    local rc=$?
    RESULT[$name]=$rc
    say "$name: exit $rc"
    tail -n 5 "$LOGS/$name.log" | sed 's/^/    /' | tee -a "$LOG"
    return $rc
}

say "repo $ROOT, output $OUT_DIR, budget ${BUDGET}s"
nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.max.sm --format=csv 2>&1 | tee -a "$LOG"
nvcc --version 2>&1 | tail -n 1 | tee -a "$LOG"

# ---- 1. build ----------------------------------------------------------------------------------
GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
CONFIG=(-DCMAKE_BUILD_TYPE=Release -DFM_CUDA_ARCHITECTURES="${FM_CUDA_ARCH:-native}" -DFM_BUILD_APP=OFF -DFM_BUILD_GPU_TOOLS=ON
        -DCMAKE_CUDA_COMPILER="$NVCC")
HAVE_QT=0
CONFIGURED=0
if [[ ${FM_GPU_USE_PREBUILT:-0} == 1 ]]; then
    say "FM_GPU_USE_PREBUILT=1: not building"
elif cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" "${CONFIG[@]}" -DFM_BUILD_TESTS=ON >"$LOGS/configure.log" 2>&1; then
    HAVE_QT=1
    CONFIGURED=1
else
    say "configure with Qt tests failed (no Qt 6 Test here?): building the Qt-free tools only"
    rm -rf "$BUILD"
    mkdir -p "$BUILD"
    if cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" "${CONFIG[@]}" -DFM_BUILD_TESTS=OFF >"$LOGS/configure.log" 2>&1; then
        CONFIGURED=1
    else
        say "configure failed:"
        grep -iE "error|could not|not found" "$LOGS/configure.log" | head -n 8 | sed 's/^/    /' | tee -a "$LOG"
    fi
fi

SELFCHECK="" BENCH="" MAKECKPT=""
if ((CONFIGURED)); then
    TARGETS=(gpu_selfcheck bench_cuda make_checkpoint)
    ((HAVE_QT)) && TARGETS+=(test_cuda_kernels test_cuda_backend)
    if run_step build $(($(left) - 200)) cmake --build "$BUILD" --target "${TARGETS[@]}" -j "$(nproc)"; then
        SELFCHECK=$BUILD/tests/gpu/tools/gpu_selfcheck
        BENCH=$BUILD/tests/gpu/tools/bench_cuda
        MAKECKPT=$(find "$BUILD" -name make_checkpoint -type f -perm -u+x | head -n 1)
    fi
fi
if [[ -z $SELFCHECK && -x $PREBUILT/gpu_selfcheck ]]; then
    say "using the prebuilt tools in $PREBUILT"
    HAVE_QT=0
    SELFCHECK=$PREBUILT/gpu_selfcheck
    BENCH=$PREBUILT/bench_cuda
    MAKECKPT=$PREBUILT/make_checkpoint
    export LD_LIBRARY_PATH=$PREBUILT/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
fi
if [[ -z $SELFCHECK ]]; then
    say "FAIL: nothing to run (no build, no prebuilt tools in $PREBUILT)"
    echo '{"error": "build failed and no prebuilt tools"}' >"$OUT_DIR/summary.json"
    gather_logs
    exit 1
fi

# ---- 2. correctness ----------------------------------------------------------------------------
if ! "$SELFCHECK" --filter no-such-check >/dev/null 2>&1; then
    say "FAIL: no usable CUDA device here: $("$SELFCHECK" --filter no-such-check 2>&1 | head -n 1)"
    echo '{"error": "no usable CUDA device"}' >"$OUT_DIR/summary.json"
    gather_logs
    exit 1
fi
if ((HAVE_QT)); then
    pushd "$BUILD" >/dev/null
    run_step ctest_gpu $(($(left) - 200)) ctest -L gpu --output-on-failure || FAILED=1
    popd >/dev/null
else
    run_step selfcheck $(($(left) - 200)) "$SELFCHECK" --data "$ROOT/tests/data" || FAILED=1
    grep '"pass": false' "$LOGS/selfcheck.log" | head -n 20 | tee -a "$LOG"
fi

# ---- 3. random 7B checkpoint -------------------------------------------------------------------
if [[ ! -f $CKPT/config.json ]]; then
    if [[ -n $MAKECKPT && -x $MAKECKPT ]]; then
        rm -rf "$CKPT"
        run_step make_checkpoint $(($(left) - 120)) "$MAKECKPT" --out "$CKPT" --hidden 4096 --intermediate 8192 \
            --state 16 --dt-rank 256 --conv 4 --layers 64 --vocab 65024 --dtype bf16 --shards 3 --seed 7 || rm -rf "$CKPT"
    else
        say "make_checkpoint is not available: no benchmark"
    fi
fi

# ---- 4. benchmarks -----------------------------------------------------------------------------
if [[ -f $CKPT/config.json ]]; then
    run_step bench_bf16 $(($(left) - 90)) "$BENCH" --model "$CKPT" --far-mode "$FAR_MODE" \
        --out "$OUT_DIR/bench_bf16.json" || FAILED=1
    run_step bench_q4 $(($(left) - 5)) "$BENCH" --model "$CKPT" --q4 --far-mode prefill --out "$OUT_DIR/bench_q4.json"
fi

# ---- summary -----------------------------------------------------------------------------------
gather_logs
{
    echo "{"
    echo "  \"elapsed_s\": $((SECONDS - START)),"
    echo "  \"qt_tests\": $HAVE_QT,"
    steps=""
    for k in "${!RESULT[@]}"; do steps+="${steps:+, }\"$k\": \"${RESULT[$k]}\""; done
    echo "  \"step_exit_codes\": {$steps},"
    for f in bench_bf16 bench_q4; do
        [[ -s $OUT_DIR/$f.json ]] && echo "  \"$f\": $(cat "$OUT_DIR/$f.json"),"
    done
    echo "  \"failed\": $FAILED"
    echo "}"
} >"$OUT_DIR/summary.json"
cat "$OUT_DIR/summary.json"
say "done (failed=$FAILED)"
exit $FAILED
