#!/bin/sh
# Screenshots of the main window for the AppStream metadata and the release notes, made
# offscreen by the UI tests: light and dark (test_ui), 200% (test_ui_scale), a Markdown-heavy
# chat (test_ui_stress). Usage: installer/make-screenshots.sh [BUILD_DIR] [OUT_DIR]
set -eu
build=${1:-build/ci}
out=${2:-screenshots}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cmake --build "$build" --target test_ui test_ui_scale test_ui_stress
for test in test_ui test_ui_scale test_ui_stress; do
    FM_SCREENSHOT_DIR="$out" QT_QPA_PLATFORM=offscreen "$build/tests/$test" >/dev/null
done
ls "$out"/*.png
