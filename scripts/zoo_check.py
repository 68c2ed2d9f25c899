#!/usr/bin/env python3
"""torchvision's networks, as PyTorch exports them, through Tern: load, run, ONNX Runtime, int8.

For each model (torchvision's classification and segmentation networks, and a ConvTranspose
decoder head; random weights, torch.manual_seed fixed, eval mode) and opset:
  1. Debian's PyTorch (python3-torch, python3-torchvision) exports it with a dynamic batch
     into build/zoo/ (kept there: later runs reuse the file), after a few training-mode
     passes over random images have given its BatchNorm layers realistic statistics;
  2. `tern info` loads it and `tern run` runs it on a batch of 2 random images;
  3. ONNX Runtime (PyPI, in the virtual environment build/bench-venv, made when missing)
     runs the same file on the same images: Tern must match it within
     max|tern - ort| <= 2.5e-2 * max|ort| (the output's scale; float32 kernels of both sum
     in different orders, and random weights give outputs of any magnitude);
  4. `tern quantize` (int8, 8 random calibration images) and `tern run --integer` on the
     result, with the int8 output's SQNR against Tern's float output.
Spatial sizes are small (64 or 96 for classification, 128 for segmentation) so the whole
zoo runs in minutes on two cores; the shapes are what matters here, not the accuracy.

    python3 scripts/zoo_check.py [--models a,b] [--opsets 11,13,17] [--quick] [--build build]

Prints a table and exits 1 when a model fails to load, run or match ONNX Runtime (quantizing
is reported, not required: --require-quantize makes it a failure too); 77 when PyTorch or
ONNX Runtime is missing. The CTests run it with --require-quantize: zoo.torchvision every
model at opset 13, zoo.torchvision.opsets the --quick subset.
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
from peer_venv import VENV, ensure_venv  # noqa: E402  (one venv for every peer comparison)

TOLERANCE = 2.5e-2
EXPORTS = "bn-calibrated"

# name -> (torchvision builder, input height = width). The sizes are the smallest each
# network's strides and pools accept comfortably.
CLASSIFICATION = {name: 64 for name in [
    "resnet18", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "densenet121",
    "shufflenet_v2_x1_0", "squeezenet1_1", "regnet_y_400mf", "googlenet", "mnasnet0_5", "convnext_tiny",
    "resnext50_32x4d"]}
CLASSIFICATION["squeezenet1_1"] = 96
SEGMENTATION = {"lraspp_mobilenet_v3_large": 128, "deeplabv3_mobilenet_v3_large": 128, "fcn_resnet50": 128}
# Not torchvision's: the decoder head of text-detection (DB) and segmentation networks, which
# torchvision's models lack (ConvTranspose upsampling, plain and grouped with output_padding,
# then a per-pixel Softmax over the channels).
OTHERS = {"convtranspose_decoder": 32}
SIZES = {**CLASSIFICATION, **SEGMENTATION, **OTHERS}

# --quick: one model per failure class the C++ side was fixed for (int64 shape arithmetic,
# 17-input Concat, Resize of a computed size, LayerNormalization/Erf, ConvTranspose), at the
# opsets where the exporter writes each differently.
QUICK = [("shufflenet_v2_x1_0", 11), ("densenet121", 13), ("lraspp_mobilenet_v3_large", 11),
         ("mobilenet_v3_small", 17), ("convnext_tiny", 17), ("resnet18", 13), ("convtranspose_decoder", 11)]

# Runs inside the venv: ONNX Runtime on each (model, input, output) job. Prints one JSON
# line per job: the error, if any.
ORT_RUN = r"""
import json, sys, numpy as np, onnxruntime as ort
options = ort.SessionOptions()
options.intra_op_num_threads = 2
for model, source, target in json.loads(sys.argv[1]):
    try:
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        x = np.load(source)
        np.save(target, session.run(None, {session.get_inputs()[0].name: x})[0])
        print(json.dumps({"model": model, "error": None}), flush=True)
    except Exception as error:  # reported in the table, not fatal
        print(json.dumps({"model": model, "error": str(error).splitlines()[0]}), flush=True)
"""


class SegmentationOutput:
    """torchvision's segmentation models return {"out": ...}; ONNX wants a tensor."""

    @staticmethod
    def wrap(torch, model):
        class Out(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, x):
                return self.model(x)["out"]
        return Out().eval()


def decoder(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1, groups=2), nn.Sigmoid(),
        nn.Conv2d(8, 4, 1), nn.Softmax(dim=1)).eval()


def calibrate_batchnorm(torch, model, size):
    """Random-init BatchNorm layers hold running statistics 0 and 1, so activations shrink
    or grow layer after layer (googlenet's logits collapse to its classifier's bias, the same
    for every image). A few training-mode passes over random images (cumulative averages)
    give them statistics like a trained network's: activations keep their scale and the
    outputs depend on the input, which is what the comparisons and the SQNR need."""
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None
    generator = torch.Generator().manual_seed(1)
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(8, 3, size, size, generator=generator))
    return model.eval()


def export(zoo, name, opset):
    """build/zoo/NAME_opOPSET.onnx (exported once) and NAME_input.npy, its 2 random images."""
    import numpy as np
    size = SIZES[name]
    path, images = zoo / f"{name}_op{opset}.onnx", zoo / f"{name}_input.npy"
    if not images.exists():
        np.save(images, np.random.default_rng(0).standard_normal((2, 3, size, size), dtype=np.float32))
    if path.exists():
        return path, images
    import warnings
    import torch
    import torchvision
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    torch.set_num_threads(2)
    if name in OTHERS:
        model = decoder(torch)
    elif name in SEGMENTATION:
        builder = getattr(torchvision.models.segmentation, name)
        model = SegmentationOutput.wrap(torch, builder(weights=None, weights_backbone=None).eval())
    else:
        model = getattr(torchvision.models, name)(weights=None).eval()
    model = calibrate_batchnorm(torch, model, size)
    partial = path.with_suffix(".part")
    with torch.no_grad():
        torch.onnx.export(model, torch.from_numpy(np.load(images)), str(partial), opset_version=opset,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    partial.rename(path)  # a cut-off export never looks finished
    return path, images


def exporter_and_peer(packages):
    """The venv's python with `packages` (ONNX Runtime's), or None after printing why the
    check is skipped: PyTorch (Debian's, to export) or the venv is missing."""
    try:
        import numpy  # noqa: F401
        import torch  # noqa: F401  (only whether it is there: export() imports it when needed)
        import torchvision  # noqa: F401
    except ImportError as error:
        print(f"SKIP: {error} (install python3-torch and python3-torchvision)")
        return None
    try:
        return ensure_venv(packages)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"SKIP: ONNX Runtime could not be installed from PyPI into {VENV}: {error}")
        return None


def tern(build, threads, *args):
    """(ok, first error line) of one tern command."""
    threads_option = ["--threads", str(threads)] if args[0] != "info" else []
    result = subprocess.run([str(build / "bin" / "tern"), *args, *threads_option], capture_output=True, text=True)
    if result.returncode == 0:
        return True, ""
    lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    first = lines[0] if lines else f"exit code {result.returncode}"
    return False, first if len(first) <= 300 else first[:300] + "..."


def check(build, threads, work, name, opset, onnx_file, images, reference, quantize, quantize_options):
    """One table row: dict of the stages' outcomes."""
    import numpy as np
    row = {"model": name, "opset": opset, "error": ""}
    stem = work / f"{name}_op{opset}"
    loaded, error = tern(build, threads, "info", str(onnx_file))
    row["loads"] = loaded
    ran, run_error = tern(build, threads, "run", str(onnx_file), "--input", str(images), "--output-dir",
                          str(stem / "float"))
    row["runs"] = ran
    if not loaded or not ran:
        row["error"] = error or run_error
        return row
    ours = np.load(stem / "float" / "output.npy")
    if reference is None:
        row["error"] = "no ONNX Runtime reference"
    else:
        row["rel_err"] = float(np.abs(ours - reference).max() / max(float(np.abs(reference).max()), 1e-30))
        if ours.shape != reference.shape:
            row["rel_err"] = float("inf")
            row["error"] = f"output shape {ours.shape}, ONNX Runtime's {reference.shape}"
    if not quantize:
        return row
    calib = work / f"{name}_calib.npy"
    size = SIZES[name]
    np.save(calib, np.random.default_rng(1).standard_normal((8, 3, size, size), dtype=np.float32))
    quantized = stem / "int8.onnx"
    row["quantizes"], error = tern(build, threads, "quantize", str(onnx_file), "-o", str(quantized), "--calib",
                                   str(calib), "--calib-size", "8", *quantize_options)
    if not row["quantizes"]:
        row["error"] = row["error"] or error
        return row
    row["integer"], error = tern(build, threads, "run", str(quantized), "--integer", "--input", str(images),
                                 "--output-dir", str(stem / "int8"))
    if not row["integer"]:
        row["error"] = row["error"] or error
        return row
    int8 = np.load(stem / "int8" / "output.npy")
    noise = float(np.sum((int8.astype(np.float64) - ours) ** 2))
    row["sqnr"] = 10 * np.log10(float(np.sum(ours.astype(np.float64) ** 2)) / noise) if noise > 0 else float("inf")
    return row


def references(python, jobs):
    """ONNX Runtime's outputs for (onnx, images, target) jobs, in one process: {onnx: error}."""
    result = subprocess.run([str(python), "-c", ORT_RUN, json.dumps([[str(p) for p in job] for job in jobs])],
                            capture_output=True, text=True)
    errors = {}
    for line in result.stdout.splitlines():
        entry = json.loads(line)
        errors[entry["model"]] = entry["error"]
    for job in jobs:
        errors.setdefault(str(job[0]), (result.stderr.strip().splitlines() or ["ONNX Runtime failed"])[-1])
    return errors


def mark(value):
    return "-" if value is None else ("yes" if value else "NO")


def print_row(row):
    rel = row.get("rel_err")
    rel_text = "-" if rel is None else f"{rel:.1e}" + ("" if rel <= TOLERANCE else " FAIL")
    sqnr = row.get("sqnr")
    error = row["error"].replace("|", "/")
    print(f"| {row['model']} | {row['opset']} | {mark(row.get('loads'))} | {mark(row.get('runs'))} | {rel_text} | "
          f"{mark(row.get('quantizes'))} | {mark(row.get('integer'))} | "
          f"{'-' if sqnr is None else f'{sqnr:.1f}'} | {error[:160]} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--models", default=",".join(SIZES), help=f"from {', '.join(SIZES)}")
    parser.add_argument("--opsets", default="11,13,17")
    parser.add_argument("--quick", action="store_true", help="the CTest's subset: " +
                        ", ".join(f"{m}@{o}" for m, o in QUICK))
    parser.add_argument("--no-quantize", action="store_true", help="only load, run and compare")
    parser.add_argument("--require-quantize", action="store_true", help="fail when quantizing fails too")
    parser.add_argument("--keep-float", action="store_true", help="tern quantize --keep-float (what the PTQ cannot "
                        "quantize runs in float)")
    parser.add_argument("--reduce-range", action="store_true", help="tern quantize --reduce-range --optimize-signs "
                        "(weights within ±63, uint8 after ReLU: the integer graphs CPUs without VNNI run on oneDNN's "
                        "int8 primitives, channels last)")
    parser.add_argument("--threads", type=int, default=2, help="tern --threads")
    parser.add_argument("--work", default=None, help="folder for tern's outputs (default: a temporary one)")
    args = parser.parse_args()
    quantize_options = (["--keep-float"] if args.keep_float else []) + (
        ["--reduce-range", "--optimize-signs"] if args.reduce_range else [])
    build = Path(args.build).resolve()
    python = exporter_and_peer(("onnxruntime", "numpy"))
    if python is None:
        return 77
    import numpy as np
    if args.quick:
        cases = QUICK
    else:
        unknown = [m for m in args.models.split(",") if m not in SIZES]
        if unknown:
            parser.error(f"unknown models {unknown}")
        cases = [(m, int(o)) for m in args.models.split(",") for o in args.opsets.split(",")]
    zoo = build / "zoo" / EXPORTS  # a new EXPORTS when export() changes: no stale files reused
    zoo.mkdir(parents=True, exist_ok=True)
    start = time.time()
    files, export_errors = {}, {}
    for name, opset in cases:
        try:
            files[(name, opset)] = export(zoo, name, opset)
        except Exception as error:  # the exporter's failure is a row of the table
            export_errors[(name, opset)] = f"torch.onnx.export: {str(error).splitlines()[0]}"
    with tempfile.TemporaryDirectory(prefix="tern-zoo-") as scratch:
        work = Path(args.work or scratch)
        work.mkdir(parents=True, exist_ok=True)
        jobs = [(onnx_file, images, work / f"{n}_op{o}_ort.npy") for (n, o), (onnx_file, images) in files.items()]
        ort_errors = references(python, jobs)
        print("| model | opset | loads | runs | max err / max|ORT| | quantizes | runs --integer | int8 SQNR dB | "
              "first error |")
        print("| --- | ---: | --- | --- | ---: | --- | --- | ---: | --- |")
        failures = []
        for name, opset in cases:
            if (name, opset) in export_errors:
                print_row({"model": name, "opset": opset, "error": export_errors[(name, opset)]})
                continue
            onnx_file, images = files[(name, opset)]
            target = work / f"{name}_op{opset}_ort.npy"
            reference = np.load(target) if ort_errors.get(str(onnx_file)) is None and target.exists() else None
            row = check(build, args.threads, work, name, opset, onnx_file, images, reference, not args.no_quantize,
                        quantize_options)
            if reference is None:
                row["error"] = row["error"] or f"ONNX Runtime: {ort_errors.get(str(onnx_file))}"
            print_row(row)
            ok = row["loads"] and row["runs"] and row.get("rel_err", float("inf")) <= TOLERANCE
            if args.require_quantize and not args.no_quantize:
                ok = ok and row.get("quantizes") and row.get("integer")
            if not ok:
                failures.append(f"{name} opset {opset}: {row['error'] or 'does not match ONNX Runtime'}")
    print(f"\n{len(cases)} cases in {time.time() - start:.0f} s; tolerance max|tern - ort| <= {TOLERANCE} "
          f"max|ort|; batch of 2 random images; ONNX Runtime from {VENV}.")
    for failure in failures:
        print("FAIL: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
