#!/usr/bin/env bash
# The hostile_input.asan test: the suites that read untrusted input (the ONNX importer, the
# dataset and NPY readers, the CLI) and the fuzz replays of every seed and past crash
# reproducer, built with AddressSanitizer + UBSan in a second tree (<build>/asan) and run
# there; it fails on any failing test or sanitizer report (docs/SECURITY.md).
#   asan_check.sh SOURCE_DIR ASAN_BUILD_DIR CMAKE C_COMPILER CXX_COMPILER [LAUNCHER]
set -euo pipefail

name=hostile_input.asan source_dir=$1 build_dir=$2 cmake=$3 cc=$4 cxx=$5 launcher=${6:-}
source "$(dirname "$0")/sanitized_tree.sh"
fuzz_targets=(npy idx onnx shape_infer)
sanitized_build TERN_WITH_SANITIZERS tern_onnx_tests tern_sdk_tests tern_cli_tests "${fuzz_targets[@]/#/tern_fuzz_replay_}"

# halt_on_error: the first report ends the process, so a finding fails its suite.
# detect_leaks=0: protobuf's and libonnx's schema registries live until exit by design.
# The plugins come from the sanitized tree (next to its bin/), never from TERN_PLUGIN_PATH.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=0:abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
run() {
  echo "== run $*" >>"$log"
  env -u TERN_PLUGIN_PATH "$@" >>"$log" 2>&1 || status=$?
}
status=0
run "$build_dir/bin/tern_onnx_tests"
run "$build_dir/bin/tern_sdk_tests"
run "$build_dir/bin/tern_cli_tests"
fuzz=$source_dir/tests/fuzz
for target in "${fuzz_targets[@]}"; do
  run "$build_dir/bin/tern_fuzz_replay_$target" --timeout 120 "$fuzz/corpus/$target" "$fuzz/regressions/$target"
done
run bash "$fuzz/cli_one_line.sh" "$build_dir/bin/tern" "$fuzz/regressions" "$fuzz/corpus/onnx/conv_relu.onnx"
sanitized_verdict "$status" "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer"
