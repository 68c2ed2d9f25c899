"""tern.ptq against `tern quantize`: the same quantized model from the same calibration
images, logits equal bit for bit; options, progress and errors."""
import subprocess

import numpy as np
import pytest

import tern
from conftest import MODELS


@pytest.mark.parametrize("model,bits,options,flags", [
    ("convnet.onnx", (tern.int8, tern.int8, tern.int32), {}, []),
    ("resnet_tiny.onnx", (tern.int4, tern.int4, tern.int16), {"per_channel": True},
     ["--weights", "int4", "--activations", "int4", "--accumulation", "int16", "--per-channel", "--clipping", "mse"]),
    ("mobilenet_tiny.onnx", (tern.int8, tern.int8, tern.int32), {"clipping_mode": tern.ptq.Clipping.KL},
     ["--clipping", "kl"]),
])
def test_quantized_logits_equal_tern_quantize(tmp_path, tern_bin, fmnist300, model, bits, options, flags):
    samples, _ = fmnist300
    cli_model = tmp_path / "cli.onnx"
    done = subprocess.run([str(tern_bin), "quantize", str(MODELS / model), "-o", str(cli_model), "--calib",
                           str(samples), "--calib-size", "100", "--fake", *(flags or ["--clipping", "mse"])],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    graph = tern.load_model(MODELS / model)
    tern.ptq.auto_assign_node_precision(graph, *bits)
    calibration = tern.load_npy_dataset(samples).first(100)
    settings = {"clipping_mode": tern.ptq.Clipping.MSE, "fake_quantize": True, **options}
    seconds = tern.ptq.quantize_network(graph, calibration, **settings)
    assert "compute_ranges" in seconds and tern.ptq.is_quantized(graph)

    images = tern.read_npy(samples)[100:164].reshape(64, 1, 28, 28)
    scaled = tern.ptq.scale_input(graph, images)
    scale = 2 ** (bits[1].bits - 1) - 1
    np.testing.assert_array_equal(scaled, np.clip(np.round(images * scale), -scale - 1, scale))
    (ours,) = tern.SequentialScheduler(graph).forward(scaled)
    cli_graph = tern.load_model(cli_model)
    (theirs,) = tern.SequentialScheduler(cli_graph).forward(tern.ptq.scale_input(cli_graph, images))
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("clipping", [tern.ptq.Clipping.MSE, tern.ptq.Clipping.KL])
def test_however_the_calibration_set_is_batched_the_model_is_the_same(fmnist300, clipping):
    """The seed's list of one-image tensors, one array in batches of 32 and a Dataset in
    batches of 64 give the same quantized network (histograms over the final ranges)."""
    images = tern.read_npy(fmnist300[0])[:96].reshape(96, 1, 28, 28)
    results = []
    for calibration, batch_size in (([image[None] for image in images], 64), (images, 32),
                                    (tern.Dataset(images, description="96 images"), 64)):
        graph = tern.load_model(MODELS / "mobilenet_tiny.onnx")
        tern.ptq.auto_assign_node_precision(graph, tern.int8, tern.int8, tern.int32)
        tern.ptq.quantize_network(graph, calibration, batch_size=batch_size, clipping_mode=clipping)
        results.append(tern.SequentialScheduler(graph).forward(tern.ptq.scale_input(graph, images))[0])
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_manual_tags_survive_auto_assignment():
    graph = tern.load_model(MODELS / "convnet.onnx")
    first = graph.nodes[0]
    first.meta["quantization.ptq.precision"] = tern.int16
    tern.ptq.auto_assign_node_precision(graph, tern.int8, tern.int8, tern.int32)
    assert first.meta["quantization.ptq.precision"] == "int16"
    second_conv = [node for node in graph.nodes if node.type == "Conv"][1]
    assert second_conv.meta["quantization.ptq.precision"] == "int8"


def test_verbose_reports_and_shows_progress(capsys, fmnist300):
    images = tern.read_npy(fmnist300[0])[:64].reshape(64, 1, 28, 28)
    graph = tern.load_model(MODELS / "convnet.onnx")
    tern.ptq.auto_assign_node_precision(graph, tern.int8, tern.int8, tern.int32)
    lines = []
    tern.ptq.quantize_network(graph, images, batch_size=16, clipping_mode=tern.ptq.Clipping.MSE, verbose=True,
                              log=lines.append)
    assert any("compute_ranges" in line for line in lines)
    err = capsys.readouterr().err
    assert "calibration batches (pass 1)" in err and "4/4" in err.replace(" ", "")


def test_bad_options_and_untagged_graphs_are_refused(fmnist300):
    graph = tern.load_model(MODELS / "convnet.onnx")
    with pytest.raises(TypeError, match="unknown quantization option 'clipping'"):
        tern.ptq.quantize_network(graph, [np.zeros((1, 1, 28, 28), np.float32)], clipping="mse")
    with pytest.raises(tern.Error, match="has no 'quantization.ptq.[a-z]*' tag"):
        tern.ptq.quantize_network(graph, [np.zeros((1, 1, 28, 28), np.float32)])
    tern.ptq.auto_assign_node_precision(graph, tern.int8, tern.int8, tern.int32)
    with pytest.raises(tern.Error, match="float32"):
        tern.ptq.quantize_network(graph, [np.zeros((1, 1, 28, 28), np.float64)])
    with pytest.raises(tern.Error, match="wider"):
        tern.ptq.auto_assign_node_precision(graph, tern.int8, tern.int8, tern.int8)


def test_qdq_report_mixed_precision_and_c_export_from_python(tmp_path, fmnist300):
    """The deployment and diagnosis calls reach Python: QDQ form, per-node SQNR, mixed
    precision and the C export, each checked for what it promises."""
    calibration = tern.load_npy_dataset(fmnist300[0]).first(100)
    float_model = tern.load_model(MODELS / "convnet.onnx")
    quantized = tern.load_model(MODELS / "convnet.onnx")
    tern.ptq.auto_assign_node_precision(quantized, tern.int8, tern.int8, tern.int32)
    tern.ptq.quantize_network(quantized, calibration, fake_quantize=True, clipping_mode=tern.ptq.Clipping.MSE)

    report = tern.ptq.measure_quality(float_model, quantized, calibration)
    assert [entry["op"] for entry in report] == ["Conv", "Conv", "Gemm", "Gemm"]
    assert all(entry["sqnr_alone_db"] > 25 for entry in report)  # 8 bits: about 6 dB a bit

    qdq = quantized.clone()
    tern.ptq.to_qdq(qdq)
    assert not tern.ptq.is_quantized(qdq)  # takes the float input as it is
    assert {node.type for node in qdq.nodes} >= {"QuantizeLinear", "DequantizeLinear"}
    # Imported back onto integer kernels: the Convs and Gemms read integers, and the logits
    # stay within one step of the QDQ file's float meaning (its last DequantizeLinear's scale).
    assert tern.ptq.is_qdq(qdq) and not tern.ptq.is_qdq(float_model)
    integer = qdq.clone()
    tern.ptq.qdq_to_integer(integer)
    assert {node.type for node in integer.nodes} >= {"Requantize"}
    images = tern.read_npy(fmnist300[0])[:64].reshape(64, 1, 28, 28)
    (meaning,) = tern.SequentialScheduler(qdq).forward(images)
    (ours,) = tern.SequentialScheduler(integer).forward(images)
    step = max(float(np.abs(meaning).max()), 1e-6) / 127
    assert np.abs(ours - meaning).max() <= 1.01 * step

    summary = tern.export_c(quantized, tmp_path / "c", name="net")
    assert summary["input_size"] == 784 and summary["output_size"] == 10
    assert (tmp_path / "c" / "net.h").read_text().count("NET_ARENA_SIZE") == 1

    mixed_graph = tern.load_model(MODELS / "convnet.onnx")
    mixed = tern.ptq.quantize_mixed_precision(mixed_graph, calibration, budget=0.25, per_channel=True,
                                              clipping_mode=tern.ptq.Clipping.MSE)
    assert mixed["mac_fraction"] <= 0.25 and mixed["sqnr_db"] > mixed["sqnr_low_db"]
    assert tern.ptq.is_quantized(mixed_graph)
