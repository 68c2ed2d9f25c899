#!/usr/bin/python3
"""PTQ peer 1: PyTorch (Debian's python3-torch 1.13) on Tern's example models.

Run with Debian's interpreter (not the pyenv python3 first on PATH), from the
repository root:

    nice -n 19 /usr/bin/python3 sdk/examples/models/peers/pytorch_ptq.py \
        --json build/peers/pytorch.json

The ONNX model is loaded back into PyTorch: the nn.Module is rebuilt from
train.py's own model classes and the weights are copied from the ONNX
initializers, matching ONNX Conv/Gemm/BatchNormalization nodes to the
module's Conv2d/Linear/BatchNorm2d layers in execution order (shapes checked).
Where the export folded BatchNorm into the convolutions (resnet_tiny,
mobilenet_tiny), each Conv2d+BatchNorm2d pair of the class becomes a biased
Conv2d + Identity first.  The float model is then checked against the ONNX
graph itself (train.py's numpy ONNX interpreter) on every test image.

Configurations:

* ``FX W8A8 fbgemm``: FX graph mode PTQ, ``get_default_qconfig_mapping("fbgemm")``
  (HistogramObserver activations with reduce_range, per-channel symmetric
  int8 weights), calibrated, ``convert_fx``, evaluated with the real
  quantized (int8) model.  Debian's torch is built without FBGEMM
  (``torch.backends.quantized.supported_engines`` has no 'fbgemm'), so the
  converted model runs on the 'onednn' x86 engine when fbgemm is missing;
  the qconfig is still fbgemm's.
* ``fake-quant W4A4``: ``prepare_qat_fx`` used only to insert FakeQuantize
  modules everywhere (all layers, input included): weights 4-bit per-channel
  symmetric (PerChannelMinMaxObserver, qint8 dtype, quant range -8..7),
  activations 4-bit per-tensor affine (MinMaxObserver, quint8, 0..15).  The
  model stays in eval() mode (BatchNorm uses running stats); calibration runs
  with observers on and fake-quant off, evaluation with observers off and
  fake-quant on.
"""

import copy
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import warnings  # noqa: E402

# fbgemm's default qconfig still passes reduce_range=True to its observer.
warnings.filterwarnings("ignore", message="Please use quant_min and quant_max")

sys.path.insert(0, common.MODELS_DIR)
import train  # noqa: E402  (model classes + numpy ONNX interpreter)


# --------------------------------------------------------------------------
# ONNX -> nn.Module
# --------------------------------------------------------------------------

def _call_order(model, types):
    """Leaf modules of ``types`` in the order forward() calls them."""
    order, hooks = [], []
    for m in model.modules():
        if isinstance(m, types):
            hooks.append(m.register_forward_hook(lambda mod, i, o: order.append(mod)))
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in hooks:
        h.remove()
    return order


def _fold_structure(model):
    """Replace every Conv2d immediately followed (at run time) by a BatchNorm2d
    with a biased Conv2d, and that BatchNorm2d with Identity, matching the
    BN-folded ONNX export."""
    names = {m: n for n, m in model.named_modules()}
    order = _call_order(model, (nn.Conv2d, nn.BatchNorm2d, nn.Linear))

    def replace(old, new):
        parent, _, attr = names[old].rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, attr, new)

    for a, b in zip(order, order[1:]):
        if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
            replace(a, nn.Conv2d(a.in_channels, a.out_channels, a.kernel_size, a.stride,
                                 a.padding, a.dilation, a.groups, bias=True))
            replace(b, nn.Identity())
    return model


def module_from_onnx(name, onnx_path):
    import onnx
    from onnx import numpy_helper
    ctor, _, _, keep_bn = train.MODELS[name]
    model = ctor().eval()
    g = onnx.load(onnx_path).graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    has_bn = any(n.op_type == "BatchNormalization" for n in g.node)
    if not has_bn:
        _fold_structure(model)
    layers = _call_order(model, (nn.Conv2d, nn.BatchNorm2d, nn.Linear))
    nodes = [n for n in g.node if n.op_type in ("Conv", "Gemm", "BatchNormalization")]
    if len(nodes) != len(layers):
        raise RuntimeError(f"{onnx_path}: {len(nodes)} Conv/Gemm/BN nodes but the "
                           f"{name} module has {len(layers)} Conv2d/Linear/BatchNorm2d")

    def put(param, arr, what):
        t = torch.from_numpy(np.array(arr, dtype=np.float32))
        if tuple(param.shape) != tuple(t.shape):
            raise RuntimeError(f"{what}: ONNX shape {tuple(t.shape)} != module "
                               f"{tuple(param.shape)}")
        with torch.no_grad():
            param.copy_(t)

    for node, layer in zip(nodes, layers):
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        ins = [inits[i] if i in inits else None for i in node.input]
        what = f"{node.op_type} {node.name} -> {type(layer).__name__}"
        if node.op_type == "Conv" and isinstance(layer, nn.Conv2d):
            if attrs.get("group", 1) != layer.groups:
                raise RuntimeError(f"{what}: group {attrs.get('group', 1)} != {layer.groups}")
            put(layer.weight, ins[1], what)
            if layer.bias is not None:
                put(layer.bias, ins[2] if len(ins) > 2 and ins[2] is not None
                    else np.zeros(layer.out_channels, np.float32), what)
            elif len(ins) > 2 and ins[2] is not None:
                raise RuntimeError(f"{what}: ONNX conv has a bias, module has none")
        elif node.op_type == "Gemm" and isinstance(layer, nn.Linear):
            w = ins[1] if attrs.get("transB", 0) else ins[1].T
            if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 \
                    or attrs.get("beta", 1.0) != 1.0:
                raise RuntimeError(f"{what}: unsupported Gemm attributes {attrs}")
            put(layer.weight, w, what)
            put(layer.bias, ins[2], what)
        elif node.op_type == "BatchNormalization" and isinstance(layer, nn.BatchNorm2d):
            put(layer.weight, ins[1], what)
            put(layer.bias, ins[2], what)
            put(layer.running_mean, ins[3], what)
            put(layer.running_var, ins[4], what)
            layer.eps = float(attrs.get("epsilon", 1e-5))
        else:
            raise RuntimeError(f"node/layer order mismatch: {what}")
    return model.eval()


def check_against_onnx(model, onnx_path, x, batch=500):
    """Float logits of the rebuilt module vs. the ONNX graph (train.py's numpy
    interpreter) on ``x``; returns (onnx predictions, max |diff|)."""
    import onnx
    m = onnx.load(onnx_path)
    preds, err = [], 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            ref = train.run_onnx_numpy(m, x[i:i + batch])
            got = model(torch.from_numpy(x[i:i + batch])).numpy()
            err = max(err, float(np.abs(ref - got).max()))
            preds.append(ref.argmax(1))
    return np.concatenate(preds), err


# --------------------------------------------------------------------------
# The peer
# --------------------------------------------------------------------------

def _torch_predict(model):
    def predict(x):
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()
    return predict


class PyTorchPeer(common.Peer):
    name = "PyTorch 1.13"

    def __init__(self):
        self.models = {}
        engines = torch.backends.quantized.supported_engines
        self.engine = "fbgemm" if "fbgemm" in engines else (
            "onednn" if "onednn" in engines else "qnnpack")
        self.engine_note = ("" if self.engine == "fbgemm" else
                            f"int8 kernels of the '{self.engine}' engine: no FBGEMM "
                            f"in this torch build")

    def versions(self):
        import onnx
        return dict(torch=torch.__version__, onnx=onnx.__version__,
                    numpy=np.__version__, quantized_engine=self.engine,
                    supported_engines=list(torch.backends.quantized.supported_engines))

    def load_float(self, name, path):
        model = module_from_onnx(name, path)
        self.models[name] = model
        onnx_pred, err = check_against_onnx(model, path, self.test_x)
        with torch.no_grad():
            tpred = torch.cat([model(torch.from_numpy(self.test_x[i:i + 500])).argmax(1)
                               for i in range(0, self.test_x.shape[0], 500)]).numpy()
        onnx_acc = float((onnx_pred == self.test_y).mean())
        torch_acc = float((tpred == self.test_y).mean())
        agree = float((onnx_pred == tpred).mean())
        note = (f"ONNX graph (numpy interpreter) acc {onnx_acc * 100:.2f} %, "
                f"max |logit diff| {err:.1e}, argmax agreement {agree * 100:.2f} %")
        if onnx_acc != torch_acc:
            raise RuntimeError(f"rebuilt module acc {torch_acc} != ONNX acc {onnx_acc} ({note})")
        return _torch_predict(model), note

    def configs(self, name, path):
        return [("FX W8A8 fbgemm qconfig (int8 model)", lambda c: self._fx_int8(name, c)),
                ("fake-quant W4A4 (w per-channel sym, a per-tensor affine)",
                 lambda c: self._fake4(name, c))]

    def _fx_int8(self, name, calib):
        from torch.ao.quantization import get_default_qconfig_mapping
        from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
        torch.backends.quantized.engine = self.engine
        model = copy.deepcopy(self.models[name]).eval()
        qmap = get_default_qconfig_mapping("fbgemm")
        prepared = prepare_fx(model, qmap, example_inputs=(torch.zeros(1, 1, 28, 28),))
        with torch.no_grad():
            for i in range(calib.shape[0]):          # one image at a time, like the seed
                prepared(torch.from_numpy(calib[i:i + 1]))
        qmodel = convert_fx(prepared)
        predict = _torch_predict(qmodel)
        predict.note = self.engine_note
        return predict

    def _fake4(self, name, calib):
        from torch.ao.quantization import (FakeQuantize, MinMaxObserver,
                                           PerChannelMinMaxObserver, QConfig,
                                           QConfigMapping, disable_fake_quant,
                                           disable_observer, enable_fake_quant,
                                           enable_observer)
        from torch.ao.quantization.quantize_fx import prepare_qat_fx
        act = FakeQuantize.with_args(observer=MinMaxObserver, quant_min=0, quant_max=15,
                                     dtype=torch.quint8, qscheme=torch.per_tensor_affine)
        wgt = FakeQuantize.with_args(observer=PerChannelMinMaxObserver, quant_min=-8,
                                     quant_max=7, dtype=torch.qint8,
                                     qscheme=torch.per_channel_symmetric, ch_axis=0)
        qmap = QConfigMapping().set_global(QConfig(activation=act, weight=wgt))
        model = copy.deepcopy(self.models[name]).train()
        prepared = prepare_qat_fx(model, qmap, example_inputs=(torch.zeros(1, 1, 28, 28),))
        prepared.eval()                                  # BN: running statistics
        prepared.apply(disable_fake_quant)
        prepared.apply(enable_observer)
        with torch.no_grad():
            for i in range(calib.shape[0]):
                prepared(torch.from_numpy(calib[i:i + 1]))
        prepared.apply(disable_observer)
        prepared.apply(enable_fake_quant)
        nfq = sum(isinstance(m, FakeQuantize) for m in prepared.modules())
        predict = _torch_predict(prepared)
        predict.note = f"{nfq} FakeQuantize modules"
        return predict


def main():
    p = common.arg_parser(__doc__)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    common.run(PyTorchPeer(), args)


if __name__ == "__main__":
    main()
