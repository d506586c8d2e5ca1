#!/usr/bin/env bash
# End-to-end check with the official OpenAI client library (npm `openai`): installs it into a
# scratch folder under the build tree, serves the tiny chat checkpoint with falcon-mamba-cli and
# runs openai_e2e.cjs against it. Exits 77 (CTest: skipped) when node or the package is missing.
#
#   run_openai_e2e.sh CLI MODEL_DIR SCRATCH_DIR
set -u
cli=$1 model=$2 scratch=$3
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIP: node and npm are needed for the OpenAI client test (apt-get install nodejs npm)"
  exit 77
fi
mkdir -p "$scratch"
if [ ! -f "$scratch/node_modules/openai/package.json" ]; then
  if ! (cd "$scratch" && timeout 300 npm install --no-audit --no-fund --no-save --fetch-timeout=30000 --fetch-retries=1 openai@4 >npm.log 2>&1); then
    echo "SKIP: could not install the npm package 'openai' into $scratch (offline?); see $scratch/npm.log"
    exit 77
  fi
fi

"$cli" serve --model "$model" --backend cpu --port 0 --api-key sk-e2e-test >"$scratch/server.out" 2>"$scratch/server.log" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null' EXIT
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$scratch/server.out")
  [ -n "$port" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "FAIL: the server did not start:"; cat "$scratch/server.log"; exit 1
  fi
  sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: the server never said where it listens"; exit 1; }

node "$here/openai_e2e.cjs" "$scratch" "http://127.0.0.1:$port/v1" sk-e2e-test "$cli" "$model"
status=$?
[ $status -ne 0 ] && { echo "--- server log ---"; tail -n 40 "$scratch/server.log"; }
exit $status
