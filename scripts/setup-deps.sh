#!/usr/bin/env bash
# Installs the Debian 12 packages Tern needs to build and test. Idempotent, quiet and
# non-interactive: it does nothing when everything is already installed.
#   scripts/setup-deps.sh          what make build / make test need
#   scripts/setup-deps.sh --fuzz   also clang and its runtime libraries (libFuzzer and the
#                                  sanitizers) for make fuzz; the ordinary build never needs them
set -euo pipefail

packages=(
  cmake g++ ninja-build ccache make clang-format
  libboost-dev libboost-program-options-dev
  libgtest-dev libgmock-dev googletest
  nlohmann-json3-dev zlib1g-dev
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers
  libonnx-dev libprotobuf-dev protobuf-compiler
  libonnx-testdata dataset-fashion-mnist
  graphviz chromium
  python3-dev python3-venv pybind11-dev python3-numpy python3-pytest python3-matplotlib
)
if [[ ${1:-} == --fuzz ]]; then
  # clang 16 (Debian 12's newest; clang 14 lacks C++20 captures of structured bindings),
  # its compiler-rt (libFuzzer, the sanitizer runtimes) and OpenMP (the cpu backend's
  # CMake asks for it even when only the fuzz targets are built).
  packages+=(clang-16 libclang-rt-16-dev libomp-16-dev)
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
