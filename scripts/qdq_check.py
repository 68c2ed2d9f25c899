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
  4. `tern eval M_qdq.onnx --integer` (the QDQ file imported onto Tern's integer kernels,
     no Conv/Gemm/MatMul left in float) must be within 0.1 point of ONNX Runtime's unfused run of that file (not of Tern's own
     form: the QDQ file's weights are 7-bit).
Then ONNX Runtime's own quantize_static (QDQ, per-channel, 100 calibration images) makes a
QDQ file of each model; `tern run` on it, as the file says (float between QuantizeLinear and
DequantizeLinear) and with --integer (every Conv/Gemm/MatMul on integer kernels), must give
ONNX Runtime's outputs (unfused: the file's meaning) on 64 test images within one step of
the output's quantization, with the same top-1.

    python3 scripts/qdq_check.py [--build build] [--models convnet,...] [--work DIR]

Prints a table and exits 1 when a check fails, 77 when ONNX Runtime cannot be installed
(the CTest qdq.onnxruntime runs it).
"""
import argparse
import json
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
# One step of the output's quantization: the scale of the DequantizeLinear that makes it.
import onnx
graph = onnx.load(out).graph
last = next(n for n in graph.node if n.output[0] == graph.output[0].name)
scale = next(i for i in graph.initializer if i.name == last.input[1])
print(json.dumps({"step": float(onnx.numpy_helper.to_array(scale).ravel()[0]), "op": last.op_type}))
"""

INTEGER_OPS = {"QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger", "QGemm", "DynamicQuantizeMatMul",
               "MatMulIntegerToFloat", "QLinearAdd"}
FLOAT_AFFINE = {"Conv", "Gemm", "MatMul", "FusedConv", "FusedGemm", "FusedMatMul"}


def tern(build, *args):
    return subprocess.run([str(build / "bin" / "tern"), *args], check=True, capture_output=True, text=True).stdout


def float_affine_steps(build, model):
    """The Conv/Gemm/MatMul steps of `tern bench --integer --profile` that read float32."""
    profile = json.loads(tern(build, "bench", str(model), "--integer", "--profile", "--json", "--batch", "8",
                              "--seconds", "0.2", "--profile-runs", "2"))
    return [step["node"] for step in profile["profile"]["steps"]
            if step["op"] in FLOAT_AFFINE and step["inputs"].startswith("float32")]


def check_model(build, python, work, model, source, max_size_ratio):
    float_file = ROOT / "sdk" / "examples" / "models" / f"{model}.onnx"
    qdq, own = work / f"{model}_qdq.onnx", work / f"{model}_int8.onnx"
    tern(build, "quantize", str(float_file), "--format", "qdq", "-o", str(qdq))
    tern(build, "quantize", str(float_file), "-o", str(own))
    integer = json.loads(tern(build, "eval", str(own), "--integer", "--json"))["accuracy"]
    imported = json.loads(tern(build, "eval", str(qdq), "--integer", "--json"))["accuracy"]
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
    left_float = float_affine_steps(build, qdq)
    if left_float:
        failures.append(f"tern eval --integer of the QDQ file computes {', '.join(left_float)} in float")
    if abs(imported - ort["top1_reference"]) > 0.001:
        failures.append(f"tern eval --integer of the QDQ file {imported:.2%} vs ONNX Runtime's unfused run of it "
                        f"{ort['top1_reference']:.2%}")
    if size > max_size_ratio:
        failures.append(f"the QDQ file is {size:.2f}x the float file (limit {max_size_ratio}x)")
    print(f"| {model} | {integer:.2%} | {imported:.2%} | {ort['top1']:.2%} | {ort['top1_reference']:.2%} | "
          f"{', '.join(integer_kernels)} | {size:.2f}x | {'ok' if not failures else 'FAIL'} |")
    return failures, ort["version"]


def check_ort_model_on_tern(build, python, work, model, source):
    float_file = ROOT / "sdk" / "examples" / "models" / f"{model}.onnx"
    folder = work / f"{model}_ort"
    folder.mkdir(exist_ok=True)
    qdq = folder / "ort_qdq.onnx"
    made = json.loads(subprocess.run([str(python), "-c", ORT_QUANTIZE, str(float_file), str(qdq), source,
                                      str(folder)], check=True, capture_output=True, text=True).stdout)
    results, failures = [], []
    for mode, flags in (("as the file says", []), ("--integer", ["--integer"])):
        out = folder / ("out" + "".join(flags))
        tern(build, "run", str(qdq), *flags, "--input", str(folder / "images.npy"), "--output-dir", str(out))
        check = subprocess.run([str(python), "-c", r"""
import glob, json, sys, numpy as np
ort = np.load(sys.argv[1]); tern = np.load(glob.glob(sys.argv[2] + "/*.npy")[0])
print(json.dumps({"max_difference": float(np.abs(ort - tern).max()),
                  "same_top1": float((ort.argmax(1) == tern.argmax(1)).mean())}))
""", str(folder / "ort_logits.npy"), str(out)], check=True, capture_output=True, text=True)
        result = json.loads(check.stdout)
        ok = result["max_difference"] <= made["step"] * 1.0001 and result["same_top1"] == 1.0
        results.append(f"{result['max_difference'] / made['step']:.2f} steps, same top-1 on "
                       f"{result['same_top1']:.0%}")
        if not ok:
            failures.append(f"{model}: Tern ({mode}) on ONNX Runtime's QDQ file differs by "
                            f"{result['max_difference']:.4g} (one step {made['step']:.4g}) or in top-1")
    left_float = float_affine_steps(build, qdq)
    if left_float:
        failures.append(f"{model}: with --integer, {', '.join(left_float)} still compute in float")
    print(f"| {model} | {results[0]} | {results[1]} | {'none' if not left_float else len(left_float)} | "
          f"{'ok' if not failures else 'FAIL'} |")
    return failures


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
        print("| model | tern eval --integer | the QDQ file on tern eval --integer | ONNX Runtime, integer kernels | "
              "ONNX Runtime, unfused | its integer kernels | size vs float | |")
        print("| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |")
        failures, version = [], ""
        models = args.models.split(",")
        for model in models:
            found, version = check_model(build, python, work, model, args.dataset, args.max_size_ratio)
            failures += [f"{model}: {f}" for f in found]
        print("\nONNX Runtime's quantize_static QDQ files on Tern (64 test images; largest logit difference from "
              "ONNX Runtime's unfused run, in steps of the output's quantization):\n")
        print("| model | tern run | tern run --integer | Conv/Gemm/MatMul left in float | |")
        print("| --- | --- | --- | --- | --- |")
        for model in models:
            failures += check_ort_model_on_tern(build, python, work, model, args.dataset)
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
