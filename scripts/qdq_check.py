#!/usr/bin/env python3
"""Tern's QDQ export on ONNX Runtime, and ONNX Runtime's QDQ models on Tern.

For each example model (sdk/examples/models):
  1. `tern quantize MODEL --format qdq -o M_qdq.onnx` (defaults: int8, MSE, 100 calibration
     images) and `tern quantize MODEL -o M_int8.onnx` (Tern's own form);
  2. ONNX Runtime (PyPI, in the virtual environment build/bench-venv, made here when
     missing) loads M_qdq.onnx with every graph optimisation; the optimised graph it would
     run must hold its integer kernels (QLinearConv / QLinearMatMul / MatMulInteger ...)
     and no float Conv, Gemm or MatMul;
  3. its top-1 on the 10,000 Fashion-MNIST test images must be within 0.1 point of
     `tern eval M_int8.onnx --integer`, and the QDQ file at most 0.3x the float file. Both
     with the defaults: --format qdq writes 8-bit weights within ±63 (--reduce-range),
     which ONNX Runtime's fused integer kernels sum exactly on x86 CPUs without VNNI too
     (on full-range weights they saturate there); Tern's own form uses all of ±127. Its
     unfused run (optimisations off, the file's ONNX meaning) is printed beside.
Then ONNX Runtime's own quantize_static (QDQ, per-channel, 100 calibration images) makes a
QDQ convnet; `tern run` must give ONNX Runtime's outputs (unfused: the file's meaning) on
64 test images within tolerance (one output quantization step of that model).

    python3 scripts/qdq_check.py [--build build] [--models convnet,...] [--work DIR]

Prints a table and exits 1 when a check fails, 77 when ONNX Runtime cannot be installed
(the CTest qdq.onnxruntime runs it).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bench_common import int8_kernels_saturate  # noqa: E402
from peer_venv import VENV, ensure_venv  # noqa: E402  (one venv for every peer comparison)

MODELS = ["convnet", "convnet_bn", "resnet_tiny", "mobilenet_tiny"]

# Both venv scripts read Fashion-MNIST's IDX files (folder `source`) with this.
IDX_READER = r"""
import gzip, numpy as np
def idx(name):
    with gzip.open(f"{source}/{name}", "rb") as f:
        data = f.read()
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(data[3])]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)
"""

# Runs inside the venv: ONNX Runtime on a QDQ file. Prints JSON: the op types of the graph
# it optimised and the top-1 on the test split.
ORT_EVAL = IDX_READER + r"""
import json, sys, onnx, onnxruntime as ort
path, optimized, source = sys.argv[1:4]
images = idx("t10k-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255.0
labels = idx("t10k-labels-idx1-ubyte.gz")
def top1(level, optimized=None):
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    if optimized:
        options.optimized_model_filepath = optimized
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    correct = 0
    for begin in range(0, len(images), 500):
        logits = session.run(None, {name: images[begin:begin + 500]})[0]
        correct += int((logits.argmax(1) == labels[begin:begin + 500]).sum())
    return correct / len(images)
fused = top1(ort.GraphOptimizationLevel.ORT_ENABLE_ALL, optimized)
reference = top1(ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
ops = sorted({node.op_type for node in onnx.load(optimized).graph.node})
print(json.dumps({"ops": ops, "top1": fused, "top1_reference": reference, "version": ort.__version__}))
"""

# Runs inside the venv: ONNX Runtime's own QDQ quantization of a float model, and its
# outputs on the first 64 test images (saved as .npy for tern run).
ORT_QUANTIZE = IDX_READER + r"""
import json, sys, onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
model, out, source, work = sys.argv[1:5]
train = idx("train-images-idx3-ubyte.gz")[:100].astype(np.float32)[:, None] / 255.0
test = idx("t10k-images-idx3-ubyte.gz")[:64].astype(np.float32)[:, None] / 255.0
name = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).get_inputs()[0].name
class Reader(CalibrationDataReader):
    def __init__(self):
        self.batches = iter([{name: train[i:i + 1]} for i in range(len(train))])
    def get_next(self):
        return next(self.batches, None)
quantize_static(model, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
# The file's meaning (every QuantizeLinear and DequantizeLinear as ONNX defines them), not
# the fused integer kernels, which saturate on x86 CPUs without VNNI (see bench_common.int8_kernels_saturate).
reference = ort.SessionOptions()
reference.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
logits = ort.InferenceSession(out, reference, providers=["CPUExecutionProvider"]).run(None, {name: test})[0]
np.save(f"{work}/images.npy", test)
np.save(f"{work}/ort_logits.npy", logits)
print(json.dumps({"outputs": logits.shape[1]}))
"""

INTEGER_OPS = {"QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger", "QGemm", "DynamicQuantizeMatMul",
               "MatMulIntegerToFloat", "QLinearAdd"}
FLOAT_AFFINE = {"Conv", "Gemm", "MatMul", "FusedConv", "FusedGemm", "FusedMatMul"}


def tern(build, *args):
    return subprocess.run([str(build / "bin" / "tern"), *args], check=True, capture_output=True, text=True).stdout


def check_model(build, python, work, model, source, max_size_ratio):
    float_file = ROOT / "sdk" / "examples" / "models" / f"{model}.onnx"
    qdq, own = work / f"{model}_qdq.onnx", work / f"{model}_int8.onnx"
    tern(build, "quantize", str(float_file), "--format", "qdq", "-o", str(qdq))
    tern(build, "quantize", str(float_file), "-o", str(own))
    integer = json.loads(tern(build, "eval", str(own), "--integer", "--json"))["accuracy"]
    ort = json.loads(subprocess.run([str(python), "-c", ORT_EVAL, str(qdq), str(work / f"{model}_ort_opt.onnx"),
                                     source], check=True, capture_output=True, text=True).stdout)
    size = qdq.stat().st_size / float_file.stat().st_size
    integer_kernels = sorted(INTEGER_OPS & set(ort["ops"]))
    float_affine = sorted(FLOAT_AFFINE & set(ort["ops"]))
    failures = []
    if not integer_kernels or float_affine:
        failures.append(f"ONNX Runtime's optimised graph runs {float_affine or 'no'} float affine ops and "
                        f"{integer_kernels or 'no'} integer kernels (ops: {', '.join(ort['ops'])})")
    if abs(ort["top1"] - integer) > 0.001:
        failures.append(f"ONNX Runtime top-1 {ort['top1']:.2%} vs tern eval --integer {integer:.2%}")
    if size > max_size_ratio:
        failures.append(f"the QDQ file is {size:.2f}x the float file (limit {max_size_ratio}x)")
    print(f"| {model} | {integer:.2%} | {ort['top1']:.2%} | {ort['top1_reference']:.2%} | "
          f"{', '.join(integer_kernels)} | {size:.2f}x | {'ok' if not failures else 'FAIL'} |")
    return failures, ort["version"]


def check_ort_model_on_tern(build, python, work, source):
    model = ROOT / "sdk" / "examples" / "models" / "convnet.onnx"
    qdq = work / "convnet_ort_qdq.onnx"
    subprocess.run([str(python), "-c", ORT_QUANTIZE, str(model), str(qdq), source, str(work)], check=True,
                   capture_output=True, text=True)
    out = work / "tern_out"
    tern(build, "run", str(qdq), "--input", str(work / "images.npy"), "--output-dir", str(out))
    check = subprocess.run([str(python), "-c", r"""
import glob, json, sys, numpy as np
ort = np.load(sys.argv[1]); tern = np.load(glob.glob(sys.argv[2] + "/*.npy")[0])
step = np.abs(ort).max() / 127.0   # one int8 step of ONNX Runtime's output quantization
print(json.dumps({"max_difference": float(np.abs(ort - tern).max()), "step": float(step),
                  "same_top1": float((ort.argmax(1) == tern.argmax(1)).mean())}))
""", str(work / "ort_logits.npy"), str(out)], check=True, capture_output=True, text=True)
    result = json.loads(check.stdout)
    ok = result["max_difference"] <= result["step"] and result["same_top1"] == 1.0
    print(f"\nONNX Runtime's quantize_static QDQ convnet on Tern (64 images): largest logit difference "
          f"{result['max_difference']:.4g} (one output step: {result['step']:.4g}), same top-1 on "
          f"{result['same_top1']:.0%}: {'ok' if ok else 'FAIL'}")
    return [] if ok else ["Tern's outputs on ONNX Runtime's QDQ convnet differ by more than one step"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--work", default=None, help="folder for the files (default: a temporary one)")
    parser.add_argument("--dataset", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--max-size-ratio", type=float, default=0.3, help="QDQ file size / float file size")
    args = parser.parse_args()
    build = Path(args.build).resolve()
    try:
        python = ensure_venv(("onnxruntime", "numpy", "onnx"))
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"SKIP: ONNX Runtime could not be installed from PyPI into {VENV}: {error}")
        return 77
    with tempfile.TemporaryDirectory(prefix="tern-qdq-") as scratch:
        work = Path(args.work or scratch)
        work.mkdir(parents=True, exist_ok=True)
        print("| model | tern eval --integer | ONNX Runtime, integer kernels | ONNX Runtime, unfused | "
              "its integer kernels | size vs float | |")
        print("| --- | ---: | ---: | ---: | --- | ---: | --- |")
        failures, version = [], ""
        for model in args.models.split(","):
            found, version = check_model(build, python, work, model, args.dataset, args.max_size_ratio)
            failures += [f"{model}: {f}" for f in found]
        failures += check_ort_model_on_tern(build, python, work, args.dataset)
    print(f"\nONNX Runtime {version} (PyPI, {VENV}); top-1 on the 10,000 test images.")
    if int8_kernels_saturate():
        print("This CPU has AVX2 but no VNNI: the int8 kernels of ONNX Runtime (and oneDNN) add pairs of products in "
              "16 bits, which would saturate on full-range weights; the QDQ files' weights are within ±63 "
              "(--format qdq's default), which they sum exactly.")
    for failure in failures:
        print("FAIL: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
