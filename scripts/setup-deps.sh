#!/usr/bin/env bash
# Installs the Debian 12 packages Tern needs to build and test. Idempotent, quiet and
# non-interactive: it does nothing when everything is already installed.
set -euo pipefail

packages=(
  cmake g++ ninja-build ccache make clang-format
  libboost-dev libboost-program-options-dev
  libgtest-dev libgmock-dev googletest
  nlohmann-json3-dev zlib1g-dev
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers
  libonnx-dev libprotobuf-dev protobuf-compiler
  libonnx-testdata dataset-fashion-mnist
)

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
