#!/usr/bin/env python3
"""PTQ benchmark, printed in one run (the figures in README.md come from here):

  1. PTQ wall time (MSE clipping, 1,000 calibration images) against one float eval pass
     over the same images;
  2. int8 against float32 images/s at batch 64 on the ConvNet and the ResNet-18 shape
     (the quantized file run with `tern bench --integer`);
  3. accuracy and PTQ time of Tern against PyTorch, ONNX Runtime and AIDGE (their scripts
     in sdk/examples/models/peers/, rerun here) at W8A8 and 4 bits on every example model,
     on all 10,000 Fashion-MNIST test images with the same 100 calibration images. Tern's
     rows: the seed's two settings, every other clipping mode at W8A8 (per-tensor and
     per-channel), 4 bits per-channel with and without AdaRound, and W4A4 mixed precision.
     Printed as one table row per system and setting, one column per model.

    python3 scripts/bench_ptq.py [--build build] [--models convnet ...] [--peers aidge,pytorch,ort | --peers none]

Results also go to BUILD/bench/ptq_results.json.
"""
import argparse
import json
import subprocess
import sys

from bench_common import ROOT, BenchError, export, tern_json as tern
from peer_venv import ensure_torch_venv

MODELS = ["convnet", "convnet_bn", "resnet_tiny", "mobilenet_tiny"]
# peer -> (its python, its script). PyTorch's reads the example models with the ONNX package,
# which Debian 12 lacks beside python3-torch: a venv that sees both (peer_venv.py).
PEERS = {
    "pytorch": (ensure_torch_venv, "sdk/examples/models/peers/pytorch_ptq.py"),
    "ort": (lambda: "python3", "sdk/examples/models/peers/ort_ptq.py"),
    "aidge": (lambda: "python3", "sdk/examples/models/peers/aidge_ptq.py"),
}
W8A8 = ["--weights", "int8", "--activations", "int8", "--accumulation", "int32"]  # integer execution
W4A8 = ["--weights", "int4", "--activations", "int8", "--accumulation", "int32", "--fake"]
W4A4 = ["--weights", "int4", "--activations", "int4", "--accumulation", "int16", "--fake"]
SEED_W8A8 = "W8A8 seed (int8/int8/int32, MSE, integer execution)"
SEED_4BIT = "4-bit seed (int4/int4/int16, MSE, fake, per-tensor)"
# Tern's rows (setting, tern quantize options): the seed's two settings, then what issue 12
# compares with the peers: the other clipping modes at 8 bits, AdaRound at 4 bits (beside
# rounding to nearest) and mixed precision.
TERN_CONFIGS = [
    (SEED_W8A8, [*W8A8, "--clipping", "mse"]),
    *[(f"W8A8 {clipping}{', per-channel' if per_channel else ''}", [*W8A8, "--clipping", clipping, *per_channel])
      for clipping in ("kl", "aa", "percentile") for per_channel in ([], ["--per-channel"])],
    (SEED_4BIT, [*W4A4, "--clipping", "mse"]),
    ("4-bit per-channel (int4/int4/int16, MSE, fake)", [*W4A4, "--clipping", "mse", "--per-channel"]),
    ("W4A8 per-channel (MSE, fake)", [*W4A8, "--clipping", "mse", "--per-channel"]),
    ("W4A8 per-channel + AdaRound", [*W4A8, "--clipping", "mse", "--per-channel", "--adaround"]),
    ("W4A4 per-channel + AdaRound", [*W4A4, "--clipping", "mse", "--per-channel", "--adaround"]),
    ("W4A4 per-channel + mixed precision (budget 0.25)",
     [*W4A4, "--clipping", "mse", "--per-channel", "--mixed-precision", "--mixed-budget", "0.25"]),
]


def ptq_time_vs_eval(build, out_dir):
    """Best of three, at all threads and at one: PTQ seconds over 1,000 images against one
    float eval pass over them."""
    rows = []
    for threads in ("0", "1"):
        ptq, evaluation = [], []
        for _ in range(3):
            q = tern(build, "quantize", "sdk/examples/models/convnet.onnx", "--calib-size", "1000", "--clipping", "mse",
                     "--threads", threads, "-o", str(out_dir / "convnet_timing.onnx"))
            ptq.append(sum(q["seconds"].values()))
            e = tern(build, "eval", "sdk/examples/models/convnet.onnx", "--split", "train", "--limit", "1000", "--threads", threads)
            evaluation.append(e["samples"] / e["images_per_second"])
        rows.append({"threads": "all" if threads == "0" else threads, "ptq_seconds": min(ptq),
                     "eval_seconds": min(evaluation), "ratio": min(ptq) / min(evaluation)})
    return rows


def int8_speed(build, out_dir):
    import numpy as np

    rows = []
    resnet = build / "bench" / "resnet18.onnx"
    if not resnet.exists():  # the same random-weight ResNet-18 that scripts/bench_cpu.py exports
        import bench_cpu

        resnet.parent.mkdir(parents=True, exist_ok=True)
        export(bench_cpu.ResNet18(), (3, 224, 224), resnet)
    calib = out_dir / "random_3x224.npy"
    np.save(calib, np.random.default_rng(0).random((16, 3, 224, 224), dtype=np.float32))
    for name, model, calib_args in (("ConvNet", ROOT / "sdk/examples/models/convnet.onnx", []),
                                    ("ResNet-18 224x224", resnet, ["--calib", str(calib), "--calib-size", "16"])):
        if not model.exists():
            print(f"  (skipped {name}: {model} missing; run scripts/bench_cpu.py once)")
            continue
        quantized = out_dir / (model.stem + "_int8.onnx")
        tern(build, "quantize", str(model), *calib_args, "-o", str(quantized))
        # One thread too: on a busy machine OpenMP's spinning threads blur the all-core figure.
        for threads in ("0", "1"):
            common = ["--batch", "64", "--seconds", "4", "--threads", threads]
            f32 = tern(build, "bench", str(model), *common)["images_per_second"]
            i8 = tern(build, "bench", str(quantized), "--integer", *common)["images_per_second"]
            rows.append({"model": name, "threads": "all" if threads == "0" else threads, "float32": f32, "int8": i8, "ratio": i8 / f32})
    return rows


def tern_rows(build, model, out_dir):
    """One row per TERN_CONFIGS setting; a setting tern refuses or fails keeps its one-line
    error in the row (quant_acc None) so that the other settings still run."""
    rows = []
    for config, args in TERN_CONFIGS:
        row = {"model": model, "peer": "Tern", "config": config, "float_acc": None, "quant_acc": None}
        try:
            q = tern(build, "quantize", f"sdk/examples/models/{model}.onnx", *args,
                     "--eval", "fashion-mnist", "-o", str(out_dir / f"{model}_q.onnx"))
            row.update(float_acc=q["float_accuracy"], quant_acc=q["quantized_accuracy"], ptq_s=sum(q["seconds"].values()))
        except BenchError as error:
            row["error"] = str(error)
        rows.append(row)
    return rows


def peer_rows(peer, model, out_dir):
    path = out_dir / f"{peer}_{model}.json"
    python, script = PEERS[peer]
    subprocess.run(["nice", "-n", "19", str(python()), script, "--model", model, "--json", str(path)], cwd=ROOT,
                   check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not path.exists():
        return [{"model": model, "peer": peer, "config": "(peer script failed)", "float_acc": None, "quant_acc": None}]
    return [{"model": model, "peer": row["peer"], "config": row["config"], "float_acc": row.get("float_acc"),
             "quant_acc": row.get("quant_acc") if row.get("status", "ok") == "ok" else None,
             "ptq_s": row.get("calib_s")} for row in json.loads(path.read_text())["rows"]]


ORT_CHECK = """
import sys, numpy as np, onnxruntime as ort
session = ort.InferenceSession(sys.argv[1])
x = np.load(sys.argv[2]).astype(np.float32)
scaled = np.clip(np.rint(x * float(sys.argv[3])), -float(sys.argv[4]), float(sys.argv[4])).astype(np.float32)
np.save(sys.argv[5], session.run(None, {session.get_inputs()[0].name: scaled})[0])
"""


def onnx_runtime_agrees(build, out_dir):
    """ONNX Runtime runs the saved quantized ConvNet; its logits against `tern run`'s."""
    import numpy as np

    python = ROOT / "build" / "peers-venv" / "bin" / "python"
    if not python.exists():
        return None
    model = out_dir / "convnet_int8.onnx"
    images = out_dir / "images.npy"
    np.save(images, np.random.default_rng(1).random((16, 1, 28, 28), dtype=np.float32))
    subprocess.run([str(python), "-c", ORT_CHECK, str(model), str(images), "127", "127", str(out_dir / "ort.npy")], check=True)
    tern(build, "run", str(model), "--input", str(images), "--output-dir", str(out_dir / "run"))
    return float(np.abs(np.load(out_dir / "ort.npy") - np.load(out_dir / "run" / "logits.npy")).max())


def percent(value):
    return "failed" if value is None else f"{100 * value:.2f} %"


def accuracy_cell(row):
    """Top-1, and in brackets its change in points from the same system's float model."""
    if row is None or row["quant_acc"] is None:
        return "" if row is None else "failed"
    change = "" if row["float_acc"] is None else f" ({100 * (row['quant_acc'] - row['float_acc']):+.2f})"
    return percent(row["quant_acc"]) + change


def seconds_cell(row):
    return "" if row is None or row.get("ptq_s") is None else f"{row['ptq_s']:.2f}"


def by_setting(table, models, cell, float_rows):
    """Markdown lines: one row per system and setting (in the order run), one column per model,
    each cell cell(row); with float_rows, each system's float accuracy heads its rows."""
    rows = {(row["peer"], row["config"], row["model"]): row for row in table}
    lines = ["| system | setting | " + " | ".join(models) + " |", "|---|---|" + "---:|" * len(models)]
    systems_seen = set()
    for peer, config in dict.fromkeys((row["peer"], row["config"]) for row in table):
        if float_rows and peer not in systems_seen:
            systems_seen.add(peer)
            floats = [next((percent(row["float_acc"]) for row in table
                            if row["peer"] == peer and row["model"] == model and row["float_acc"] is not None), "")
                      for model in models]
            lines.append(f"| {peer} | float | " + " | ".join(floats) + " |")
        lines.append(f"| {peer} | {config} | " + " | ".join(cell(rows.get((peer, config, model))) for model in models) + " |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--models", nargs="*", default=MODELS)
    parser.add_argument("--peers", default="aidge,pytorch,ort", help="comma list, or none")
    args = parser.parse_args()
    build = (ROOT / args.build).resolve()
    peers = [] if args.peers == "none" else args.peers.split(",")
    out_dir = build / "bench" / "ptq"
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {}

    print("1. PTQ wall time vs one float eval pass (ConvNet, 1,000 train images, MSE clipping, best of 3)")
    results["ptq_time"] = timing = ptq_time_vs_eval(build, out_dir)
    for row in timing:
        print(f"   {row['threads']} thread(s): PTQ {row['ptq_seconds']:.2f} s, eval {row['eval_seconds']:.2f} s: {row['ratio']:.2f}x (target <= 3x)")

    print("2. int8 vs float32 images/s at batch 64 (tern bench, best window)")
    results["int8_speed"] = speed = int8_speed(build, out_dir)
    for row in speed:
        print(f"   {row['model']}, {row['threads']} thread(s): float32 {row['float32']:.0f}, int8 {row['int8']:.0f} images/s: {row['ratio']:.2f}x")

    difference = onnx_runtime_agrees(build, out_dir)
    results["onnx_runtime_max_abs_difference"] = difference
    if difference is not None:
        print(f"   ONNX Runtime runs the saved int8 ConvNet (fake-quantized form): max |logit difference| vs tern run {difference:g}")

    print("3. Accuracy on 10,000 test images and PTQ seconds, Tern against the peers (same 100 calibration images)")
    table = []
    for model in args.models:
        table += tern_rows(build, model, out_dir)
        for peer in peers:
            table += peer_rows(peer, model, out_dir)
    results["accuracy"] = table
    print("Top-1 (in brackets: change in points from the same system's float model)")
    print("\n".join(by_setting(table, args.models, accuracy_cell, float_rows=True)))
    print("\nPTQ seconds (quantization and calibration, not the evaluation)")
    print("\n".join(by_setting(table, args.models, seconds_cell, float_rows=False)))
    for model in args.models:
        for tern_config, aidge_prefix in ((SEED_W8A8, "8-bit"), (SEED_4BIT, "4-bit")):
            ours = next(r["quant_acc"] for r in table if r["model"] == model and r["config"] == tern_config)
            theirs = [r["quant_acc"] for r in table if r["model"] == model and r["peer"].startswith("AIDGE") and r["config"].startswith(aidge_prefix)]
            if theirs:
                verdict = "AIDGE failed" if theirs[0] is None else ("ok" if ours >= theirs[0] else "BELOW AIDGE")
                print(f"   {model} {aidge_prefix}: Tern {percent(ours)} vs AIDGE {percent(theirs[0])}: {verdict}")
    (build / "bench" / "ptq_results.json").write_text(json.dumps(results, indent=1))
    errors = [row["error"] for row in table if "error" in row]
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        sys.exit(str(error))
