#!/bin/sh
# Screenshots of the main window for the AppStream metadata and the docs, made offscreen with
# demonstration chats (tests/tools/make_screenshots.cpp): light and dark at 100% and at 200%
# (QT_SCALE_FACTOR=2). Usage: installer/make-screenshots.sh [BUILD_DIR] [OUT_DIR]
set -eu
build=${1:-build/ci}
out=${2:-docs/screenshots}
mkdir -p "$out"
cmake --build "$build" --target make_screenshots
QT_QPA_PLATFORM=offscreen "$build/tests/tools/make_screenshots" "$out"
QT_QPA_PLATFORM=offscreen QT_SCALE_FACTOR=2 "$build/tests/tools/make_screenshots" "$out" -200-percent
