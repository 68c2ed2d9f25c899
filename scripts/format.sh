#!/usr/bin/env bash
# Formats every C/C++/CUDA source git tracks with the repository's .clang-format.
#   scripts/format.sh           rewrites the files in place
#   scripts/format.sh --check   changes nothing; lists the files that differ and fails
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.c' '*.cu' '*.cuh')
if [[ ${1:-} == --check ]]; then
  differ=()
  for file in "${files[@]}"; do
    clang-format --style=file "$file" | cmp -s - "$file" || differ+=("$file")
  done
  if [[ ${#differ[@]} -gt 0 ]]; then
    echo "not formatted (run scripts/format.sh): ${differ[*]}" >&2
    exit 1
  fi
  echo "all ${#files[@]} sources formatted as .clang-format says"
else
  clang-format --style=file -i "${files[@]}"
fi
