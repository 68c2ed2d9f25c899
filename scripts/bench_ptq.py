#!/usr/bin/env python3
"""PTQ benchmark, printed in one run (the figures in README.md come from here):

  1. PTQ wall time (MSE clipping, 1,000 calibration images) against one float eval pass
     over the same images;
  2. int8 against float32 images/s at batch 64 on the ConvNet and the ResNet-18 shape
     (the quantized file run with `tern bench --integer`);
  3. accuracy and PTQ time of Tern against PyTorch, ONNX Runtime and AIDGE (their scripts
     in sdk/examples/models/peers/, rerun here) at W8A8 and 4 bits on every example model,
     on all 10,000 Fashion-MNIST test images with the same 100 calibration images.

    python3 scripts/bench_ptq.py [--build build] [--models convnet ...] [--peers aidge,pytorch,ort | --peers none]

Results also go to BUILD/bench/ptq_results.json.
"""
import argparse
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = ["convnet", "convnet_bn", "resnet_tiny", "mobilenet_tiny"]
PEERS = {
    "pytorch": ["nice", "-n", "19", "/usr/bin/python3", "sdk/examples/models/peers/pytorch_ptq.py"],
    "ort": ["nice", "-n", "19", "python3", "sdk/examples/models/peers/ort_ptq.py"],
    "aidge": ["nice", "-n", "19", "python3", "sdk/examples/models/peers/aidge_ptq.py"],
}
# Tern's rows: the seed's two settings, then per-channel 4 bits.
TERN_CONFIGS = [
    ("W8A8 seed (int8/int8/int32, MSE, integer execution)", ["--weights", "int8", "--activations", "int8", "--accumulation", "int32"]),
    ("4-bit seed (int4/int4/int16, MSE, fake, per-tensor)", ["--weights", "int4", "--activations", "int4", "--accumulation", "int16", "--fake"]),
    ("4-bit per-channel (int4/int4/int16, MSE, fake)", ["--weights", "int4", "--activations", "int4", "--accumulation", "int16", "--fake", "--per-channel"]),
]


def tern(build, *args):
    result = subprocess.run([str(build / "bin" / "tern"), *args, "--json"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"tern {' '.join(args)} failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


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
        sys.path.insert(0, str(ROOT / "scripts"))
        import bench_cpu

        resnet.parent.mkdir(parents=True, exist_ok=True)
        bench_cpu.export(bench_cpu.ResNet18(), (3, 224, 224), resnet)
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
    rows = []
    for config, args in TERN_CONFIGS:
        q = tern(build, "quantize", f"sdk/examples/models/{model}.onnx", "--clipping", "mse", *args,
                 "--eval", "fashion-mnist", "-o", str(out_dir / f"{model}_q.onnx"))
        rows.append({"model": model, "peer": "Tern", "config": config, "float_acc": q["float_accuracy"],
                     "quant_acc": q["quantized_accuracy"], "ptq_s": sum(q["seconds"].values())})
    return rows


def peer_rows(peer, model, out_dir):
    path = out_dir / f"{peer}_{model}.json"
    subprocess.run([*PEERS[peer], "--model", model, "--json", str(path)], cwd=ROOT, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    print("| model | system | setting | float | quantized | drop | PTQ s |")
    print("|---|---|---|---|---|---|---|")
    for row in table:
        drop = "" if row["quant_acc"] is None or row["float_acc"] is None else f"{100 * (row['float_acc'] - row['quant_acc']):.2f}"
        ptq_s = "" if row.get("ptq_s") is None else f"{row['ptq_s']:.2f}"
        print(f"| {row['model']} | {row['peer']} | {row['config']} | {percent(row['float_acc'])} | {percent(row['quant_acc'])} | {drop} | {ptq_s} |")
    for model in args.models:
        for tern_config, aidge_prefix in ((TERN_CONFIGS[0][0], "8-bit"), (TERN_CONFIGS[1][0], "4-bit")):
            ours = next(r["quant_acc"] for r in table if r["model"] == model and r["config"] == tern_config)
            theirs = [r["quant_acc"] for r in table if r["model"] == model and r["peer"].startswith("AIDGE") and r["config"].startswith(aidge_prefix)]
            if theirs:
                verdict = "AIDGE failed" if theirs[0] is None else ("ok" if ours >= theirs[0] else "BELOW AIDGE")
                print(f"   {model} {aidge_prefix}: Tern {percent(ours)} vs AIDGE {percent(theirs[0])}: {verdict}")
    (build / "bench" / "ptq_results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
