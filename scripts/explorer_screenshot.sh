#!/usr/bin/env bash
# Regenerates docs/images/explorer_resnet_tiny.png, the README's picture of the explorer:
# resnet_tiny quantized (int8, 100 calibration images) by `tern quantize --explore`, its
# after.html shown in headless Chromium with one convolution selected.
#   scripts/explorer_screenshot.sh [TERN]   (default build/bin/tern; run from the repository)
set -euo pipefail
cd "$(dirname "$0")/.."
tern=${1:-build/bin/tern}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/tern-screenshot.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

"$tern" quantize sdk/examples/models/resnet_tiny.onnx -o "$scratch/quantized.onnx" --explore "$scratch" >/dev/null
# Select the first convolution after the stem, as a reader would by clicking it, and zoom in
# on it with the mouse wheel (the page starts with the whole, tall graph fitted).
select='<script>window.addEventListener("load", () => { const box = [...document.querySelectorAll("g.node")]
  .find((g) => g.textContent.includes("layer1/conv1")); if (!box) return;
  box.dispatchEvent(new MouseEvent("click", {bubbles: true}));
  const at = box.getBoundingClientRect(), pane = box.closest(".graph-pane");
  for (let i = 0; i < 6; ++i) pane.dispatchEvent(new WheelEvent("wheel", {deltaY: -120, bubbles: true, cancelable: true,
    clientX: at.x + at.width / 2, clientY: at.y + at.height / 2})); });</script>'
sed "s|<head>|<head>${select//$'\n'/ }|" "$scratch/after.html" >"$scratch/shown.html"
chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --hide-scrollbars --window-size=1500,950 \
  --virtual-time-budget=3000 --screenshot="$PWD/docs/images/explorer_resnet_tiny.png" "file://$scratch/shown.html" 2>/dev/null
echo "wrote docs/images/explorer_resnet_tiny.png"
