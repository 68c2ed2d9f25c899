#!/usr/bin/env python3
"""ONNX Runtime's QDQ models of torchvision's networks, imported onto Tern's integer kernels.

For each classification network of scripts/zoo_check.py (exported by it into build/zoo/ with
random weights, opset 13, when missing):
  1. ONNX Runtime's quantize_static (PyPI, in build/bench-venv) makes a QDQ model, int8
     activations and per-channel int8 weights, calibrated on the network's 2 zoo images;
  2. `tern run MODEL_qdq.onnx --integer` runs it: every Conv/Gemm/MatMul must compute on
     integers (`tern bench --integer --profile` lists no float32 one);
  3. its output is compared with the file's meaning, ONNX Runtime's unfused run
     (optimisations off: DequantizeLinear -> float op -> QuantizeLinear): the SQNR in dB, and
     beside it the SQNR of ONNX Runtime's own integer kernels (its fused run) against the
     same reference. Random-weight networks amplify a one-step rounding difference from
     layer to layer, so neither is close to exact on deep ones: the figures are reported,
     and only a failure to load, run or compute on integers fails.
The shapes are what matters here (what quantize_static writes around each op), not accuracy.

    python3 scripts/qdq_zoo_check.py [--models a,b] [--build build]

Prints a table; exits 1 when a model fails, 77 when PyTorch or ONNX Runtime is missing
(the CTest zoo.qdq_import runs it).
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from peer_venv import VENV  # noqa: E402
from zoo_check import CLASSIFICATION, EXPORTS, export, exporter_and_peer  # noqa: E402

AFFINE = {"Conv", "Gemm", "MatMul"}
# Fixed input shapes where dynamic ones leave spatial sizes unknown (shufflenet's channel
# shuffle reshapes by computed shapes, so its final mean cannot be an average pool).
INPUT_SHAPES = {"shufflenet_v2_x1_0": "input=2x3x64x64"}

# Runs inside the venv: quantize_static on the zoo images, then ONNX Runtime's unfused and
# fused outputs. Prints one JSON line.
ORT_QDQ = r"""
import json, sys, numpy as np, onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
source, images_file, out, unfused_file, fused_file = sys.argv[1:6]
images = np.load(images_file)
name = ort.InferenceSession(source, providers=["CPUExecutionProvider"]).get_inputs()[0].name
class Reader(CalibrationDataReader):
    def __init__(self):
        self.batches = iter([{name: images[i:i + 1]} for i in range(len(images))])
    def get_next(self):
        return next(self.batches, None)
quantize_static(source, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
def run(level):
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    options.log_severity_level = 3
    return ort.InferenceSession(out, options, providers=["CPUExecutionProvider"]).run(None, {name: images})[0]
np.save(unfused_file, run(ort.GraphOptimizationLevel.ORT_DISABLE_ALL))
np.save(fused_file, run(ort.GraphOptimizationLevel.ORT_ENABLE_ALL))
print(json.dumps({"ok": True}))
"""


def tern(build, *args):
    result = subprocess.run([str(build / "bin" / "tern"), *args], capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        raise RuntimeError(lines[0][:300] if lines else f"exit code {result.returncode}")
    return result.stdout


def sqnr(reference, other):
    import numpy as np
    noise = float(np.sum((other.astype(np.float64) - reference) ** 2))
    return float("inf") if noise == 0 else 10 * np.log10(float(np.sum(reference.astype(np.float64) ** 2)) / noise)


def check(build, python, work, name, onnx_file, images):
    """(row text, failure or None) for one network."""
    import numpy as np
    qdq, unfused, fused = work / f"{name}_qdq.onnx", work / f"{name}_ort.npy", work / f"{name}_ort_fused.npy"
    made = subprocess.run([str(python), "-c", ORT_QDQ, str(onnx_file), str(images), str(qdq), str(unfused),
                           str(fused)], capture_output=True, text=True)
    if made.returncode != 0:
        lines = made.stderr.strip().splitlines() or ["failed"]
        return f"| {name} | - | - | - | - |", f"ONNX Runtime's quantize_static: {lines[-1]}"
    shape = ["--input-shape", INPUT_SHAPES[name]] if name in INPUT_SHAPES else []
    try:
        tern(build, "run", str(qdq), "--integer", *shape, "--input", str(images), "--output-dir", str(work / name))
        profile = json.loads(tern(build, "bench", str(qdq), "--integer", *shape, "--batch", "2", "--seconds", "0.2",
                                  "--profile", "--profile-runs", "2", "--json"))
    except RuntimeError as error:
        return f"| {name} | - | - | - | - |", f"tern: {error}"
    steps = profile["profile"]["steps"]
    float_affine = [s["node"] for s in steps if s["op"] in AFFINE and s["inputs"].startswith("float32")]
    float_ops = sorted({s["op"] for s in steps if s["outputs"].startswith("float32")} - {"DequantizeLinear"})
    reference = np.load(unfused)
    ours = np.load(work / name / "output.npy")
    row = (f"| {name} | {sqnr(reference, ours):.1f} | {sqnr(reference, np.load(fused)):.1f} | "
           f"{len(float_affine)} | {', '.join(float_ops) or 'none'} |")
    failure = f"{len(float_affine)} Conv/Gemm/MatMul in float: {', '.join(float_affine[:3])}" if float_affine else None
    return row, failure


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--models", default=",".join(CLASSIFICATION))
    parser.add_argument("--work", default=None, help="folder for the files (default: a temporary one)")
    args = parser.parse_args()
    build = Path(args.build).resolve()
    python = exporter_and_peer(("onnxruntime", "numpy", "onnx"))
    if python is None:
        return 77
    models = args.models.split(",")
    unknown = [m for m in models if m not in CLASSIFICATION]
    if unknown:
        parser.error(f"unknown models {unknown} (known: {', '.join(CLASSIFICATION)})")
    zoo = build / "zoo" / EXPORTS
    zoo.mkdir(parents=True, exist_ok=True)
    start = time.time()
    failures = []
    with tempfile.TemporaryDirectory(prefix="tern-qdq-zoo-") as scratch:
        work = Path(args.work or scratch)
        work.mkdir(parents=True, exist_ok=True)
        print("| network | SQNR dB, tern run --integer vs the file's meaning | SQNR dB, ONNX Runtime's integer "
              "kernels vs the same | Conv/Gemm/MatMul left in float | float ops left |")
        print("| --- | ---: | ---: | ---: | --- |")
        for name in models:
            onnx_file, images = export(zoo, name, 13)
            row, failure = check(build, python, work, name, onnx_file, images)
            print(row, flush=True)
            if failure:
                failures.append(f"{name}: {failure}")
    print(f"\n{len(models)} networks in {time.time() - start:.0f} s (opset 13, random weights, 2 random images; "
          f"ONNX Runtime from {VENV}).")
    for failure in failures:
        print("FAIL: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
