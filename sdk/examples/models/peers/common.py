"""Shared plumbing for the PTQ peer scripts (pytorch_ptq.py, ort_ptq.py,
aidge_ptq.py): virtual-environment bootstrap, dataset loading (through
../fashion_mnist.py), accuracy and timing, the results table and --json.

Every peer runs the same protocol on every model:

* calibration set: the FIRST N images of the Fashion-MNIST TRAINING split
  (N = 100 by default, like the seed tutorial's NB_SAMPLES; --calib N);
* test set: the 10,000 test images, in batches of --batch (100) images;
* float accuracy of the model as the peer runs it, then for each quantization
  configuration: calibration time (wall and process CPU seconds of the whole
  quantization call: observers/calibration + conversion) and the quantized
  model's test accuracy and images/s.

This module imports only the standard library at top level (numpy lazily), so
that the bootstrap can run under any python3 before the venv exists.

``python3 common.py table a.json b.json ...`` merges result files into the
markdown table of MODELS.md.
"""

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time

PEERS_DIR = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.dirname(PEERS_DIR)
REPO_ROOT = os.path.abspath(os.path.join(MODELS_DIR, "..", "..", ".."))
ALL_MODELS = ("convnet", "convnet_bn", "resnet_tiny", "mobilenet_tiny")

_CMD_ENV = "TERN_PEERS_COMMAND"


# --------------------------------------------------------------------------
# Command line / environment
# --------------------------------------------------------------------------

def invocation():
    """The command line the user typed (as far as it can be reconstructed),
    relative to the repository root; survives the venv re-exec."""
    if os.environ.get(_CMD_ENV):
        return os.environ[_CMD_ENV]
    exe = sys.executable
    which = shutil.which("python3")
    if which and os.path.realpath(which) == os.path.realpath(exe):
        exe = "python3"
    elif exe.startswith(REPO_ROOT + os.sep):
        exe = os.path.relpath(exe, REPO_ROOT)
    script = os.path.abspath(sys.argv[0])
    if script.startswith(REPO_ROOT + os.sep):
        script = os.path.relpath(script, REPO_ROOT)
    parts = [exe, script] + sys.argv[1:]
    cmd = " ".join(shlex.quote(p) for p in parts)
    niceness = os.nice(0)
    if niceness:
        cmd = f"nice -n {niceness} {cmd}"
    return cmd


def ensure_venv(venv_dir, requirements, probe_imports):
    """Re-exec the calling script inside ``venv_dir``, creating it first
    (``python -m venv`` with the current interpreter, then ``pip install -r
    requirements``) when it is missing or cannot import ``probe_imports``."""
    venv_dir = os.path.abspath(venv_dir)
    vpy = os.path.join(venv_dir, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(venv_dir):
        return
    os.environ.setdefault(_CMD_ENV, invocation())
    probe = "import " + ", ".join(probe_imports)
    ok = os.path.exists(vpy) and subprocess.run(
        [vpy, "-c", probe], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL).returncode == 0
    if not ok:
        if not os.path.exists(vpy):
            print(f"[peers] creating {venv_dir} with {sys.executable}", flush=True)
            subprocess.check_call([sys.executable, "-m", "venv", venv_dir])
        print(f"[peers] pip install -r {requirements}", flush=True)
        subprocess.check_call([vpy, "-m", "pip", "install", "-r", requirements])
    sys.stdout.flush()
    os.execv(vpy, [vpy, os.path.abspath(sys.argv[0])] + sys.argv[1:])


def arg_parser(description):
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", nargs="+", default=["all"],
                   choices=list(ALL_MODELS) + ["all"],
                   help="models to run (default: all four; missing .onnx files "
                        "give 'not trained yet' rows)")
    p.add_argument("--calib", type=int, default=100, metavar="N",
                   help="calibration images: the first N of the training split "
                        "(default 100, like the seed tutorial)")
    p.add_argument("--batch", type=int, default=100,
                   help="test-set batch size for accuracy and images/s (default 100)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    p.add_argument("--test-limit", type=int, default=0,
                   help="debug only: evaluate on the first K test images (0 = all 10,000)")
    p.add_argument("--models-dir", default=MODELS_DIR)
    p.add_argument("--data-dir", default=None,
                   help="Fashion-MNIST IDX directory (default: fashion_mnist.DEFAULT_DIR)")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON here")
    return p


def threads_from_argv(default=2):
    """--threads before argparse runs (to set OMP_NUM_THREADS before imports)."""
    argv = sys.argv[1:]
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return default


def selected_models(args):
    return list(ALL_MODELS) if "all" in args.model else list(dict.fromkeys(args.model))


# --------------------------------------------------------------------------
# Data, accuracy, timing
# --------------------------------------------------------------------------

def load_data(args):
    """Returns (calib_images, test_images, test_labels) as float32 N x 1 x 28 x 28
    in [0, 1] (pixel / 255) and int64 labels."""
    sys.path.insert(0, MODELS_DIR)
    import fashion_mnist
    data_dir = args.data_dir or fashion_mnist.DEFAULT_DIR
    xtr, _ = fashion_mnist.load("train", data_dir)
    xte, yte = fashion_mnist.load("test", data_dir)
    if not 0 < args.calib <= xtr.shape[0]:
        raise SystemExit(f"--calib must be in 1..{xtr.shape[0]}")
    calib = xtr[:args.calib].copy()
    if args.test_limit:
        xte, yte = xte[:args.test_limit], yte[:args.test_limit]
    return calib, xte, yte


class Timer:
    """Wall-clock and process CPU seconds of a block."""

    def __enter__(self):
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._w
        self.cpu = time.process_time() - self._c
        return False


def evaluate(predict, x, y, batch):
    """Top-1 accuracy of ``predict`` (numpy N x 1 x 28 x 28 -> N x 10 logits)
    over (x, y); returns dict(acc, images_per_s, wall_s, cpu_s). The first
    batch is run once untimed as a warm-up."""
    import numpy as np
    predict(x[:batch])
    correct = 0
    with Timer() as t:
        for i in range(0, x.shape[0], batch):
            out = np.asarray(predict(x[i:i + batch]))
            correct += int((out.reshape(out.shape[0], -1).argmax(1) == y[i:i + batch]).sum())
    return dict(acc=correct / x.shape[0], images_per_s=x.shape[0] / t.wall,
                wall_s=t.wall, cpu_s=t.cpu)


def first_error_line(exc):
    msg = f"{type(exc).__name__}: {exc}".strip()
    lines = [ln for ln in msg.splitlines() if ln.strip()]
    return " / ".join(lines[:3])[:400]


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

class Peer:
    """Subclass per peer.  ``configs(model_name)`` returns a list of
    (config_name, quantize) where ``quantize(calib)`` returns a predict
    function, or raises ``Unsupported(reason)``."""

    name = "peer"

    def set_test_data(self, x, y):
        """Called by run() before any model, with the test images/labels."""
        self.test_x, self.test_y = x, y

    def versions(self):
        return {}

    def load_float(self, model_name, onnx_path):
        """Returns (predict, note)."""
        raise NotImplementedError

    def configs(self, model_name, onnx_path):
        raise NotImplementedError


class Unsupported(Exception):
    """The configuration cannot run with this peer/version (not a crash)."""


def run(peer, args):
    cmd = invocation()
    calib, xte, yte = load_data(args)
    peer.set_test_data(xte, yte)
    meta = dict(peer=peer.name, command=cmd, calib_images=int(calib.shape[0]),
                calib_source=f"first {calib.shape[0]} images of the training split",
                test_images=int(xte.shape[0]), batch=args.batch, threads=args.threads,
                python=sys.version.split()[0], executable=sys.executable,
                machine=f"{platform.machine()}, {os.cpu_count()} cpus",
                loadavg_start=os.getloadavg()[0],
                date=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                versions=peer.versions())
    print(f"== {peer.name}: {meta['versions']}; calibration {meta['calib_source']}; "
          f"test {xte.shape[0]} images, batch {args.batch}, threads {args.threads}",
          flush=True)
    rows = []
    for name in selected_models(args):
        path = os.path.join(args.models_dir, f"{name}.onnx")
        model_cmd = _model_command(cmd, name)
        if not os.path.exists(path):
            rows.append(dict(model=name, peer=peer.name, config="(all)",
                             status="not trained yet", note=f"{path} does not exist",
                             command=model_cmd))
            print(f"-- {name}: not trained yet ({path} missing)", flush=True)
            continue
        ident = dict(onnx_sha256=_sha256(path)[:16], onnx_mtime=time.strftime(
            "%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(path))))
        try:
            predict, fnote = peer.load_float(name, path)
            fres = evaluate(predict, xte, yte, args.batch)
        except Exception as e:  # noqa: BLE001 - reported as a row
            rows.append(dict(model=name, peer=peer.name, config="float",
                             status="failed", note=first_error_line(e), command=model_cmd,
                             **ident))
            print(f"-- {name}: float model failed: {first_error_line(e)}", flush=True)
            continue
        print(f"-- {name}: float acc {fres['acc'] * 100:.2f}% "
              f"({fres['images_per_s']:.0f} img/s){'; ' + fnote if fnote else ''}",
              flush=True)
        for cname, quantize in peer.configs(name, path):
            row = dict(model=name, peer=peer.name, config=cname,
                       float_acc=fres["acc"], float_images_per_s=fres["images_per_s"],
                       float_note=fnote, command=model_cmd, **ident)
            try:
                with Timer() as t:
                    qpredict = quantize(calib)
                note = getattr(qpredict, "note", "")
                detail = getattr(qpredict, "detail", "")
                qres = evaluate(qpredict, xte, yte, args.batch)
                row.update(status="ok", quant_acc=qres["acc"],
                           drop=fres["acc"] - qres["acc"], calib_s=t.wall,
                           calib_cpu_s=t.cpu, images_per_s=qres["images_per_s"],
                           eval_wall_s=qres["wall_s"], note=note, detail=detail)
                print(f"   {cname}: quant acc {qres['acc'] * 100:.2f}% "
                      f"(drop {(fres['acc'] - qres['acc']) * 100:.2f} pp), calibration "
                      f"{t.wall:.1f} s wall / {t.cpu:.1f} s cpu, "
                      f"{qres['images_per_s']:.0f} img/s{'; ' + note if note else ''}"
                      f"{'; ' + detail if detail else ''}",
                      flush=True)
            except Unsupported as e:
                row.update(status="unsupported", note=str(e))
                print(f"   {cname}: unsupported: {e}", flush=True)
            except Exception as e:  # noqa: BLE001 - reported as a row
                row.update(status="failed", note=first_error_line(e))
                print(f"   {cname}: FAILED: {first_error_line(e)}", flush=True)
            rows.append(row)
    meta["loadavg_end"] = os.getloadavg()[0]
    print()
    print(markdown_table(rows))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(dict(meta=meta, rows=rows), f, indent=1, default=_jsonable)
        print(f"\nresults written to {args.json}")
    return rows


def _sha256(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _jsonable(o):
    try:
        return o.item()
    except AttributeError:
        return str(o)


def _model_command(cmd, name):
    """The per-model command: the invocation with --model narrowed to ``name``
    and --json dropped (each row is reproducible on its own)."""
    parts = shlex.split(cmd)
    out, skip = [], False
    for p in parts:
        if skip:
            if p.startswith("--"):
                skip = False
            else:
                continue
        if p in ("--model", "--json"):
            skip = True
            continue
        if p.startswith("--json=") or p.startswith("--model="):
            continue
        out.append(p)
    return " ".join(shlex.quote(p) for p in out + ["--model", name])


# --------------------------------------------------------------------------
# Table
# --------------------------------------------------------------------------

def _pct(v):
    return "–" if v is None else f"{v * 100:.2f} %"


def markdown_table(rows):
    lines = ["| model | peer | configuration | float acc | quantized acc | drop | "
             "calibration time (wall / cpu) | images/s (quantized, test set) | command |",
             "|---|---|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if r.get("status") == "ok":
            q, d = _pct(r["quant_acc"]), f"{r['drop'] * 100:.2f} pp"
            c = f"{r['calib_s']:.1f} s / {r['calib_cpu_s']:.1f} s"
            ips = f"{r['images_per_s']:,.0f}"
        else:
            q = f"**{r.get('status')}**: {r.get('note', '')}".replace("|", "\\|")
            d = c = ips = "–"
        conf = r["config"]
        if r.get("status") == "ok" and r.get("note"):
            conf += f" ({r['note']})"
        lines.append(f"| {r['model']} | {r['peer']} | {conf.replace('|', '/')} | "
                     f"{_pct(r.get('float_acc'))} | {q} | {d} | {c} | {ips} | "
                     f"`{r['command']}` |")
    return "\n".join(lines)


def _table_main(argv):
    p = argparse.ArgumentParser(prog="common.py table",
                                description="merge --json result files into one table")
    p.add_argument("json_files", nargs="+")
    p.add_argument("--order", default="model", choices=["model", "file"],
                   help="sort rows by model (then file order), or keep file order")
    a = p.parse_args(argv)
    rows = []
    for i, path in enumerate(a.json_files):
        with open(path) as f:
            for j, r in enumerate(json.load(f)["rows"]):
                rows.append((i, j, r))
    if a.order == "model":
        rank = {m: k for k, m in enumerate(ALL_MODELS)}
        rows.sort(key=lambda t: (rank.get(t[2]["model"], 99), t[0], t[1]))
    print(markdown_table([r for _, _, r in rows]))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "table":
        _table_main(sys.argv[2:])
    else:
        print(__doc__)
