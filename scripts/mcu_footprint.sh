#!/usr/bin/env bash
# The README's and docs/MCU.md's footprint table: each example model quantized by
# `tern quantize` (defaults: int8, per tensor, integer), exported by `tern export` and
# measured with --footprint on QEMU's Cortex-M4 (convnet also on the Cortex-M55). Prints a
# Markdown table. Needs `make build` and the Cortex-M tools (scripts/setup-deps.sh).
#   scripts/mcu_footprint.sh [WORKDIR]   (default build/mcu_footprint)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tern=$root/build/bin/tern
work=${1:-$root/build/mcu_footprint}
mkdir -p "$work"
echo "| model | CPU | code (flash) | weights (flash) | arena | stack | RAM | instructions / inference |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for run in convnet:cortex-m4 convnet_bn:cortex-m4 resnet_tiny:cortex-m4 mobilenet_tiny:cortex-m4 convnet:cortex-m55; do
  model=${run%%:*}
  cpu=${run##*:}
  "$tern" quantize "$root/sdk/examples/models/$model.onnx" -o "$work/$model.onnx" >/dev/null
  "$tern" export "$work/$model.onnx" -o "$work/$model.$cpu" --name "$model" --footprint "$cpu" --json \
    >"$work/$model.$cpu.json"
  python3 - "$work/$model.$cpu.json" "$model" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["footprint"]
cpu = {"cortex-m4": "Cortex-M4", "cortex-m55": "Cortex-M55"}[f["cpu"]]
print(f"| {sys.argv[2]} | {cpu} | {f['flash_code']:,} | {f['flash_weights']:,} | {f['arena_bytes']:,} | "
      f"{f['stack_bytes']:,} | {f['ram_bytes']:,} | {f['instructions']:,} |")
PY
done
