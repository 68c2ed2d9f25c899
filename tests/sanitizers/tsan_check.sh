#!/usr/bin/env bash
# The threading.tsan test: the threading suite built with ThreadSanitizer in a second tree
# (<build>/tsan) and run there; it fails on any race TSan reports.
#   tsan_check.sh SOURCE_DIR TSAN_BUILD_DIR CMAKE C_COMPILER CXX_COMPILER [LAUNCHER]
set -euo pipefail

name=threading.tsan source_dir=$1 build_dir=$2 cmake=$3 cc=$4 cxx=$5 launcher=${6:-}
source "$(dirname "$0")/sanitized_tree.sh"
sanitized_build TERN_WITH_TSAN tern_threading_tests tern-cpu tern-onnx

# OMP_NUM_THREADS=1: libgomp is not instrumented, so TSan does not see its barriers and
# would report Tern's code run by one OpenMP team's threads as racing with what runs after
# the region; with one thread per team, what TSan checks is what the suite is about: the
# threads that run Runtimes. (The thread-count test still makes teams of two.)
# tsan.supp: false positives of uninstrumented code only, each explained there.
# The plugins come from the TSan tree (next to its bin/), never from TERN_PLUGIN_PATH.
tsan_options="halt_on_error=1 second_deadlock_stack=1 suppressions=$source_dir/tests/sanitizers/tsan.supp"
echo "== run (TSAN_OPTIONS=$tsan_options OMP_NUM_THREADS=1)" >>"$log"
status=0
env -u TERN_PLUGIN_PATH OMP_NUM_THREADS=1 TSAN_OPTIONS="$tsan_options" \
  "$build_dir/bin/tern_threading_tests" >>"$log" 2>&1 || status=$?
sanitized_verdict "$status" "WARNING: ThreadSanitizer"
