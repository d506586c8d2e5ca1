#!/usr/bin/env bash
# Installs, with apt, the Debian 12 packages Falcon Mamba Chat needs to build, run and test,
# and only those that are missing. The CUDA toolkit is optional and never installed here:
# when /usr/local/cuda/bin/nvcc exists the CUDA backend is built too.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  qt6-base-dev qt6-base-dev-tools qt6-declarative-dev qt6-declarative-dev-tools
  libqt6sql6-sqlite libqt6opengl6-dev
  qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-layouts
  qml6-module-qtquick-window qml6-module-qtquick-templates qml6-module-qtquick-dialogs
  qml6-module-qtqml-workerscript qml6-module-qtqml-models qml6-module-qtcore qml6-module-qttest
  qml6-module-qtquick-shapes qml6-module-qt-labs-platform qml6-module-qt-labs-folderlistmodel
  libsentencepiece-dev nlohmann-json3-dev libsqlite3-dev libcpp-httplib-dev
  xvfb xauth python3-jinja2 poppler-utils
  desktop-file-utils appstream dpkg-dev file
  clang-format clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: every package is already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
