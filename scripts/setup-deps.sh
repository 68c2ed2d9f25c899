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
  python3-torch python3-torchvision
  gcc-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm
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

if [[ ${#missing[@]} -gt 0 ]]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The tern Python module is built for Debian's python3 (3.11), which has NumPy from the
# packages above; the repository's .python-version points pyenv's `python3` at it. Outside
# the repository a machine's `python3` may be another 3.11 (pyenv's, say) without NumPy:
# give it what `import tern` and the seed's notebook need, from PyPI (NumPy 1.x, the ABI
# of Debian's pybind11 2.10). Nothing happens when it already has them or is Debian's.
other_python=$(cd / && command -v python3 || true)
if [[ -n $other_python ]] && (cd / && python3 -c 'import sys; sys.exit(sys.executable == "/usr/bin/python3" or sys.version_info[:2] != (3, 11))'); then
  if ! (cd / && python3 -c 'import numpy, matplotlib' 2>/dev/null); then
    echo "setup: installing numpy<2 and matplotlib for $(cd / && python3 -c 'import sys; print(sys.executable)')" >&2
    (cd / && python3 -m pip install -q --root-user-action=ignore "numpy<2" matplotlib) ||
      echo "setup: could not install them; run the Python examples with /usr/bin/python3" >&2
  fi
fi
