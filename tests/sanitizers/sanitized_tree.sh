# Sourced by the sanitizer checks (asan_check.sh, tsan_check.sh): a second build tree beside
# the main one, configured with one sanitizer option, building only what the check runs,
# everything logged to <tree>/<name>.log. The caller sets: name source_dir build_dir cmake
# cc cxx launcher (the main build's compilers and C++ launcher, ccache; empty for none).

start=$SECONDS
mkdir -p "$build_dir"
log=$build_dir/$name.log
: >"$log"

fail() {
  echo "$name: FAIL ($1) after $((SECONDS - start)) s; log: $log" >&2
  exit 1
}

# sanitized_build OPTION TARGET...: configure with -DOPTION=ON (as CI builds: TERN_WERROR;
# no CUDA, whose nvcc flags do not mix with the sanitizers') and build the targets. -O1
# without -g: the tree compiles the core, the sdk and the plugins again, and CI's budget is
# the limit; the sanitizers still name every function in a report.
sanitized_build() {
  local option=$1
  shift
  local configure=("$cmake" -S "$source_dir" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_C_FLAGS_RELEASE=-O1 -DNDEBUG" "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG"
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -D"$option"=ON -DTERN_WERROR=ON -DTERN_WITH_CUDA=OFF
    -DTERN_BUILD_TESTS=ON -DTERN_BUILD_PYTHON=OFF)
  if [[ -n $launcher ]]; then
    configure+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")
  fi
  echo "== configure" >>"$log"
  "${configure[@]}" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; fail "configure"; }
  echo "== build" >>"$log"
  "$cmake" --build "$build_dir" --target "$@" >>"$log" 2>&1 || { tail -n 60 "$log" >&2; fail "build"; }
  built=$((SECONDS - start))
}

# sanitized_verdict STATUS REPORT_PATTERN: fails, showing the run's part of the log, on a
# non-zero status or any sanitizer report; otherwise prints the figures.
sanitized_verdict() {
  local status=$1 pattern=$2 reports
  reports=$(grep -c -E "$pattern" "$log" || true)
  if ((status != 0 || reports != 0)); then
    # The reports (or the failing tests) are what matters: show them, not just the tail.
    sed -n '/== run/,$p' "$log" | grep -v '^\[ *\(RUN\|OK\) ' | head -n 200 >&2
    fail "exit status $status, $reports sanitizer report(s)"
  fi
  local passed
  passed=$(grep -o "\[  PASSED  \] [0-9]*" "$log" | awk '{ sum += $NF } END { print sum + 0 }')
  echo "$name: OK: $passed tests, 0 sanitizer reports (build ${built} s, run $((SECONDS - start - built)) s)"
}
