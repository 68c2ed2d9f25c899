#!/usr/bin/python3
"""Train Tern's example models on Fashion-MNIST and export them to ONNX.

Usage (from the repository root, on a shared machine keep it niced):

    nice -n 19 /usr/bin/python3 sdk/examples/models/train.py --model convnet
    nice -n 19 /usr/bin/python3 sdk/examples/models/train.py --model all

Models: convnet | convnet_bn | resnet_tiny | mobilenet_tiny | all.

Each exported model takes input "input" (N x 1 x 28 x 28 float32, pixel/255 in
[0, 1], no other normalisation) and returns output "logits" (N x 10), with a
dynamic batch axis, ONNX opset 13.  Training is deterministic on a given
machine/torch build: fixed seeds, a seeded shuffle order, single process data
pipeline, optional deterministic augmentation (--flip: seeded horizontal flips).
"""

import argparse
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fashion_mnist  # noqa: E402

ALLOWED_OPS = {"Conv", "Relu", "Clip", "MaxPool", "GlobalAveragePool",
               "BatchNormalization", "Add", "Flatten", "Reshape", "Gemm"}


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

class ConvNet(nn.Module):
    """Tutorial-shaped ConvNet: 2 x (conv3x3 / [BN] / ReLU / maxpool2), FC, FC."""

    def __init__(self, batchnorm=False):
        super().__init__()
        def block(cin, cout):
            layers = [nn.Conv2d(cin, cout, 3, bias=not batchnorm)]
            if batchnorm:
                layers.append(nn.BatchNorm2d(cout))
            layers += [nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            return nn.Sequential(*layers)
        self.features = nn.Sequential(block(1, 32), block(32, 64))  # 28->26->13->11->5
        self.fc1 = nn.Linear(64 * 5 * 5, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


class BasicBlock(nn.Module):
    """ResNet basic block; 1x1 stride-s projection when the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + skip)


class ResNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(16), nn.ReLU(inplace=True))  # 28x28
        self.layer1 = BasicBlock(16, 24, 2)   # 14x14, 1x1 stride-2 projection
        self.layer2 = BasicBlock(24, 48, 2)   # 7x7,   1x1 stride-2 projection
        self.layer3 = BasicBlock(48, 48, 1)   # 7x7,   identity skip
        self.pool = nn.AdaptiveAvgPool2d(1)   # exports as GlobalAveragePool
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


def _dw_separable(cin, cout, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),  # depthwise
        nn.BatchNorm2d(cin), nn.ReLU6(inplace=True),
        nn.Conv2d(cin, cout, 1, bias=False),                        # pointwise
        nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class MobileNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(inplace=True),
            _dw_separable(16, 32, 2),    # 14x14
            _dw_separable(32, 64, 1),
            _dw_separable(64, 96, 2),    # 7x7
            _dw_separable(96, 96, 1),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(96, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


# name: (constructor, epochs, peak lr, export keeps BatchNormalization nodes)
MODELS = {
    "convnet": (lambda: ConvNet(batchnorm=False), 10, 2e-3, False),
    "convnet_bn": (lambda: ConvNet(batchnorm=True), 3, 2e-3, True),
    "resnet_tiny": (ResNetTiny, 4, 3e-3, False),
    "mobilenet_tiny": (MobileNetTiny, 4, 3e-3, False),
}


# --------------------------------------------------------------------------
# Analysis helpers
# --------------------------------------------------------------------------

def count_params(model):
    return sum(p.numel() for p in model.parameters())


def count_macs(model):
    """Analytic MACs per image: conv = Cout*Hout*Wout*(Cin/groups)*Kh*Kw,
    linear = in*out.  BN/ReLU/pool/add are not counted."""
    total = [0]
    hooks = []

    def conv_hook(m, inp, out):
        _, cout, hout, wout = out.shape
        kh, kw = m.kernel_size
        total[0] += cout * hout * wout * (m.in_channels // m.groups) * kh * kw

    def linear_hook(m, inp, out):
        total[0] += m.in_features * m.out_features

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    model.train(was_training)
    for h in hooks:
        h.remove()
    return total[0]


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / x.shape[0]


# --------------------------------------------------------------------------
# Training / export
# --------------------------------------------------------------------------

def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_one(name, args, xtr, ytr, xte, yte):
    ctor, epochs, lr, keep_bn = MODELS[name]
    if args.epochs:
        epochs = args.epochs
    seed_everything(args.seed)
    model = ctor()
    params, macs = count_params(model), count_macs(model)
    print(f"\n=== {name}: {params:,} params, {macs:,} MACs/image, "
          f"{epochs} epochs, Adam lr {lr:g} (one-cycle), batch {args.batch}", flush=True)

    gen = torch.Generator().manual_seed(args.seed)   # shuffle order + flips
    n = xtr.shape[0]
    steps_per_epoch = (n + args.batch - 1) // args.batch
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch,
        pct_start=0.1)

    t0 = time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        flips = torch.rand(n, generator=gen) < 0.5
        run_loss, seen = 0.0, 0
        te = time.time()
        for b, i in enumerate(range(0, n, args.batch)):
            idx = perm[i:i + args.batch]
            xb, yb = xtr[idx], ytr[idx]
            if args.flip:
                f = flips[i:i + args.batch]
                xb = torch.where(f.view(-1, 1, 1, 1), xb.flip(3), xb)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            run_loss += loss.item() * xb.shape[0]
            seen += xb.shape[0]
            if args.max_batches and b + 1 >= args.max_batches:
                break
        msg = (f"  epoch {epoch + 1}/{epochs}: train loss {run_loss / seen:.4f}, "
               f"{time.time() - te:.1f}s")
        if args.eval_every and (epoch + 1) % args.eval_every == 0 and epoch + 1 < epochs:
            msg += f", test acc {evaluate(model, xte, yte) * 100:.2f}%"
        print(msg, flush=True)
    train_time = time.time() - t0   # training only, final evaluation excluded

    acc = evaluate(model, xte, yte)
    path = os.path.join(args.out_dir, f"{name}.onnx")
    export(model, path, keep_bn)
    ops = check_onnx(path, name, keep_bn, model, xte[:64])
    size = os.path.getsize(path)
    summary = dict(model=name, params=params, macs=macs, acc=acc,
                   train_time=train_time, epochs=epochs, size=size, ops=ops)
    print(f"RESULT {name}: params {params:,} | MACs/image {macs:,} | "
          f"test acc {acc * 100:.2f}% (10000 images) | train time "
          f"{train_time:.0f}s ({epochs} epochs) | {path} {size / 1024:.1f} KiB | "
          f"ops {', '.join(f'{k} x{v}' for k, v in sorted(ops.items()))}", flush=True)
    return summary


def export(model, path, keep_bn):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    kwargs = dict(opset_version=13, input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    if keep_bn:
        # PRESERVE skips the eval-mode peephole pass that fuses BN into Conv;
        # the model itself is in eval() so BN uses its running statistics.
        kwargs.update(training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)
    else:
        kwargs.update(do_constant_folding=True)
    torch.onnx.export(model, dummy, path, **kwargs)
    constants_to_initializers(path)


def constants_to_initializers(path):
    """The exporter emits ReLU6's Clip bounds as Constant nodes; turn every
    Constant node into a graph initializer so the graph holds compute ops only."""
    import onnx
    m = onnx.load(path)
    keep, moved = [], 0
    for node in m.graph.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 \
                and node.attribute[0].name == "value":
            t = onnx.TensorProto()
            t.CopyFrom(node.attribute[0].t)
            t.name = node.output[0]
            m.graph.initializer.append(t)
            moved += 1
        else:
            keep.append(node)
    if moved:
        del m.graph.node[:]
        m.graph.node.extend(keep)
        onnx.save(m, path)


def check_onnx(path, name, keep_bn, model, sample):
    import onnx
    from onnx import shape_inference
    m = onnx.load(path)
    onnx.checker.check_model(m)
    inferred = shape_inference.infer_shapes(m, strict_mode=True)
    onnx.checker.check_model(inferred)

    def dims(vi):
        return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
    (inp,), (out,) = inferred.graph.input, inferred.graph.output
    assert inp.name == "input" and dims(inp) == ["N", 1, 28, 28], (inp.name, dims(inp))
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert out.name == "logits" and dims(out) == ["N", 10], (out.name, dims(out))
    assert m.opset_import[0].version == 13

    ops = {}
    for node in m.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    extra = set(ops) - ALLOWED_OPS
    if extra:
        raise RuntimeError(f"{path}: unexpected op types {sorted(extra)}")
    if keep_bn and "BatchNormalization" not in ops:
        raise RuntimeError(f"{path}: BatchNormalization nodes were folded away")
    if name == "resnet_tiny":
        assert ops.get("Add", 0) >= 3 and "GlobalAveragePool" in ops, ops
    if name == "mobilenet_tiny":
        assert "Clip" in ops and "GlobalAveragePool" in ops, ops
        groups = [a.i for n in m.graph.node if n.op_type == "Conv"
                  for a in n.attribute if a.name == "group"]
        assert any(g > 1 for g in groups), "no depthwise conv in graph"
        for node in m.graph.node:   # ReLU6 -> Clip(0, 6)
            if node.op_type == "Clip":
                assert len(node.input) == 3 and all(node.input[1:]), node
    print(f"  {os.path.basename(path)}: check_model + shape inference OK; "
          f"input {dims(inp)}, output {dims(out)}; op types: "
          f"{dict(sorted(ops.items()))}", flush=True)

    # Cross-check the exported graph numerically against PyTorch, with
    # onnxruntime when present, else with the small numpy interpreter below.
    try:
        import onnxruntime as ort
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        got, how = sess.run(["logits"], {"input": sample.numpy()})[0], "onnxruntime"
    except ImportError:
        got, how = run_onnx_numpy(m, sample.numpy()), "numpy reference"
    model.eval()
    with torch.no_grad():
        ref = model(sample).numpy()
    err = float(np.abs(got - ref).max())
    agree = float((got.argmax(1) == ref.argmax(1)).mean())
    print(f"  {how} vs torch on {sample.shape[0]} test images: max abs diff "
          f"{err:.2e}, argmax agreement {agree * 100:.0f}%", flush=True)
    if err > 1e-3:
        raise RuntimeError(f"{path}: ONNX output differs from PyTorch by {err}")
    return ops


def run_onnx_numpy(m, x):
    """Minimal float32 interpreter for the op set above (NCHW, opset 13)."""
    from onnx import numpy_helper
    env = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    env[m.graph.input[0].name] = x

    def conv(x, w, b, strides, pads, group):
        n, c, h, wd = x.shape
        co, cig, kh, kw = w.shape
        x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
        ho = (x.shape[2] - kh) // strides[0] + 1
        wo = (x.shape[3] - kw) // strides[1] + 1
        cols = np.empty((n, c, kh, kw, ho, wo), np.float32)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, i, j] = x[:, :, i:i + strides[0] * ho:strides[0],
                                     j:j + strides[1] * wo:strides[1]]
        cols = cols.reshape(n, group, cig * kh * kw, ho * wo)
        wg = w.reshape(group, co // group, cig * kh * kw)
        y = np.einsum("gok,ngkp->ngop", wg, cols).reshape(n, co, ho, wo)
        return y if b is None else y + b.reshape(1, -1, 1, 1)

    for node in m.graph.node:
        a = {at.name: onnx_attr(at) for at in node.attribute}
        i = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Conv":
            k = i[1].shape[2:]
            y = conv(i[0], i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1]),
                     a.get("pads", [0, 0, 0, 0]), a.get("group", 1))
            assert list(a.get("kernel_shape", k)) == list(k)
        elif op == "Relu":
            y = np.maximum(i[0], 0)
        elif op == "Clip":
            y = np.clip(i[0], i[1], i[2])
        elif op == "MaxPool":
            kh, kw = a["kernel_shape"]
            sh, sw = a.get("strides", [1, 1])
            assert not any(a.get("pads", [0])) and a.get("ceil_mode", 0) == 0
            n, c, h, w = i[0].shape
            ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
            y = np.full((n, c, ho, wo), -np.inf, np.float32)
            for p in range(kh):
                for q in range(kw):
                    y = np.maximum(y, i[0][:, :, p:p + sh * ho:sh, q:q + sw * wo:sw])
        elif op == "GlobalAveragePool":
            y = i[0].mean(axis=(2, 3), keepdims=True)
        elif op == "BatchNormalization":
            sc, bi, mu, var = (v.reshape(1, -1, 1, 1) for v in i[1:5])
            y = (i[0] - mu) / np.sqrt(var + a.get("epsilon", 1e-5)) * sc + bi
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == "Reshape":
            y = i[0].reshape(i[1])
        elif op == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            B = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * A @ B
            if len(i) > 2:
                y = y + a.get("beta", 1.0) * i[2]
        else:
            raise NotImplementedError(op)
        env[node.output[0]] = y.astype(np.float32)
    return env[m.graph.output[0].name]


def onnx_attr(at):
    import onnx
    return onnx.helper.get_attribute_value(at)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, choices=list(MODELS) + ["all"])
    p.add_argument("--data-dir", default=fashion_mnist.DEFAULT_DIR)
    p.add_argument("--out-dir", default=HERE)
    p.add_argument("--epochs", type=int, default=0, help="override per-model epochs")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--flip", action="store_true",
                   help="seeded random horizontal-flip augmentation (off by default)")
    p.add_argument("--eval-every", type=int, default=0,
                   help="also evaluate on the test set every K epochs (slow on 2 cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-batches", type=int, default=0,
                   help="debug: stop each epoch after this many batches")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"python {sys.version.split()[0]}", flush=True)
    xtr, ytr = fashion_mnist.load("train", args.data_dir)
    xte, yte = fashion_mnist.load("test", args.data_dir)
    xtr, ytr = torch.from_numpy(xtr), torch.from_numpy(ytr)
    xte, yte = torch.from_numpy(xte), torch.from_numpy(yte)
    print(f"train {tuple(xtr.shape)}, test {tuple(xte.shape)}", flush=True)

    os.makedirs(args.out_dir, exist_ok=True)
    names = list(MODELS) if args.model == "all" else [args.model]
    results = [train_one(n, args, xtr, ytr, xte, yte) for n in names]
    print("\n| model | params | MACs/image | float test acc | train time | ONNX size |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['model']} | {r['params']:,} | {r['macs']:,} | {r['acc'] * 100:.2f}% "
              f"| {r['train_time']:.0f} s ({r['epochs']} epochs) | {r['size'] / 1024:.0f} KiB |")


if __name__ == "__main__":
    main()
