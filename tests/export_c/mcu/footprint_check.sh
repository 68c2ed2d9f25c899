#!/usr/bin/env bash
# tern export --footprint cortex-m4 --json on convnet: the figures are there, the arena is
# the exporter's, and the code without weights stays within 16 KiB at -Os (issue 14's bound).
#   footprint_check.sh TERN SOURCE_DIR WORKDIR
set -euo pipefail
tern=$1
source_dir=$2
workdir=$3
"$source_dir/sdk/mcu/run_mcu.sh" --check cortex-m4 || exit $?
rm -rf "$workdir" && mkdir -p "$workdir"
"$tern" quantize "$source_dir/sdk/examples/models/convnet.onnx" -o "$workdir/q.onnx" >/dev/null
"$tern" export "$workdir/q.onnx" -o "$workdir/c" --name convnet --footprint cortex-m4 --json >"$workdir/result.json"
python3 - "$workdir/result.json" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
figures = result["footprint"]
for key in ("flash_code", "flash_weights", "flash_total", "arena_bytes", "stack_bytes", "ram_bytes", "instructions"):
    assert figures[key] > 0, f"{key} is {figures[key]}"
assert figures["arena_bytes"] == result["arena_bytes"], (figures["arena_bytes"], result["arena_bytes"])
assert figures["ram_bytes"] == figures["arena_bytes"] + figures["stack_bytes"] + figures["static_ram_bytes"]
assert figures["flash_code"] <= 16 * 1024, f"convnet's code is {figures['flash_code']} bytes at -Os, over 16 KiB"
print(f"convnet on a Cortex-M4: code {figures['flash_code']} bytes, RAM {figures['ram_bytes']}, "
      f"{figures['instructions']} instructions per inference")
PY
