#!/usr/bin/env bash
# Runs the `tern` executable on every fuzz regression file as a user would and checks that
# each is refused cleanly: exit code 2, exactly one line on stderr ("tern: error: ..."),
# and under --json an {"error": ...} object on stdout. A file named valid_* is a
# well-formed input that once crashed Tern: exit code 0 is right for it too.
#
#   tests/fuzz/cli_one_line.sh TERN REGRESSIONS_DIR MODEL.onnx
#
# regressions/npy/*   tern run MODEL --input FILE
# regressions/idx/*   tern eval MODEL --dataset fashion-mnist:DIR (FILE as both IDX files)
# regressions/onnx/*  tern info FILE, and tern run FILE
# Other folders (shape_infer: bytes for the fuzz target only) are not CLI inputs.
set -uo pipefail

tern=${1:?usage: cli_one_line.sh TERN REGRESSIONS_DIR MODEL.onnx}
regressions=${2:?usage: cli_one_line.sh TERN REGRESSIONS_DIR MODEL.onnx}
model=${3:?usage: cli_one_line.sh TERN REGRESSIONS_DIR MODEL.onnx}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/tern-cli-one-line.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

checks=0
failures=0

# check NAME ARGS...: runs tern ARGS (then ARGS --json) and checks the refusal.
check() {
  local name=$1
  shift
  local json
  for json in "" "--json"; do
    local out="$scratch/out" err="$scratch/err" code lines
    # A refusal is quick; 120 s catches a hang without failing slow machines.
    timeout 120 "$tern" "$@" $json >"$out" 2>"$err" </dev/null
    code=$?
    checks=$((checks + 1))
    lines=$(grep -c '' "$err")
    local problem=""
    if [[ $code -eq 0 && $name == */valid_* ]]; then
      : # accepted: a well-formed input
    elif [[ $code -ne 2 ]]; then
      problem="exit code $code, not 2"
    elif [[ $lines -ne 1 ]]; then
      problem="$lines lines on stderr, not 1"
    elif ! head -c 13 "$err" | grep -q '^tern: error: '; then
      problem="stderr does not start with 'tern: error: '"
    elif [[ -n $(tail -c 1 "$err") ]]; then
      problem="stderr does not end with a newline"
    elif [[ -n $json ]] && ! grep -q '"error": ' "$out"; then
      problem="no {\"error\": ...} object on stdout"
    elif [[ -z $json && -s $out ]]; then
      problem="text on stdout"
    fi
    if [[ -n $problem ]]; then
      failures=$((failures + 1))
      echo "FAIL $name: tern $* $json: $problem" >&2
      sed -e 's/^/  stderr| /' "$err" | head -20 >&2
    fi
  done
}

shopt -s nullglob
for file in "$regressions"/npy/*; do
  check "npy/$(basename "$file")" run "$model" --input "$file" --output-dir "$scratch/outputs"
done
for file in "$regressions"/idx/*; do
  dir="$scratch/idx"
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$file" "$dir/t10k-images-idx3-ubyte.gz"
  cp "$file" "$dir/t10k-labels-idx1-ubyte.gz"
  check "idx/$(basename "$file")" eval "$model" --dataset "fashion-mnist:$dir"
done
for file in "$regressions"/onnx/*; do
  check "onnx/$(basename "$file") (info)" info "$file"
  check "onnx/$(basename "$file") (run)" run "$file" --output-dir "$scratch/outputs"
done

if [[ $checks -eq 0 ]]; then
  echo "cli_one_line: no regression files under $regressions" >&2
  exit 1
fi
echo "cli_one_line: $checks runs of tern on the files under $regressions, $failures failed"
[[ $failures -eq 0 ]]
