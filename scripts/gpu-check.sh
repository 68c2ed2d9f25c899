#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (architecture 90, H100/H200, is the default; set
# CUDA_ARCHITECTURES otherwise): builds Tern with the CUDA plugin, runs the CUDA suite
# (where a device exists none of its GPU tests may skip) and the benchmark of the range,
# histogram and fake-quantization kernels. About 5 minutes on 16 cores from a clean tree.
# BUILD=<folder> picks the build folder (default build-gpu).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build-gpu}
start=$SECONDS

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
scripts/setup-deps.sh
cmake -S . -B "$build" -G Ninja -DTERN_WERROR=ON -DTERN_WITH_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHITECTURES:-90}" >/dev/null
cmake --build "$build" -j "$(nproc)" --target tern tern-cpu tern-ptq tern-cuda tern_cuda_tests tern_cuda_bench
echo "== built in $((SECONDS - start)) s"

# The plugin must be listed as usable here.
plugins=$("$build"/bin/tern plugins)
echo "$plugins"
grep -Eq '^  cuda +backend +[^ ]+ +usable' <<<"$plugins" || { echo "gpu-check: cuda is not usable" >&2; exit 1; }

# The tests of an unusable plugin skip by design on a GPU machine; every other skip is a failure.
log=$(mktemp)
"$build"/bin/tern_cuda_tests --gtest_filter='-CudaPlugin.AnUnusableBackendFailsByNameWithTheReason:CudaPlugin.UseCudaWithoutADeviceSaysWhy' \
  2>&1 | tee "$log"
if grep -q '^\[  SKIPPED \]' "$log"; then
  echo "gpu-check: CUDA tests were skipped on a machine with a GPU" >&2
  exit 1
fi
echo "== tests done at $((SECONDS - start)) s"

"$build"/bin/tern_cuda_bench
echo "== gpu-check passed in $((SECONDS - start)) s"
