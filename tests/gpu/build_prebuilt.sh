#!/usr/bin/env bash
# Builds the Qt-free GPU tools (gpu_selfcheck, bench_cuda, make_checkpoint) here, for a GPU
# machine that cannot configure the project itself (no nlohmann_json, sentencepiece or
# pkg-config there). The stripped binaries go to .devcarry/gpu-tools (ignored by git), which
# tests/gpu/check.sh uses when its own build fails; carry that folder to the GPU machine.
# They need only the CUDA runtime and cuBLAS of the same major version (13) there.
#
#   bash tests/gpu/build_prebuilt.sh [ARCHITECTURES]     (default 90: H100/H200)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ARCHS=${1:-90}
BUILD=$ROOT/build-gpu-prebuilt
DEST=$ROOT/.devcarry/gpu-tools
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DFM_CUDA_ARCHITECTURES="$ARCHS" -DFM_BUILD_APP=OFF \
    -DFM_BUILD_TESTS=OFF -DFM_BUILD_GPU_TOOLS=ON >/dev/null
cmake --build "$BUILD" --target gpu_selfcheck bench_cuda make_checkpoint -j "${JOBS:-2}"
mkdir -p "$DEST"
for t in gpu_selfcheck bench_cuda make_checkpoint; do
    f=$(find "$BUILD" -name "$t" -type f -perm -u+x | head -n 1)
    cp "$f" "$DEST/$t"
    strip "$DEST/$t"
done
ls -la "$DEST"
