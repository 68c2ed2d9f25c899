#!/usr/bin/env python3
"""The same network, exported differently, must quantize to the same accuracy (issue 12).

Exporters write one trained network in many equivalent ways. This script rewrites each
example model (sdk/examples/models) into the forms other exporters produce, with the ONNX
package and numpy (arithmetic independent of Tern's own recipes), then runs
`tern quantize --eval` on the original and on every variant:

  bn_folded      BatchNormalization folded into the Conv before it (weights and a new bias)
  bn_kept        the reverse: each Conv followed by a BatchNormalization with per-channel
                 statistics (seeded), the Conv's weights and bias divided out accordingly
  zero_bias      Convs without a bias given an explicit all-zero one
  clip_nodes     Clip bounds (ReLU6) as Constant nodes instead of initializers
  reshape        Flatten before the classifier written as Reshape to (-1, features)
  matmul         Gemm written as MatMul by the transposed weights, then Add of the bias

Every variant must have the original's float accuracy (it is the same network) and quantize
to within --tolerance (0.1 point) of the original's quantized accuracy, at the default W8A8
and at W4A8 per-channel. Prints a table; exits 1 when a variant differs, 77 when the ONNX
Python package cannot be had (it comes from PyPI into build/bench-venv, made when missing).

    python3 scripts/export_variants.py [--models convnet_bn,...] [--eval-limit N] [--tern build/bin/tern]
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from peer_venv import ensure_venv  # noqa: E402  (one venv for every peer comparison)

SETTINGS = {"W8A8": [], "W4A8 per-channel": ["--weights", "int4", "--per-channel"]}


def reexec_with_onnx():
    """Runs this script again inside the venv when this python lacks the ONNX package."""
    try:
        import onnx  # noqa: F401
        if hasattr(onnx, "load"):
            return
    except ImportError:
        pass
    if os.environ.get("TERN_VARIANTS_REEXEC"):
        sys.exit("export_variants: the venv's python has no ONNX package")
    try:
        python = ensure_venv(("onnx", "numpy"))
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"export_variants: skipped, no ONNX Python package ({error})")
        sys.exit(77)
    os.environ["TERN_VARIANTS_REEXEC"] = "1"
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


class Model:
    """An ONNX model with lookups by name: initializers as numpy arrays, producers of values."""

    def __init__(self, path):
        import onnx
        self.proto = onnx.load(path)
        self.graph = self.proto.graph

    def array(self, name):
        from onnx import numpy_helper
        for tensor in self.graph.initializer:
            if tensor.name == name:
                return numpy_helper.to_array(tensor).astype("float32")
        raise KeyError(name)

    def set_array(self, name, array):
        from onnx import numpy_helper
        for index, tensor in enumerate(self.graph.initializer):
            if tensor.name == name:
                self.graph.initializer[index].CopyFrom(numpy_helper.from_array(array, name))
                return
        self.graph.initializer.append(numpy_helper.from_array(array, name))

    def drop_array(self, name):
        for index, tensor in enumerate(self.graph.initializer):
            if tensor.name == name:
                del self.graph.initializer[index]
                return

    def consumers(self, value):
        return [node for node in self.graph.node if value in node.input]

    def replace_nodes(self, old, new):
        """Puts the nodes `new` where `old` was (keeps the topological order)."""
        position = list(self.graph.node).index(old)
        self.graph.node.remove(old)
        for offset, node in enumerate(new):
            self.graph.node.insert(position + offset, node)

    def save(self, path):
        import onnx
        onnx.checker.check_model(self.proto)
        onnx.save(self.proto, path)


def attribute(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return a.f if a.type == a.FLOAT else a.i
    return default


def bn_folded(model):
    """Each Conv -> BatchNormalization pair becomes one Conv with the statistics folded in."""
    for bn in [n for n in model.graph.node if n.op_type == "BatchNormalization"]:
        conv = next((n for n in model.graph.node if bn.input[0] in n.output), None)
        if conv is None or conv.op_type != "Conv" or len(model.consumers(conv.output[0])) != 1:
            continue
        gamma, beta, mean, var = (model.array(name) for name in bn.input[1:5])
        scale = gamma / (var + attribute(bn, "epsilon", 1e-5)) ** 0.5
        weight = model.array(conv.input[1])
        bias = model.array(conv.input[2]) if len(conv.input) > 2 and conv.input[2] else 0.0 * mean
        model.set_array(conv.input[1], weight * scale.reshape(-1, *[1] * (weight.ndim - 1)))
        bias_name = conv.input[2] if len(conv.input) > 2 and conv.input[2] else conv.input[1] + ".folded_bias"
        model.set_array(bias_name, (bias - mean) * scale + beta)
        del conv.input[2:]
        conv.input.append(bias_name)
        conv.output[0] = bn.output[0]
        model.graph.node.remove(bn)
        for name in bn.input[1:5]:
            model.drop_array(name)
    return model


def bn_kept(model):
    """Each Conv is split into a Conv and a BatchNormalization computing the same function."""
    import numpy as np
    from onnx import helper
    rng = np.random.default_rng(12)
    for index, conv in enumerate([n for n in model.graph.node if n.op_type == "Conv"]):
        weight = model.array(conv.input[1])
        channels = weight.shape[0]
        bias = model.array(conv.input[2]) if len(conv.input) > 2 and conv.input[2] else np.zeros(channels, "float32")
        # Statistics as training leaves them: a per-channel scale s within [0.5, 2] and mean.
        s = rng.uniform(0.5, 2.0, channels).astype("float32")
        mean = rng.normal(0.0, 0.5, channels).astype("float32")
        var = rng.uniform(0.2, 3.0, channels).astype("float32")
        epsilon = 1e-5
        prefix = f"variant.bn{index}"
        model.set_array(conv.input[1], weight / s.reshape(-1, *[1] * (weight.ndim - 1)))
        model.set_array(prefix + ".gamma", (s * np.sqrt(var + epsilon)).astype("float32"))
        model.set_array(prefix + ".beta", (bias + s * mean).astype("float32"))
        model.set_array(prefix + ".mean", mean)
        model.set_array(prefix + ".var", var)
        if len(conv.input) > 2 and conv.input[2]:
            model.drop_array(conv.input[2])
        del conv.input[2:]
        output = conv.output[0]
        conv.output[0] = prefix + ".conv_output"
        bn = helper.make_node("BatchNormalization", [conv.output[0]] + [prefix + suffix for suffix in
                              (".gamma", ".beta", ".mean", ".var")], [output], epsilon=epsilon)
        model.graph.node.insert(list(model.graph.node).index(conv) + 1, bn)
    return model


def zero_bias(model):
    import numpy as np
    changed = False
    for conv in [n for n in model.graph.node if n.op_type == "Conv" and (len(n.input) < 3 or not n.input[2])]:
        name = conv.input[1] + ".zero_bias"
        model.set_array(name, np.zeros(model.array(conv.input[1]).shape[0], "float32"))
        del conv.input[2:]
        conv.input.append(name)
        changed = True
    return model if changed else None


def clip_nodes(model):
    from onnx import helper, numpy_helper
    initializers = {t.name for t in model.graph.initializer}
    bounds = {name for n in model.graph.node if n.op_type == "Clip" for name in n.input[1:] if name in initializers}
    if not bounds:
        return None
    for name in sorted(bounds):
        constant = helper.make_node("Constant", [], [name], value=numpy_helper.from_array(model.array(name), name))
        model.drop_array(name)
        model.graph.node.insert(0, constant)
    return model


def reshape(model):
    import numpy as np
    from onnx import helper
    flattens = [n for n in model.graph.node if n.op_type == "Flatten" and attribute(n, "axis", 1) == 1]
    if not flattens:
        return None
    for index, flatten in enumerate(flattens):
        gemm = model.consumers(flatten.output[0])[0]
        features = model.array(gemm.input[1]).shape[1 if attribute(gemm, "transB", 0) else 0]
        shape = f"variant.reshape{index}.shape"
        model.set_array(shape, np.array([-1, features], "int64"))
        model.replace_nodes(flatten, [helper.make_node("Reshape", [flatten.input[0], shape], list(flatten.output))])
    return model


def matmul(model):
    from onnx import helper
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]
    if not gemms or any(attribute(g, "alpha", 1.0) != 1.0 or attribute(g, "beta", 1.0) != 1.0 or
                        attribute(g, "transA", 0) for g in gemms):
        return None
    for gemm in gemms:
        weight = model.array(gemm.input[1])
        if attribute(gemm, "transB", 0):
            model.set_array(gemm.input[1], weight.T.copy())
        product = gemm.output[0] + ".matmul"
        nodes = [helper.make_node("MatMul", list(gemm.input[:2]), [product]),
                 helper.make_node("Add", [product, gemm.input[2]], list(gemm.output))]
        model.replace_nodes(gemm, nodes)
    return model


VARIANTS = {"bn_folded": bn_folded, "bn_kept": bn_kept, "zero_bias": zero_bias, "clip_nodes": clip_nodes,
            "reshape": reshape, "matmul": matmul}


def write_variants(model_name, folder):
    """{variant: path} for the original and every variant that applies to this model."""
    source = ROOT / "sdk" / "examples" / "models" / f"{model_name}.onnx"
    has_bn = any(n.op_type == "BatchNormalization" for n in Model(source).graph.node)
    paths = {"original": source}
    for variant, rewrite in VARIANTS.items():
        if (variant == "bn_folded") != has_bn and variant in ("bn_folded", "bn_kept"):
            continue  # fold what is kept, keep what is folded
        model = rewrite(Model(source))
        if model is None:
            continue
        path = folder / f"{model_name}.{variant}.onnx"
        model.save(path)
        paths[variant] = path
    return paths


def quantize(tern, path, setting, eval_limit):
    output = path.with_suffix(".quantized.onnx")
    command = [tern, "quantize", "--model", str(path), "-o", str(output), "--eval", "fashion-mnist",
               "--eval-limit", str(eval_limit), "--json", *SETTINGS[setting]]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        last = result.stderr.strip().splitlines()[-1:] or ["(no message)"]
        raise RuntimeError(f"{path.name} ({setting}): tern quantize failed: {last[0]}")
    report = json.loads(result.stdout)
    output.unlink()
    return report["float_accuracy"], report["quantized_accuracy"]


def main():
    reexec_with_onnx()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="convnet,convnet_bn,resnet_tiny,mobilenet_tiny")
    parser.add_argument("--eval-limit", type=int, default=10000, help="test images (the first N)")
    parser.add_argument("--tolerance", type=float, default=0.001, help="largest quantized accuracy gap (0.001 = 0.1 point)")
    parser.add_argument("--tern", default=str(ROOT / "build" / "bin" / "tern"))
    parser.add_argument("--build", default=str(ROOT / "build"))
    args = parser.parse_args()

    folder = Path(args.build) / "variants"
    folder.mkdir(parents=True, exist_ok=True)
    slack = 0.5 / args.eval_limit  # a gap of exactly the tolerance passes
    failures = []
    print(f"Quantized accuracy on the first {args.eval_limit} fashion-mnist test images; "
          f"each variant against its original (gap allowed {100 * args.tolerance:.2f} point):")
    print(f"{'model':<16} {'variant':<11} {'float':>7}  " + "  ".join(f"{s:>17}" for s in SETTINGS))
    for model_name in args.models.split(","):
        results = {}
        for variant, path in write_variants(model_name, folder).items():
            try:
                results[variant] = {setting: quantize(args.tern, path, setting, args.eval_limit) for setting in SETTINGS}
            except RuntimeError as error:
                failures.append(str(error))
                print(f"{model_name:<16} {variant:<11} FAILED: {error}", flush=True)
                if variant == "original":
                    break  # nothing to compare the variants with
                continue
            original = results["original"]
            cells = []
            for setting, (float_accuracy, quantized_accuracy) in results[variant].items():
                gap = quantized_accuracy - original[setting][1]
                cells.append(f"{100 * quantized_accuracy:6.2f}% ({100 * gap:+5.2f})")
                if abs(float_accuracy - original[setting][0]) > args.tolerance / 2 + slack:
                    failures.append(f"{model_name}.{variant}: float accuracy {float_accuracy} against the original's "
                                    f"{original[setting][0]}: not the same network")
                if abs(gap) > args.tolerance + slack:
                    failures.append(f"{model_name}.{variant} ({setting}): quantized accuracy {quantized_accuracy} "
                                    f"against the original's {original[setting][1]}")
            float_accuracy = results[variant]["W8A8"][0]
            print(f"{model_name:<16} {variant:<11} {100 * float_accuracy:6.2f}%  " + "  ".join(cells), flush=True)
    for failure in failures:
        print("FAIL", failure)
    if not failures:
        print("Every variant quantizes as its original does.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
