"""Helpers the speed and PTQ benchmark scripts share (bench_cpu.py, bench_matrix.py,
bench_ptq.py): running `tern` and the ONNX Runtime venv for JSON, timing a callable the same
way in every system, and exporting a PyTorch model to ONNX.

Every system is timed alike: one warm-up run, then the best images/s over five windows of
seconds/5 each, because the machines these scripts run on are shared and noisy.
"""
import json
import pathlib
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


class BenchError(RuntimeError):
    """A command a benchmark depends on failed; the message is one line that says which and why."""


def run_json(command, what=None):
    """Runs `command` and returns its standard output parsed as JSON; on failure raises
    BenchError with the last line the command wrote to standard error."""
    what = what or " ".join(map(str, command[:3]))
    try:
        result = subprocess.run([str(part) for part in command], cwd=ROOT, capture_output=True, text=True)
    except OSError as error:  # e.g. the binary is being relinked by a build
        raise BenchError(f"{what} failed: {error}") from error
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or [f"exit status {result.returncode}"]
        raise BenchError(f"{what} failed: {lines[-1].strip()}")
    return json.loads(result.stdout)


def tern_json(build, *args):
    """`BUILD/bin/tern ARGS --json`, parsed."""
    return run_json([build / "bin" / "tern", *args, "--json"], what=f"tern {' '.join(map(str, args))}")


def tern_rate(build, path, batch, threads, seconds, integer=False):
    """images/s of `tern bench` (with --integer for a model saved by tern quantize)."""
    return tern_json(build, "bench", path, "--batch", batch, "--threads", threads, "--seconds", seconds,
                     *(["--integer"] if integer else []))["images_per_second"]


def best_rate(run, batch, seconds):
    """Best images/s over five windows after a warm-up: the machine is shared and noisy."""
    run()
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start, count = time.perf_counter(), 0
        while time.perf_counter() - start < seconds / 5:
            run()
            count += 1
        best = max(best, count * batch / (time.perf_counter() - start))
    return best


def torch_rate(model, shape, batch, threads, seconds):
    """images/s of a PyTorch module (float or quantized) on random inputs of `shape`."""
    import torch

    torch.set_num_threads(threads)
    x = torch.rand(batch, *shape)
    with torch.inference_mode():
        return best_rate(lambda: model(x), batch, seconds)


# Runs inside the ONNX Runtime venv: the same warm-up and windows as best_rate.
ORT_SCRIPT = """
import json, sys, time, numpy as np, onnxruntime as ort
path, batch, threads, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
options = ort.SessionOptions()
options.intra_op_num_threads = threads
options.inter_op_num_threads = 1
session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
shape = [batch] + session.get_inputs()[0].shape[1:]
feed = {session.get_inputs()[0].name: np.random.rand(*shape).astype(np.float32)}
session.run(None, feed)
best, deadline = 0.0, time.perf_counter() + seconds
while time.perf_counter() < deadline:
    start, count = time.perf_counter(), 0
    while time.perf_counter() - start < seconds / 5:
        session.run(None, feed)
        count += 1
    best = max(best, count * batch / (time.perf_counter() - start))
print(json.dumps({"images_per_second": best, "version": ort.__version__}))
"""


def ort_rate(python, path, batch, threads, seconds):
    """{"images_per_second", "version"} of ONNX Runtime's CPU provider (all graph
    optimisations, `threads` intra-op threads) run by the venv's `python`."""
    return run_json([python, "-c", ORT_SCRIPT, path, batch, threads, seconds], what=f"ONNX Runtime on {path}")


def export(model, shape, path):
    """ONNX (opset 13) of a PyTorch module, input "input" of `shape` with a dynamic batch."""
    import torch

    torch.onnx.export(model, torch.rand(1, *shape), str(path), opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})


def int8_kernels_saturate():
    """Whether the fast int8 kernels of this CPU (oneDNN's, ONNX Runtime's fused u8s8 ones)
    saturate on full-range 8-bit weights. On x86 they multiply uint8 activations by int8
    weights; without VNNI that is vpmaddubsw, whose int16 sum of two products saturates
    (255 * 127 * 2 > 32767): weights within ±63 (Tern's --reduce-range, ONNX Runtime's
    reduce_range) never do. With VNNI or AMX, and on Arm, they are exact."""
    try:
        flags = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    if " avx2" not in flags:
        return False  # not an x86 CPU whose kernels take the AVX2 path
    return not any(flag in flags for flag in (" avx512_vnni", " avx_vnni", " amx_int8"))


def cpu_name():
    """The CPU's model name from /proc/cpuinfo."""
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"
