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

With --export, the other direction: Tern's own QDQ files of the same networks in ONNX Runtime.
  1. `tern quantize NET --format qdq` (calibrated on the network's 2 zoo images);
  2. ONNX Runtime checks the file (onnx.checker) and runs it with its graph optimisations:
     every Conv/Gemm/MatMul must be fused into an integer kernel (QLinearConv, QGemm...: no
     float one left in its optimised graph), tables, products and sums included (it has no
     integer ConvTranspose: that one stays float there);
  3. SQNR in dB against the float network (ONNX Runtime float) of ONNX Runtime's integer
     run of the file and of Tern's (`tern run FILE --integer`), printed.

    python3 scripts/qdq_zoo_check.py [--export] [--models a,b] [--build build]

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
from zoo_check import CLASSIFICATION, EXPORTS, SIZES, export, exporter_and_peer  # noqa: E402

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


# Runs inside the venv: the ONNX checker on Tern's QDQ file, ONNX Runtime's optimised run of
# it (its optimised graph's op counts) and its float run of the source network. Prints one
# JSON line.
ORT_EXPORT = r"""
import collections, json, sys, numpy as np, onnx, onnxruntime as ort
qdq, source, images_file, fused_file, float_file, optimized = sys.argv[1:7]
onnx.checker.check_model(onnx.load(qdq), full_check=True)
images = np.load(images_file)
def run(path, optimized_path=None):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if optimized_path:
        options.optimized_model_filepath = optimized_path
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: images})[0]
np.save(fused_file, run(qdq, optimized))
np.save(float_file, run(source))
print(json.dumps(collections.Counter(n.op_type for n in onnx.load(optimized).graph.node)))
"""
FLOAT_AFFINE = {"Conv", "FusedConv", "Gemm", "FusedGemm", "MatMul", "FusedMatMul"}
# Beyond the classification networks: a segmentation head (Resize, Concat of scales) and the
# ConvTranspose decoder, whose ConvTransposes ONNX Runtime's CPU provider runs in float
# between DequantizeLinear and QuantizeLinear (it has no integer kernel for them).
EXPORT_EXTRAS = ["lraspp_mobilenet_v3_large", "convtranspose_decoder"]


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


def check_export(build, python, work, name, onnx_file, images):
    """(row text, failure or None) for Tern's QDQ file of one network in ONNX Runtime."""
    import numpy as np
    qdq, fused, reference = work / f"{name}_tern_qdq.onnx", work / f"{name}_fused.npy", work / f"{name}_float.npy"
    shape = ["--input-shape", INPUT_SHAPES[name]] if name in INPUT_SHAPES else []
    try:
        tern(build, "quantize", str(onnx_file), "--calib", str(images), "--calib-size", "2", "--format", "qdq", "-o",
             str(qdq))
        tern(build, "run", str(qdq), "--integer", *shape, "--input", str(images), "--output-dir", str(work / name))
    except RuntimeError as error:
        return f"| {name} | - | - | - | - |", f"tern: {error}"
    made = subprocess.run([str(python), "-c", ORT_EXPORT, str(qdq), str(onnx_file), str(images), str(fused),
                           str(reference), str(work / f"{name}_optimized.onnx")], capture_output=True, text=True)
    if made.returncode != 0:
        lines = made.stderr.strip().splitlines() or ["failed"]
        return f"| {name} | - | - | - | - |", f"ONNX Runtime: {lines[-1][:300]}"
    ops = json.loads(made.stdout.strip().splitlines()[-1])
    float_affine = sum(count for op, count in ops.items() if op in FLOAT_AFFINE)
    integer = sum(count for op, count in ops.items() if op.startswith("QLinear") or op in {"QGemm", "ConvInteger",
                                                                                            "MatMulInteger"})
    reference = np.load(reference)
    row = (f"| {name} | {sqnr(reference, np.load(fused)):.1f} | {sqnr(reference, np.load(work / name / 'output.npy')):.1f}"
           f" | {integer} | {float_affine} |")
    return row, f"{float_affine} Conv/Gemm/MatMul left in float by ONNX Runtime" if float_affine else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--models", default=None, help="default: the classification networks (with --export also "
                        "MobileNetV3's segmentation network and the ConvTranspose decoder; any zoo network there)")
    parser.add_argument("--export", action="store_true", help="Tern's QDQ files in ONNX Runtime instead")
    parser.add_argument("--work", default=None, help="folder for the files (default: a temporary one)")
    args = parser.parse_args()
    build = Path(args.build).resolve()
    python = exporter_and_peer(("onnxruntime", "numpy", "onnx"))
    if python is None:
        return 77
    models = args.models.split(",") if args.models else list(CLASSIFICATION) + (EXPORT_EXTRAS if args.export else [])
    known = SIZES if args.export else CLASSIFICATION
    unknown = [m for m in models if m not in known]
    if unknown:
        parser.error(f"unknown models {unknown} (known: {', '.join(known)})")
    zoo = build / "zoo" / EXPORTS
    zoo.mkdir(parents=True, exist_ok=True)
    start = time.time()
    failures = []
    with tempfile.TemporaryDirectory(prefix="tern-qdq-zoo-") as scratch:
        work = Path(args.work or scratch)
        work.mkdir(parents=True, exist_ok=True)
        if args.export:
            print("| network | SQNR dB vs float, ONNX Runtime's integer run of Tern's QDQ file | the same file, "
                  "tern run --integer | integer ops in ONNX Runtime's optimised graph | Conv/Gemm/MatMul left in "
                  "float |")
        else:
            print("| network | SQNR dB, tern run --integer vs the file's meaning | SQNR dB, ONNX Runtime's integer "
                  "kernels vs the same | Conv/Gemm/MatMul left in float | float ops left |")
        print("| --- | ---: | ---: | ---: | --- |")
        for name in models:
            onnx_file, images = export(zoo, name, 13)
            row, failure = (check_export if args.export else check)(build, python, work, name, onnx_file, images)
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
