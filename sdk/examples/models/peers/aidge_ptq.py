#!/usr/bin/env python3
"""PTQ peer 3: Eclipse AIDGE (the seed tutorial's own system) on Tern's models.

Run with the pyenv python3 (first on PATH), from the repository root:

    nice -n 19 python3 sdk/examples/models/peers/aidge_ptq.py --json build/peers/aidge.json

On first use the script creates its own virtual environment,
build/aidge-venv (``python3 -m venv`` with the interpreter that runs it, then
``pip install -r peers/aidge-requirements.txt``, the pinned ``pip freeze`` of
aidge-core, aidge-onnx, aidge-backend-cpu, aidge-quantization and their
dependencies), and re-runs itself inside it.

It follows the seed tutorial (Eclipse AIDGE's "Post-Training Quantization
with AIDGE" notebook) call for call:

    model = aidge_onnx.load_onnx(path, verbose=False)
    aidge_core.remove_flatten(model)
    model.set_datatype(aidge_core.dtype.float32); model.set_backend("cpu")
    scheduler = aidge_core.SequentialScheduler(model)
    tensors = [aidge_core.Tensor(np.reshape(s, (1, 1, 28, 28))) for s in calib]
    aidge_quantization.auto_assign_node_precision(
        model, weight_precision, activation_precision, bias_and_accumulation_precision)
    aidge_quantization.quantize_network(
        network=model, calibration_set=tensors,
        clipping_mode=aidge_quantization.Clipping.MSE, no_quant=False,
        optimize_signs=False, single_shift=False, use_cuda=False,
        fold_graph=True, fake_quantize=True, verbose=False)
    scheduler = aidge_core.SequentialScheduler(model)
    inputs = np.round(samples * (2 ** (NB_BITS - 1) - 1))

with NB_BITS = 8 (int8 weights and activations, int32 biases/accumulation)
then the tutorial's 4-bit settings (NB_BITS = 4, int4 / int4 / int16).  The
same fresh float model is loaded for each configuration.

Deviations, all forced and reported in the output: a keyword argument of the
tutorial that the installed version does not accept (aidge 0.10.1:
``load_onnx(verbose=...)`` and ``quantize_network(use_cuda=...)``) is dropped,
and the row's note names it.  The tutorial propagates one image at a time; the
test set is run in batches of --batch images (the same outputs, checked on
100 images when the model loads: max |diff| is printed with the float
accuracy), calibration stays one image per tensor as in the tutorial.
"""

import inspect
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

VENV = os.path.join(common.REPO_ROOT, "build", "aidge-venv")
REQUIREMENTS = os.path.join(common.PEERS_DIR, "aidge-requirements.txt")
AIDGE_PACKAGES = ["aidge_core", "aidge_onnx", "aidge_backend_cpu", "aidge_quantization"]

if __name__ == "__main__":
    common.ensure_venv(VENV, REQUIREMENTS, AIDGE_PACKAGES)
    os.environ.setdefault("OMP_NUM_THREADS", str(common.threads_from_argv()))

import numpy as np  # noqa: E402
import aidge_core  # noqa: E402
import aidge_onnx  # noqa: E402
import aidge_backend_cpu  # noqa: E402,F401  (registers the "cpu" backend)
import aidge_quantization  # noqa: E402


def _param_names(fn):
    """Keyword names accepted by ``fn`` (Python function or pybind11 builtin)."""
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        pass
    doc = (fn.__doc__ or "").strip().splitlines()
    m = re.match(r"\s*\w+\((.*)\)", doc[0]) if doc else None
    if not m:
        return None
    return set(re.findall(r"(?:^|,\s*)(\w+)\s*:", m.group(1)))


def tutorial_call(fn, notes, *args, **kwargs):
    """Call ``fn`` the way the tutorial does; drop (and record) keyword
    arguments that this version of ``fn`` does not have."""
    names = _param_names(fn)
    if names is not None:
        for k in [k for k in kwargs if k not in names]:
            notes.append(f"{fn.__name__}() of this version has no '{k}' parameter: "
                         f"tutorial's {k}={kwargs[k]!r} dropped")
            kwargs.pop(k)
    return fn(*args, **kwargs)


class CapturedOutput:
    """Captures what the C++ side writes to fd 1/2 (AIDGE's log) while still
    echoing it afterwards."""

    def __enter__(self):
        import tempfile
        sys.stdout.flush()
        sys.stderr.flush()
        self.file = tempfile.TemporaryFile(mode="w+b")
        self.saved = [os.dup(1), os.dup(2)]
        os.dup2(self.file.fileno(), 1)
        os.dup2(self.file.fileno(), 2)
        return self

    def __exit__(self, *exc):
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        for fd in self.saved:
            os.close(fd)
        self.file.seek(0)
        self.text = self.file.read().decode("utf-8", "replace")
        self.file.close()
        sys.stdout.write(self.text)
        sys.stdout.flush()
        return False


def _strip_ansi(s):
    return re.sub(r"\x1b\[[0-9;]*m", "", s)


def propagate(model, scheduler, batch):
    """The tutorial's propagate(), for a batch N x 1 x 28 x 28."""
    input_tensor = aidge_core.Tensor(np.ascontiguousarray(batch, dtype=np.float32))
    scheduler.forward(True, [input_tensor])
    output_node = model.get_ordered_outputs()[0][0]
    return np.array(output_node.get_operator().get_output(0))


# (label, NB_BITS, weight, activation, bias/accumulation precision)
CONFIGS = [
    ("8-bit: int8 w/a, int32 bias+acc, Clipping.MSE, fake_quantize=True",
     8, "int8", "int8", "int32"),
    ("4-bit (tutorial): int4 w/a, int16 bias+acc, Clipping.MSE, fake_quantize=True",
     4, "int4", "int4", "int16"),
]


class AidgePeer(common.Peer):

    def __init__(self):
        self.name = f"AIDGE {_version('aidge_quantization')}"

    def versions(self):
        return {p: _version(p) for p in AIDGE_PACKAGES} | {"numpy": np.__version__}

    def _load(self, path, notes):
        model = tutorial_call(aidge_onnx.load_onnx, notes, path, verbose=False)
        aidge_core.remove_flatten(model)
        model.set_datatype(aidge_core.dtype.float32)
        model.set_backend("cpu")
        return model

    def load_float(self, name, path):
        notes = []
        model = self._load(path, notes)
        scheduler = aidge_core.SequentialScheduler(model)
        x = self.test_x[:100]
        batched = propagate(model, scheduler, x)
        single = np.concatenate([propagate(model, scheduler, x[i:i + 1])
                                 for i in range(x.shape[0])])
        notes.append(f"batched vs one-image propagate on 100 images: max |diff| "
                     f"{float(np.abs(batched - single).max()):.1e}")
        return (lambda b: propagate(model, scheduler, b)), "; ".join(notes)

    def configs(self, name, path):
        return [(label, lambda c, cfg=cfg: self._quantize(path, c, *cfg[1:]))
                for cfg in CONFIGS for label in [cfg[0]]]

    def _quantize(self, path, calib, nb_bits, w, a, b):
        notes = []
        model = self._load(path, notes)
        tensors = [aidge_core.Tensor(np.reshape(s, (1, 1, 28, 28))) for s in calib]
        # positional, in the tutorial's order (weights, activations, bias+acc);
        # w == a in both configurations, so the binding's own argument order
        # (act, weight, bias) makes no difference.
        aidge_quantization.auto_assign_node_precision(
            model, getattr(aidge_core.dtype, w), getattr(aidge_core.dtype, a),
            getattr(aidge_core.dtype, b))
        with CapturedOutput() as log:
            tutorial_call(aidge_quantization.quantize_network, notes,
                          network=model, calibration_set=tensors,
                          clipping_mode=aidge_quantization.Clipping.MSE, no_quant=False,
                          optimize_signs=False, single_shift=False, use_cuda=False,
                          fold_graph=True, fake_quantize=True, verbose=False)
        # quantize_network() only logs an error and returns, leaving the graph
        # in float, when it cannot quantize it: turn that into a failure.
        errors = [_strip_ansi(ln.strip()) for ln in log.text.splitlines() if "ERROR" in ln]
        if errors or "Network is quantized" not in log.text:
            raise RuntimeError("quantize_network() did not quantize the graph: " + (
                " / ".join(errors) or "no 'Network is quantized !' in its log"))
        scheduler = aidge_core.SequentialScheduler(model)
        scaling = 2 ** (nb_bits - 1) - 1

        def predict(x):
            return propagate(model, scheduler, np.round(x * scaling))
        predict.note = f"inputs round(x*{scaling})"
        predict.detail = "; ".join(notes)
        return predict


def _version(pkg):
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(pkg.replace("_", "-"))
    except PackageNotFoundError:
        return "?"


def main():
    args = common.arg_parser(__doc__).parse_args()
    common.run(AidgePeer(), args)


if __name__ == "__main__":
    main()
