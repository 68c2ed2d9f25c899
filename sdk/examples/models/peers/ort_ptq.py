#!/usr/bin/env python3
"""PTQ peer 2: ONNX Runtime static quantization on Tern's example models.

Run with the pyenv python3 (first on PATH), from the repository root:

    nice -n 19 python3 sdk/examples/models/peers/ort_ptq.py --json build/peers/ort.json

On first use the script creates its own virtual environment,
build/peers-venv (``python3 -m venv`` with the interpreter that runs it, then
``pip install -r peers/ort-requirements.txt``: onnxruntime, numpy, and onnx,
which onnxruntime.quantization imports), and re-runs itself inside it.  It is
never a dependency of Tern's build or tests.

Each model is first passed through onnxruntime's recommended
``quant_pre_process`` (ONNX shape inference + ORT graph optimisation, which
folds convnet_bn's BatchNormalization into its convolutions; symbolic shape
inference skipped), then ``quantize_static`` with a CalibrationDataReader
that yields the calibration images one at a time, QDQ format, QInt8 weights
and QUInt8 activations (asymmetric), no reduce_range:

* MinMax per-tensor, MinMax per-channel, Entropy per-tensor,
  Percentile per-tensor (ORT's default 99.999th percentile);
* the same four at 4 bits (QInt4 weights, QUInt4 activations) when the
  installed onnxruntime has QuantType.QInt4/QUInt4, else one row saying why.
  The 4-bit QDQ model is valid ONNX, but when an ORT_ENABLE_ALL session
  cannot load it (1.32's extended QDQ transformers turn DQ->MaxPool->Q into
  a MaxPool on uint4, an invalid graph) it is evaluated at ORT_ENABLE_BASIC,
  i.e. Q/DQ operators around float kernels, and the row says so.

Everything is evaluated with onnxruntime's CPUExecutionProvider
(intra-op threads = --threads, graph optimisations on, so QDQ pairs run as
QLinear* integer kernels where ORT has them).
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

VENV = os.path.join(common.REPO_ROOT, "build", "peers-venv")
REQUIREMENTS = os.path.join(common.PEERS_DIR, "ort-requirements.txt")

if __name__ == "__main__":
    common.ensure_venv(VENV, REQUIREMENTS, ["onnxruntime", "onnxruntime.quantization",
                                            "numpy", "onnx"])

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnxruntime import quantization as oq  # noqa: E402


class CalibReader(oq.CalibrationDataReader):
    """Yields {"input": 1 x 1 x 28 x 28} for each calibration image."""

    def __init__(self, images, input_name="input"):
        self.images, self.input_name, self.i = images, input_name, 0

    def get_next(self):
        if self.i >= self.images.shape[0]:
            return None
        x = self.images[self.i:self.i + 1]
        self.i += 1
        return {self.input_name: x}

    def rewind(self):
        self.i = 0


CALIB_CONFIGS = [  # (label, calibrate_method, per_channel)
    ("MinMax per-tensor", oq.CalibrationMethod.MinMax, False),
    ("MinMax per-channel", oq.CalibrationMethod.MinMax, True),
    ("Entropy per-tensor", oq.CalibrationMethod.Entropy, False),
    ("Percentile per-tensor", oq.CalibrationMethod.Percentile, False),
]


def _unsupported(reason):
    def quantize(calib):
        raise common.Unsupported(reason)
    return quantize


class OrtPeer(common.Peer):

    def __init__(self, threads):
        self.threads = threads
        self.name = f"ONNX Runtime {ort.__version__}"
        self.tmp = tempfile.mkdtemp(prefix="tern_ort_ptq_")
        self.pre = {}

    def versions(self):
        import onnx
        return dict(onnxruntime=ort.__version__, onnx=onnx.__version__,
                    numpy=np.__version__)

    def _session(self, path, level=ort.GraphOptimizationLevel.ORT_ENABLE_ALL):
        so = ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = level
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        iname = sess.get_inputs()[0].name
        oname = sess.get_outputs()[0].name
        def predict(x):
            return sess.run([oname], {iname: x})[0]
        return predict

    def load_float(self, name, path):
        pre = os.path.join(self.tmp, f"{name}.pre.onnx")
        with common.Timer() as t:
            oq.quant_pre_process(path, pre, skip_symbolic_shape=True)
        self.pre[name] = pre
        return self._session(path), f"quant_pre_process {t.wall:.1f} s"

    def configs(self, name, path):
        out = []
        for bits, wt, at in ((8, "QInt8", "QUInt8"), (4, "QInt4", "QUInt4")):
            missing = [t for t in (wt, at) if not hasattr(oq.QuantType, t)]
            if missing:
                reason = (f"onnxruntime {ort.__version__} has no QuantType."
                          f"{'/'.join(missing)} (QuantType members: "
                          f"{', '.join(oq.QuantType.__members__)})")
                out.append((f"QDQ W{bits}A{bits} ({wt}/{at})", _unsupported(reason)))
                continue
            for label, method, per_channel in CALIB_CONFIGS:
                out.append((f"QDQ W{bits}A{bits} {wt}/{at}, {label}",
                            lambda c, n=name, m=method, pc=per_channel, w=wt, a=at, b=bits:
                            self._quantize(n, c, m, pc, w, a, b)))
        return out

    def _quantize(self, name, calib, method, per_channel, wt, at, bits):
        qpath = os.path.join(self.tmp, f"{name}.{bits}.{method.name}.{int(per_channel)}.onnx")
        oq.quantize_static(self.pre[name], qpath, CalibReader(calib),
                           quant_format=oq.QuantFormat.QDQ, per_channel=per_channel,
                           reduce_range=False, activation_type=getattr(oq.QuantType, at),
                           weight_type=getattr(oq.QuantType, wt), calibrate_method=method)
        try:
            return self._session(qpath)
        except Exception as e:  # noqa: BLE001
            if bits == 8:
                raise
            # ORT's extended-level QDQ transformers (e.g. the one that drops
            # DQ -> MaxPool -> Q) rewrite the valid 4-bit graph into an invalid
            # one; the basic level runs the same QDQ model as Q/DQ ops around
            # float kernels.
            predict = self._session(qpath, ort.GraphOptimizationLevel.ORT_ENABLE_BASIC)
            predict.note = "session at ORT_ENABLE_BASIC, see below"
            predict.detail = (f"run at ORT_ENABLE_BASIC (Q/DQ ops + float kernels): at the "
                              f"default ORT_ENABLE_ALL the session fails with "
                              f"'{common.first_error_line(e)}'")
            return predict


def main():
    args = common.arg_parser(__doc__).parse_args()
    common.run(OrtPeer(args.threads), args)


if __name__ == "__main__":
    main()
