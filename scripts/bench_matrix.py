#!/usr/bin/python3
"""Issue 13's speed matrix in one run: Tern float and int8 against ONNX Runtime and PyTorch int8.

Models: the four examples (sdk/examples/models, 1x28x28, calibrated on the first 100
Fashion-MNIST training images) and torchvision's resnet18 and mobilenet_v2 (weights=None,
seed 0, 3x224x224, calibrated on 16 random images), exported once to
build/bench/torchvision_*.onnx (delete those files to export them again).

Systems, each at every batch and thread count asked for, timed alike (warm-up, then the best
of five windows; scripts/bench_common.py):
  tern_float    `tern bench MODEL`
  tern_int8     `tern quantize` (defaults: W8A8, MSE) then `tern bench --integer`
  ort_float     ONNX Runtime (PyPI, build/bench-venv), every graph optimisation
  ort_int8      its own quant_pre_process + quantize_static: QDQ, per-channel, QInt8 weights,
                QUInt8 activations (as sdk/examples/models/peers/ort_ptq.py)
On x86 CPUs without VNNI both int8 systems quantize with reduce range (weights within ±63:
`--reduce-range`, reduce_range=True), as ONNX Runtime advises there: the fast int8 kernels of
such CPUs (vpmaddubsw) saturate on full-range weights, and each system then runs them exactly.
Tern adds `--optimize-signs` there (uint8 activations after ReLU), the inputs oneDNN's AVX2
int8 primitives take exactly; ONNX Runtime's activations are uint8 already.
  pytorch_int8  FX graph mode PTQ (torch.ao.quantization) on the fbgemm engine, or on onednn
                where this torch build has no fbgemm; skipped, with the reason, where it cannot run

Prints images/s and the ratios issue 13 asks for, each marked against its bar: Tern float /
ORT float >= 1.0, Tern int8 / Tern float >= 1.3 (>= 2 on the 224x224 shapes), Tern int8 /
ORT int8 >= 1.0; at batch 1 the bars are 0.8x those. Results also go to build/bench/matrix.json.

    make build && /usr/bin/python3 scripts/bench_matrix.py [--models convnet,resnet18]
        [--batches 1,64] [--threads 1,2] [--seconds 3] [--json FILE] [--build DIR]

Exits 1 when a Tern or ONNX Runtime measurement failed (the table says which and why).
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import torch

from bench_common import (ROOT, BenchError, cpu_name, export, int8_kernels_saturate, ort_rate, run_json, tern_json,
                          tern_rate, torch_rate)
from peer_venv import TORCH_VENV, VENV, ensure_torch_venv, ensure_venv

PEERS_DIR = ROOT / "sdk" / "examples" / "models" / "peers"
EXAMPLES = ("convnet", "convnet_bn", "resnet_tiny", "mobilenet_tiny")
TORCHVISION = ("resnet18", "mobilenet_v2")
SYSTEMS = ("tern_float", "tern_int8", "ort_float", "ort_int8", "pytorch_int8")
HEADINGS = ("Tern f32", "Tern int8", "ORT f32", "ORT int8", "PyTorch int8")
# (heading, numerator, denominator, bar, bar on the 224x224 shapes): issue 13's Must-show.
RATIOS = (("Tern f32 / ORT f32", "tern_float", "ort_float", 1.0, 1.0),
          ("Tern int8 / Tern f32", "tern_int8", "tern_float", 1.3, 2.0),
          ("Tern int8 / ORT int8", "tern_int8", "ort_int8", 1.0, 1.0))
BATCH1_SLACK = 0.8  # "at batch 1 the same ratios within 0.8x"


class Skipped(Exception):
    """A peer that cannot run here; the message says why (not a failure of the benchmark)."""


def shape_of(name):
    return (3, 224, 224) if name in TORCHVISION else (1, 28, 28)


def torchvision_module(name):
    """torchvision's network with seed-0 random weights."""
    import torchvision

    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None).eval()


def float_model(name, work):
    """The float ONNX file of a model; torchvision's are exported once and cached in `work`."""
    if name in EXAMPLES:
        return ROOT / "sdk" / "examples" / "models" / f"{name}.onnx"
    path = work / f"torchvision_{name}.onnx"
    if not path.exists():
        export(torchvision_module(name), shape_of(name), path)
    return path


def calibration(name, work):
    """The calibration images every system uses, saved as NPY: the first 100 Fashion-MNIST
    training images for the examples, 16 seeded random images for the 224x224 shapes."""
    if name in EXAMPLES:
        sys.path.insert(0, str(ROOT / "sdk" / "examples" / "models"))
        import fashion_mnist

        images = fashion_mnist.load("train")[0][:100]
    else:
        images = np.random.default_rng(0).random((16, *shape_of(name)), dtype=np.float32)
    path = work / f"{name}_calib.npy"
    np.save(path, images)
    return path


def tern_int8(build, model, calib, work):
    """`tern quantize` with its defaults (W8A8, MSE) over the calibration file."""
    out = work / f"{model.stem}_tern_int8.onnx"
    reduce_range = ["--optimize-signs", "--reduce-range"] if int8_kernels_saturate() else []
    tern_json(build, "quantize", model, "--calib", calib, "--calib-size", len(np.load(calib)), "-o", out, *reduce_range)
    return out


# Runs inside the ONNX Runtime venv: ONNX Runtime's own static QDQ quantization of a float
# model, with ort_ptq.py's calibration reader and settings (per-channel, MinMax).
ORT_QUANTIZE = """
import json, sys, numpy as np, onnxruntime as ort
model, calib, out, peers, reduce_range = sys.argv[1:6]
sys.path.insert(0, peers)
from ort_ptq import CalibReader, oq
name = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).get_inputs()[0].name
oq.quant_pre_process(model, out + ".pre.onnx", skip_symbolic_shape=True)
oq.quantize_static(out + ".pre.onnx", out, CalibReader(np.load(calib), name), quant_format=oq.QuantFormat.QDQ,
                   per_channel=True, reduce_range=reduce_range == "1", activation_type=oq.QuantType.QUInt8,
                   weight_type=oq.QuantType.QInt8)
print(json.dumps({"output": out}))
"""


def ort_int8(python, model, calib, work):
    out = work / f"{model.stem}_ort_int8.onnx"
    reduce_range = "1" if int8_kernels_saturate() else "0"
    run_json([python, "-c", ORT_QUANTIZE, model, calib, out, PEERS_DIR, reduce_range],
             what=f"ONNX Runtime quantize_static of {model.name}")
    return out


def quantized_engine():
    """fbgemm when this torch build has it, else onednn (x86 int8 too); None when neither."""
    engines = torch.backends.quantized.supported_engines
    return next((engine for engine in ("fbgemm", "onednn") if engine in engines), None)


def example_module(name, model):
    """An example model as a PyTorch module, rebuilt from its ONNX file by the PTQ peer script."""
    sys.path.insert(0, str(PEERS_DIR))
    import pytorch_ptq

    try:
        return pytorch_ptq.module_from_onnx(name, str(model))
    except ImportError as error:
        raise Skipped(f"rebuilding the module from ONNX needs the onnx Python package (python3-onnx): {error}")


def pytorch_int8(name, model, calib):
    """FX graph mode PTQ of the model's PyTorch module with the engine's default qconfig."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    engine = quantized_engine()
    if engine is None:
        raise Skipped(f"torch {torch.__version__} has neither fbgemm nor onednn quantized engines "
                      f"({torch.backends.quantized.supported_engines})")
    torch.backends.quantized.engine = engine
    images = torch.from_numpy(np.load(calib))
    try:
        module = torchvision_module(name) if name in TORCHVISION else example_module(name, model)
        prepared = prepare_fx(module, get_default_qconfig_mapping(engine), example_inputs=(images[:1],))
        with torch.no_grad():
            prepared(images)
        return convert_fx(prepared)
    except Skipped:
        raise
    except Exception as error:  # noqa: BLE001  (FX tracing or a missing kernel: PyTorch does not run it)
        raise Skipped(f"FX PTQ on {engine}: {str(error).strip().splitlines()[0]}") from error


def ort_images(python, path, batch, threads, seconds):
    return ort_rate(python, path, batch, threads, seconds)["images_per_second"]


def pytorch_rate(module, shape, batch, threads, seconds):
    """torch_rate of a quantized module; a kernel the engine lacks makes it Skipped, not a crash."""
    try:
        return torch_rate(module, shape, batch, threads, seconds)
    except Exception as error:  # noqa: BLE001
        raise Skipped(f"the quantized module does not run: {str(error).strip().splitlines()[0]}") from error


def attempt(notes, where, function, *args):
    """function(*args), or None with the one-line reason appended to notes (`where` says for
    which model, system and, once measuring, batch and threads)."""
    try:
        return function(*args)
    except (BenchError, Skipped) as error:
        notes.append({**where, "note": ("skipped: " if isinstance(error, Skipped) else "FAILED: ") + str(error)})
        return None


def ratio_cells(name, batch, rates):
    """Each ratio of RATIOS with its bar for this model and batch, and whether it meets it."""
    cells = {}
    for heading, numerator, denominator, bar, bar_224 in RATIOS:
        bar = (bar_224 if name in TORCHVISION else bar) * (BATCH1_SLACK if batch == 1 else 1.0)
        value = rates[numerator] / rates[denominator] if rates[numerator] and rates[denominator] else None
        cells[heading] = {"value": value, "bar": bar, "meets": None if value is None else value >= bar}
    return cells


def rate_text(value):
    return "—" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def ratio_text(cell):
    if cell["value"] is None:
        return "—"
    return f"{cell['value']:.2f}× " + ("ok" if cell["meets"] else f"< {cell['bar']:.2f}")


def measure(args, python, work, notes):
    """Prepares every model's quantized forms (in work/matrix; torchvision's float files are
    cached in work), then measures and prints one table row per model, batch and thread
    count; returns the rows."""
    print("| model | batch | threads | " + " | ".join(HEADINGS) + " | " + " | ".join(r[0] for r in RATIOS) + " |")
    print("|---|---:|---:|" + "---:|" * (len(HEADINGS) + len(RATIOS)))
    rows = []
    for name in args.models:
        model, scratch = float_model(name, work), work / "matrix"
        calib = calibration(name, scratch)
        forms = {system: attempt(notes, {"model": name, "system": system}, function, *inputs)
                 for system, function, *inputs in (("tern_int8", tern_int8, args.build, model, calib, scratch),
                                                   ("ort_int8", ort_int8, python, model, calib, scratch),
                                                   ("pytorch_int8", pytorch_int8, name, model, calib))}
        # Each system as a function of (batch, threads, seconds); None where its model is missing.
        runs = {"tern_float": lambda *timing: tern_rate(args.build, model, *timing),
                "tern_int8": forms["tern_int8"] and (lambda *timing: tern_rate(args.build, forms["tern_int8"], *timing,
                                                                                 integer=True)),
                "ort_float": lambda *timing: ort_images(python, model, *timing),
                "ort_int8": forms["ort_int8"] and (lambda *timing: ort_images(python, forms["ort_int8"], *timing)),
                "pytorch_int8": forms["pytorch_int8"] and (lambda *timing: pytorch_rate(forms["pytorch_int8"],
                                                                                        shape_of(name), *timing))}
        for batch in args.batches:
            for threads in args.threads:
                rates = {system: run and attempt(notes, {"model": name, "system": system, "batch": batch,
                                                         "threads": threads}, run, batch, threads, args.seconds)
                         for system, run in runs.items()}
                ratios = ratio_cells(name, batch, rates)
                rows.append({"model": name, "batch": batch, "threads": threads, "images_per_second": rates,
                             "ratios": ratios})
                print(f"| {name} | {batch} | {threads} | " + " | ".join(rate_text(rates[s]) for s in SYSTEMS) + " | "
                      + " | ".join(ratio_text(ratios[r[0]]) for r in RATIOS) + " |", flush=True)
    return rows


def summary(rows):
    """One line per ratio: how many rows meet its bar, and which miss it."""
    lines = []
    for heading, *_ in RATIOS:
        cells = [(row, row["ratios"][heading]) for row in rows if row["ratios"][heading]["meets"] is not None]
        missed = [f"{row['model']} b{row['batch']} t{row['threads']}" for row, cell in cells if not cell["meets"]]
        lines.append(f"{heading}: {len(cells) - len(missed)} of {len(cells)} meet the bar"
                     + (f"; below it: {', '.join(missed)}" if missed else ""))
    return lines


def comma_list(kind):
    return lambda text: [kind(item) for item in text.split(",") if item]


def rerun_with_the_onnx_package():
    """Re-runs this script in build/torch-venv (Debian's torch, the onnx package from PyPI)
    when this python cannot import the onnx package, which PyTorch int8 needs to rebuild the
    example models: Debian 12 has no python3-onnx, and libonnx-testdata's onnx/ folder
    shadows the name. Returns when this python will do (or the venv cannot be made: the
    PyTorch rows then say why they are empty)."""
    try:
        from onnx import numpy_helper  # noqa: F401
        return
    except ImportError:
        pass
    if pathlib.Path(sys.prefix).resolve() == TORCH_VENV.resolve():
        return
    try:
        python = ensure_torch_venv()
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"(no PyTorch int8 on the example models: {TORCH_VENV} could not be made: {error})", file=sys.stderr)
        return
    os.execv(str(python), [str(python), str(pathlib.Path(__file__).resolve()), *sys.argv[1:]])


def main():
    rerun_with_the_onnx_package()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=comma_list(str), default=list(EXAMPLES + TORCHVISION),
                        help=f"comma list of {','.join(EXAMPLES + TORCHVISION)} (default: all)")
    parser.add_argument("--batches", type=comma_list(int), default=[1, 64], help="comma list (default 1,64)")
    parser.add_argument("--threads", type=comma_list(int), default=[1, 2], help="comma list (default 1,2)")
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per system and configuration")
    parser.add_argument("--json", type=pathlib.Path, help="also write the results here")
    parser.add_argument("--build", type=pathlib.Path, default=ROOT / "build", help="the build folder whose bin/tern is measured")
    args = parser.parse_args()
    args.build = args.build.resolve()
    unknown = sorted(set(args.models) - set(EXAMPLES + TORCHVISION))
    if unknown:
        sys.exit(f"unknown model(s) {','.join(unknown)}: choose from {','.join(EXAMPLES + TORCHVISION)}")
    if not (args.build / "bin" / "tern").exists():
        sys.exit(f"build Tern first: no {args.build / 'bin' / 'tern'}")
    work = args.build / "bench"
    (work / "matrix").mkdir(parents=True, exist_ok=True)
    try:
        python = ensure_venv(("onnxruntime", "numpy", "onnx"))
    except (OSError, subprocess.CalledProcessError) as error:
        sys.exit(f"ONNX Runtime could not be installed from PyPI into {VENV}: {error}")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    versions = {"tern": f"{tern_json(args.build, 'version')['version']} ({commit.stdout.strip() or 'no git'})",
                "torch": torch.__version__,
                "onnxruntime": run_json([python, "-c", "import json, onnxruntime; print(json.dumps(onnxruntime.__version__))"]),
                "pytorch_engine": quantized_engine()}
    meta = {"cpu": cpu_name(), "cores": os.cpu_count(), "load_average_start": os.getloadavg(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "seconds": args.seconds,
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "versions": versions}
    print(f"{meta['cpu']}, {meta['cores']} cores, load average {meta['load_average_start'][0]:.1f}; "
          f"Tern {versions['tern']}, ONNX Runtime {versions['onnxruntime']}, torch {versions['torch']} "
          f"(int8 engine {versions['pytorch_engine']}); images/s, best of 5 windows over {args.seconds} s")
    if meta["load_average_start"][0] >= meta["cores"] / 2 and not meta["omp_wait_policy"]:
        print("The machine is busy: OpenMP threads spin while they wait and collapse Tern's and PyTorch's "
              "multi-thread figures here; OMP_WAIT_POLICY=passive avoids it (README, Speed)")
    print("Bars: " + ", ".join(f"{heading} >= {bar:g}" + (f" (>= {bar_224:g} at 224x224)" if bar_224 != bar else "")
                               for heading, _, _, bar, bar_224 in RATIOS) + f"; at batch 1 {BATCH1_SLACK:g}x those\n")
    notes = []
    rows = measure(args, python, work, notes)
    meta["load_average_end"] = os.getloadavg()
    print()
    for line in summary(rows):
        print(line)
    for note in notes:
        where = f" at batch {note['batch']}, {note['threads']} thread(s)" if "batch" in note else ""
        print(f"{note['model']} {note['system']}{where}: {note['note']}")
    print(f"load average at the end {meta['load_average_end'][0]:.1f}")
    results = json.dumps({"meta": meta, "rows": rows, "notes": notes}, indent=1)
    for path in {work / "matrix.json", *([args.json] if args.json else [])}:
        path.write_text(results)
    return 1 if any(note["note"].startswith("FAILED") for note in notes) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        sys.exit(str(error))
