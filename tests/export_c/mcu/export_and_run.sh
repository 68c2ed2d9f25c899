#!/usr/bin/env bash
# CTest driver of the Cortex-M tests (tests/export_c/mcu/CMakeLists.txt). Quantizes an example
# model with the tern executable (the defaults: int8 weights and activations, integer form),
# exports it as C and then either
#   export_and_run.sh TERN SOURCE_DIR MODEL WORKDIR [cortex-m4|cortex-m55]
#     runs it with run_mcu.sh on 20 Fashion-MNIST test images (outputs equal to the host's,
#     footprint JSON), or
#   export_and_run.sh --example TERN SOURCE_DIR MODEL WORKDIR
#     builds sdk/examples/mcu with it (exported as `model`) and checks that `make run` under
#     QEMU prints the same classes as `make run-host`.
# Everything it writes goes to WORKDIR. Exit status 77 (CTest's skip) when tools are missing.
set -euo pipefail

example=false
if [[ ${1:-} == --example ]]; then
  example=true
  shift
fi
if [[ $# -lt 4 || $# -gt 5 ]]; then
  echo "usage: export_and_run.sh [--example] TERN SOURCE_DIR MODEL WORKDIR [cortex-m4|cortex-m55]" >&2
  exit 2
fi
tern=$1
source_dir=$2
model=$3
workdir=$4
cpu=${5:-cortex-m4}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() {
  echo "export_and_run: FAIL: $*" >&2
  exit 1
}

# Tools first: a machine without the cross tools skips before spending time on the PTQ.
"$source_dir/sdk/mcu/run_mcu.sh" --check "$cpu" || exit $?
if $example; then
  command -v make >/dev/null || {
    echo "SKIP: make not found"
    exit 77
  }
fi
dataset=/usr/share/datasets/fashion-mnist
[[ -f $dataset/t10k-images-idx3-ubyte.gz ]] || {
  echo "SKIP: $dataset is missing (package dataset-fashion-mnist)"
  exit 77
}

python=python3 # run_mcu.sh --check made sure that one of the two has NumPy
python3 -c 'import numpy' 2>/dev/null || python=/usr/bin/python3

rm -rf "$workdir"
mkdir -p "$workdir"
name=$model
$example && name=model

# The images: Fashion-MNIST's first 20 test images as float32 pixel / 255 in [0, 1] (the
# models' input; the same numbers as tern eval's loader), from Debian's IDX files.
"$python" "$source_dir/scripts/make_seed_data.py" --count 20 --out "$workdir/seed" >/dev/null ||
  fail "scripts/make_seed_data.py could not read $dataset"
samples=$workdir/seed/fashion_mnist_samples.npy.gz

"$tern" quantize "$source_dir/sdk/examples/models/$model.onnx" -o "$workdir/q.onnx" >"$workdir/quantize.log" 2>&1 ||
  fail "tern quantize $model failed: $(tail -n 1 "$workdir/quantize.log")"
"$tern" export "$workdir/q.onnx" --target c -o "$workdir/c" --name "$name" >"$workdir/export.log" 2>&1 ||
  fail "tern export $model failed: $(tail -n 1 "$workdir/export.log")"

if ! $example; then
  exec "$source_dir/sdk/mcu/run_mcu.sh" "$workdir/c" "$name" "$samples" "$workdir/mcu" "$cpu"
fi

# The worked example, built as its README says but with the export and the build folder
# here; QEMU gets a time limit the Makefile leaves out.
make_example=(make --no-print-directory -C "$source_dir/sdk/examples/mcu" "MODEL_DIR=$workdir/c"
  "BUILD_DIR=$workdir/example")
"${make_example[@]}" run-host >"$workdir/host.txt" 2>"$workdir/host.err" ||
  fail "make run-host failed: $(tail -n 1 "$workdir/host.err")"
"${make_example[@]}" all >"$workdir/build.log" 2>&1 || fail "make failed: $(tail -n 1 "$workdir/build.log")"
status=0
# `make run` prints through semihosting on QEMU's stderr; the lines are the program's alone.
timeout --kill-after=10 240 "${make_example[@]}" -s run >"$workdir/qemu.out" 2>"$workdir/target.txt" || status=$?
[[ $status -eq 0 ]] || fail "make run exited with status $status: $(tail -n 1 "$workdir/target.txt")"
grep -E '^(image|[0-9]+ of)' "$workdir/host.txt" >"$workdir/host_classes.txt" || true
grep -E '^(image|[0-9]+ of)' "$workdir/target.txt" >"$workdir/target_classes.txt" || true
[[ $(grep -c '^image' "$workdir/host_classes.txt") -eq 4 ]] || fail "make run-host printed no 4 classes"
diff "$workdir/host_classes.txt" "$workdir/target_classes.txt" >&2 ||
  fail "the example's classes on $cpu differ from the host's"
cat "$workdir/target_classes.txt"
