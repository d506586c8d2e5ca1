#!/usr/bin/env bash
# Interoperability with the official client: `falcon-mamba-cli download` and @huggingface/hub
# (npm) fetch tests/data/tiny-chat from the same mock Hub (tests/tools/mock_hub_server) into two
# caches, which must be identical in layout and bytes; the package's scanCacheDir must list ours.
# The package is installed with npm into a scratch folder. Exit 77 (skipped) with the reason
# when node, npm or the package is not available.
# usage: hf_hub_js.sh BUILD_DIR [SCRATCH_DIR]
set -euo pipefail
build=$(cd "$1" && pwd)
scratch=${2:-$build/interop/hf-hub-js}
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "SKIPPED: $*"; exit 77; }

command -v node >/dev/null || skip "node is not installed (Debian: apt install nodejs npm)"
if [ ! -f "$scratch/node_modules/@huggingface/hub/dist/index.mjs" ]; then
  command -v npm >/dev/null || skip "npm is not installed (Debian: apt install npm)"
  mkdir -p "$scratch"
  echo "installing @huggingface/hub@2 into $scratch"
  (cd "$scratch" && timeout 300 npm install --no-audit --no-fund --no-save --silent @huggingface/hub@2) ||
    skip "npm could not install @huggingface/hub into $scratch (offline?)"
fi
echo "@huggingface/hub $(node -p "require('$scratch/node_modules/@huggingface/hub/package.json').version")"

work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$build/tests/tools/mock_hub_server" "$here/../data/tiny-chat" >"$work/server.txt" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/server.txt" ] && break; sleep 0.1; done
read -r endpoint commit <"$work/server.txt"
echo "mock Hub at $endpoint, commit $commit"

HF_ENDPOINT=$endpoint HF_TOKEN= HF_HUB_OFFLINE= \
  "$build/app/cli/falcon-mamba-cli" download tiiuae/tiny-chat --cache-dir "$work/ours" >/dev/null
node "$here/hf_hub_js.mjs" "$scratch" "$endpoint" "$commit" "$work/theirs" "$work/ours"
