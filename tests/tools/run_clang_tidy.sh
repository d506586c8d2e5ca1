#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy's checks) over the engine and kernel sources, or the files given.
# Usage: tests/tools/run_clang_tidy.sh BUILD_DIR [FILE...]   (BUILD_DIR has compile_commands.json)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: run_clang_tidy.sh BUILD_DIR [FILE...]}
shift || true
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(git ls-files 'inference/*.cpp' 'kernels/cpu/*.cpp'); fi
status=0
for f in "${files[@]}"; do
  clang-tidy --quiet -p "$build" "$f" 2>/dev/null | grep -E "(warning|error):" && status=1 || true
done
exit $status
