#!/usr/bin/env bash
# The threading.tsan test (see CMakeLists.txt here): configures a ThreadSanitizer build tree
# beside the main one, builds only what the threading suite needs, runs the suite there and
# fails on any report.
#   tsan_check.sh SOURCE_DIR TSAN_BUILD_DIR CMAKE C_COMPILER CXX_COMPILER [LAUNCHER]
# The main build's compilers and C++ compiler launcher (ccache; empty for none) are reused.
set -euo pipefail

source_dir=$1 build_dir=$2 cmake=$3 cc=$4 cxx=$5 launcher=${6:-}
start=$SECONDS
mkdir -p "$build_dir"
log=$build_dir/tsan_check.log
: >"$log"

fail() {
  echo "threading.tsan: FAIL ($1) after $((SECONDS - start)) s; log: $log" >&2
  exit 1
}

# TERN_WERROR as CI builds; no CUDA (nvcc and TSan flags do not mix, and the suite is cpu).
configure=("$cmake" -S "$source_dir" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DTERN_WITH_TSAN=ON -DTERN_WERROR=ON -DTERN_WITH_CUDA=OFF -DTERN_BUILD_TESTS=ON)
if [[ -n $launcher ]]; then
  configure+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")
fi
echo "== configure" >>"$log"
"${configure[@]}" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; fail "configure"; }

echo "== build" >>"$log"
"$cmake" --build "$build_dir" --target tern_threading_tests tern-cpu tern-onnx >>"$log" 2>&1 ||
  { tail -n 60 "$log" >&2; fail "build"; }
built=$((SECONDS - start))

# OMP_NUM_THREADS=1: libgomp is not instrumented, so TSan does not see its barriers and
# would report Tern's code run by one OpenMP team's threads as racing with what runs after
# the region; with one thread per team, what TSan checks is what the suite is about: the
# threads that run Runtimes. (The thread-count test still makes teams of two.)
# tsan.supp: false positives of uninstrumented code only, each explained there.
# The plugins come from the TSan tree (next to its bin/), never from TERN_PLUGIN_PATH.
tsan_options="halt_on_error=1 second_deadlock_stack=1 suppressions=$source_dir/tests/threading/tsan.supp"
echo "== run (TSAN_OPTIONS=$tsan_options OMP_NUM_THREADS=1)" >>"$log"
status=0
env -u TERN_PLUGIN_PATH OMP_NUM_THREADS=1 TSAN_OPTIONS="$tsan_options" \
  "$build_dir/bin/tern_threading_tests" >>"$log" 2>&1 || status=$?
ran=$((SECONDS - start - built))

reports=$(grep -c "WARNING: ThreadSanitizer" "$log" || true)
if ((status != 0 || reports != 0)); then
  # The reports (or the failing tests) are what matters: show them, not just the tail.
  sed -n '/== run/,$p' "$log" | head -n 200 >&2
  fail "exit status $status, $reports ThreadSanitizer report(s)"
fi
passed=$(grep -o "\[  PASSED  \] [0-9]* test" "$log" | grep -o "[0-9]*" || echo "?")
echo "threading.tsan: OK: $passed tests, 0 ThreadSanitizer reports (build ${built} s, run ${ran} s, total $((SECONDS - start)) s)"
