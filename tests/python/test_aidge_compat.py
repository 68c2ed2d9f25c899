"""The seed tutorial under tern.aidge: the example script and a verbatim copy of the notebook
run end to end, with the accuracies `tern quantize` gives on the same images.

Subprocesses get PYTHONPATH = $TERN_PYTHON_DIR (default: the folder the imported tern
package lives in, build/python from a checkout) and OMP_NUM_THREADS=1 on both sides, so the
comparisons are like for like and quick on a loaded machine.
"""
import gzip
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tern
from conftest import MODELS, ROOT
from tern.aidge import core as aidge_core, onnx as aidge_onnx, quantization as aidge_quantization

FASHION_MNIST = pathlib.Path("/usr/share/datasets/fashion-mnist")
SEED_TEXT = ROOT.parent / "shared" / "seed" / "ptq_tutorial.txt"
NOTEBOOK = pathlib.Path(__file__).with_name("seed_notebook.py")
TUTORIAL = ROOT / "sdk" / "examples" / "python" / "ptq_tutorial.py"
QUANTIZE = ROOT / "sdk" / "examples" / "python" / "quantize.py"
CONVNET = MODELS / "convnet.onnx"
# Evaluation and calibration images of the example script's runs: more than the notebook's
# 100 (on which float, 8-bit and 4-bit all score 90%), so that a difference would show.
IMAGES = 300

needs_fashion_mnist = pytest.mark.skipif(not FASHION_MNIST.is_dir(),
                                         reason=f"{FASHION_MNIST} missing (Debian's dataset-fashion-mnist)")


def environment():
    env = dict(os.environ)
    python_dir = os.environ.get("TERN_PYTHON_DIR") or str(pathlib.Path(tern.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [python_dir, env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = "1"
    env["MPLBACKEND"] = "Agg"
    return env


def run(*command, cwd=None):
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, cwd=cwd, env=environment(),
                          timeout=120)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def percent(pattern, text):
    """The last match of `pattern` (one group, a percentage) in `text`, as a float."""
    found = re.findall(pattern, text, re.MULTILINE)
    assert found, f"no line matching {pattern!r} in:\n{text}"
    return float(found[-1])


def tern_quantize(tern_bin, samples, count, weights, activations, accumulation, tmp, fake=True):
    """`tern quantize`'s float and quantized accuracy (percent, 3 decimals as the tutorial
    prints them), calibrated on the first `count` seed-format samples and evaluated on the
    first `count` Fashion-MNIST test images, the same images (test_seed_data_is_the_test_split)."""
    if not pathlib.Path(tern_bin).exists():
        pytest.skip(f"{tern_bin} not built")
    command = [tern_bin, "quantize", CONVNET, "--calib", samples, "--calib-size", count, "--weights", weights,
               "--activations", activations, "--accumulation", accumulation, "--clipping", "mse",
               "--eval", "fashion-mnist", "--eval-limit", count, "-o", tmp / f"q_{weights}.onnx", "--json"]
    result = json.loads(run(*command, *(["--fake"] if fake else [])))
    assert result["eval_samples"] == count and result["calibration_samples"] == count
    return round(100 * result["float_accuracy"], 3), round(100 * result["quantized_accuracy"], 3)


@pytest.fixture(scope="module")
def seed_data(tmp_path_factory):
    """The seed's data format, the first IMAGES test images, written by scripts/make_seed_data.py."""
    if not FASHION_MNIST.is_dir():
        pytest.skip(f"{FASHION_MNIST} missing (Debian's dataset-fashion-mnist)")
    folder = tmp_path_factory.mktemp("seed_data")
    run(sys.executable, ROOT / "scripts" / "make_seed_data.py", "--out", folder, "--count", IMAGES)
    return folder / "fashion_mnist_samples.npy.gz", folder / "fashion_mnist_labels.npy.gz"


def test_seed_data_is_the_test_split(seed_data):
    samples = np.load(gzip.GzipFile(seed_data[0], "r"))
    labels = np.load(gzip.GzipFile(seed_data[1], "r"))
    assert samples.dtype == np.float32 and samples.shape == (IMAGES, 28, 28)
    assert labels.dtype == np.int64 and labels.shape == (IMAGES,)
    test = tern.load_fashion_mnist(str(FASHION_MNIST), "test").first(IMAGES)
    np.testing.assert_array_equal(samples, test.batch(0, IMAGES)[:, 0])  # bit for bit
    np.testing.assert_array_equal(labels, test.labels)


@needs_fashion_mnist
@pytest.mark.parametrize("fake", [True, False], ids=["fake_quantize", "integer"])
def test_tutorial_script_equals_tern_quantize(seed_data, tern_bin, tmp_path, fake):
    output = run(sys.executable, TUTORIAL, "--samples", seed_data[0], "--labels", seed_data[1],
                 "--nb-samples", IMAGES, "--explore", tmp_path / "pages",
                 "--fake-quantize" if fake else "--no-fake-quantize")
    assert "Available backends" in output and "EXAMPLE INFERENCES" in output
    assert "EXAMPLE QUANTIZED INFERENCES" in output
    float_accuracy = percent(r"^MODEL ACCURACY : ([0-9.]+)%$", output)
    for bits, precisions in ((8, ("int8", "int8", "int32")), (4, ("int4", "int4", "int16"))):
        quantized = percent(rf"^QUANTIZED MODEL ACCURACY \({bits} bits\) : ([0-9.]+)%$", output)
        cli_float, cli_quantized = tern_quantize(tern_bin, seed_data[0], IMAGES, *precisions, tmp_path, fake)
        assert (float_accuracy, quantized) == (cli_float, cli_quantized), f"{bits} bits:\n{output}"
    assert {p.name for p in (tmp_path / "pages").iterdir()} >= {
        "model_before_ptq.html", "model_after_PTQ_8bits.html", "model_after_PTQ_4bits.html"}


@needs_fashion_mnist
def test_pythonic_example_equals_tutorial_script(seed_data, tmp_path):
    pythonic = run(sys.executable, QUANTIZE, "--samples", seed_data[0], "--labels", seed_data[1],
                   "--nb-samples", IMAGES)
    tutorial = run(sys.executable, TUTORIAL, "--samples", seed_data[0], "--labels", seed_data[1],
                   "--nb-samples", IMAGES, "--explore", tmp_path)
    assert percent(r"^float accuracy: ([0-9.]+)%", pythonic) == percent(r"^MODEL ACCURACY : ([0-9.]+)%$", tutorial)
    for bits in (8, 4):
        assert percent(rf"^{bits}-bit accuracy: ([0-9.]+)%", pythonic) == percent(
            rf"^QUANTIZED MODEL ACCURACY \({bits} bits\) : ([0-9.]+)%$", tutorial)


# ---- the notebook's own code ------------------------------------------------------------

IMPORT_LINES = {
    "from tern.aidge import core as aidge_core, onnx as aidge_onnx, backend_cpu as aidge_backend_cpu",
    "from tern.aidge import quantization as aidge_quantization, model_explorer as aidge_model_explorer",
}

# The notebook's 4-bit settings and their 8-bit counterparts (the tutorial's own advice).
EIGHT_BITS = {
    "NB_BITS = 4": "NB_BITS = 8",
    "weight_precision = aidge_core.dtype.int4": "weight_precision = aidge_core.dtype.int8",
    "activation_precision = aidge_core.dtype.int4": "activation_precision = aidge_core.dtype.int8",
    "    aidge_core.dtype.int16": "    aidge_core.dtype.int32",
}


def test_seed_notebook_is_the_seed_code():
    """Every line of seed_notebook.py but its comments and the two import lines is a line of
    the seed text, in the seed's order."""
    if not SEED_TEXT.exists():
        pytest.skip(f"{SEED_TEXT} not here (the seed lives beside the repository)")
    seed_lines = SEED_TEXT.read_text(encoding="utf-8").splitlines()
    position = 0
    for line in NOTEBOOK.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line in IMPORT_LINES:
            continue
        try:
            position = seed_lines.index(line, position) + 1
        except ValueError:
            pytest.fail(f"seed_notebook.py line {line!r} is not in the seed's code after line {position}")
    for name in ("aidge_core", "aidge_onnx", "aidge_backend_cpu", "aidge_quantization", "aidge_model_explorer"):
        assert f"import {name}" in seed_lines  # the five imports that IMPORT_LINES replace


def run_notebook(folder, source, seed_data):
    """seed_notebook.py's code (`source`) in `folder`, beside the files its cells read."""
    folder.mkdir()
    shutil.copy(CONVNET, folder / "ConvNet.onnx")
    shutil.copy(seed_data[0], folder / "mnist_samples.npy.gz")
    shutil.copy(seed_data[1], folder / "mnist_labels.npy.gz")
    (folder / "notebook.py").write_text(source, encoding="utf-8")
    output = run(sys.executable, "notebook.py", cwd=folder)
    assert output.count("already exists: not downloading it again") == 3
    assert (folder / "model_before_ptq.html").exists() and (folder / "model_after_PTQ.html").exists()
    return percent(r"^ MODEL ACCURACY : ([0-9.]+)%$", output), percent(
        r"^ QUANTIZED MODEL ACCURACY : ([0-9.]+)%$", output)


@needs_fashion_mnist
def test_seed_notebook_runs_to_the_end(seed_data, tern_bin, tmp_path):
    """The notebook as it is (4 bits) runs to the end, with tern quantize's accuracies on its
    100 images; its 8-bit variant loses at most 0.1 point."""
    pytest.importorskip("matplotlib")  # the notebook plots samples
    source = NOTEBOOK.read_text(encoding="utf-8")
    float_accuracy, four_bits = run_notebook(tmp_path / "four", source, seed_data)
    assert (float_accuracy, four_bits) == tern_quantize(tern_bin, seed_data[0], 100, "int4", "int4", "int16",
                                                        tmp_path)
    for old, new in EIGHT_BITS.items():
        assert source.count(f"\n{old}\n") == 1, old
        source = source.replace(f"\n{old}\n", f"\n{new}\n")
    float_again, eight_bits = run_notebook(tmp_path / "eight", source, seed_data)
    assert float_again == float_accuracy
    assert float_accuracy - eight_bits <= 0.1, (float_accuracy, eight_bits)  # loses at most 0.1 (may gain)


# ---- the layer's own behaviour ------------------------------------------------------------

def test_tensor_copies_and_converts_back():
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    tensor = aidge_core.Tensor(array)
    array[:] = -1  # the tutorial rescales its samples after making its calibration tensors
    assert np.array(tensor).tolist() == [[0, 1, 2], [3, 4, 5]]
    np.array(tensor)[:] = 7  # nor does a converted copy write back
    assert np.array(tensor)[0, 0] == 0
    assert tensor.dims() == [2, 3] and tensor.dtype() == aidge_core.dtype.float32
    assert "cpu" in aidge_core.Tensor.get_available_backends()


def test_unsupported_calls_say_so():
    with pytest.raises(NotImplementedError, match="aidge_core.Producer"):
        aidge_core.Producer
    assert not hasattr(aidge_core, "Producer")  # still an AttributeError for hasattr
    model = aidge_onnx.load_onnx(str(CONVNET))
    with pytest.raises(NotImplementedError, match="GraphView.compile"):
        model.compile("cpu", aidge_core.dtype.float32)
    with pytest.raises(NotImplementedError, match="set_datatype"):
        model.set_datatype(aidge_core.dtype.int8)


def test_download_file_skips_existing_and_explains_failure(tmp_path, capsys):
    existing = tmp_path / "ConvNet.onnx"
    existing.write_bytes(b"x")
    aidge_core.utils.download_file(file_path=str(existing), file_url="http://invalid.invalid/ConvNet.onnx")
    assert "already exists" in capsys.readouterr().out
    missing = tmp_path / "absent.onnx"
    with pytest.raises(RuntimeError, match="could not download .* put the file there yourself"):
        aidge_core.utils.download_file(file_path=str(missing), file_url=(tmp_path / "nowhere").as_uri())
    assert not missing.exists() and not list(tmp_path.glob("*.partial"))


def test_attributes_tags_and_scheduler_recompiling():
    images = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    model = aidge_onnx.load_onnx(str(CONVNET))
    aidge_core.remove_flatten(model)
    assert "Flatten" not in {node.type() for node in model.get_nodes()}
    scheduler = aidge_core.SequentialScheduler(model)
    scheduler.forward(True, [aidge_core.Tensor(images)])
    output_node, index = model.get_ordered_outputs()[0]
    float_logits = np.array(output_node.get_operator().get_output(index))
    reference = tern.SequentialScheduler(tern.load_for_inference(str(CONVNET))).forward(images)[0]
    np.testing.assert_array_equal(float_logits, reference)

    # A hand-tagged node keeps its tag through auto_assign_node_precision (manual mixed precision).
    first = model.get_ordered_nodes()[0]
    first.attributes().add_attr("quantization.ptq.precision", aidge_core.dtype.int8)
    aidge_quantization.auto_assign_node_precision(model, aidge_core.dtype.int4, aidge_core.dtype.int4,
                                                  aidge_core.dtype.int16)
    assert first.attributes().get_attr("quantization.ptq.precision") == aidge_core.dtype.int8
    last = model.get_ordered_nodes()[-1]
    assert last.attributes().has_attr("quantization.ptq.precision")
    with pytest.raises(KeyError, match="already exists"):
        last.attributes().add_attr("quantization.ptq.precision", aidge_core.dtype.int8)

    aidge_quantization.quantize_network(model, [aidge_core.Tensor(image[None]) for image in images],
                                        aidge_quantization.Clipping.MSE, fake_quantize=True)
    with pytest.raises(RuntimeError, match="holds no data"):
        model.get_ordered_outputs()[0][0].get_operator().get_output(0)  # the old outputs are gone
    scaled = np.round(images * 127)
    scheduler.forward(True, [aidge_core.Tensor(scaled)])  # the old scheduler recompiles
    stale = np.array(model.get_ordered_outputs()[0][0].get_operator().get_output(0))
    aidge_core.SequentialScheduler(model).forward(True, [aidge_core.Tensor(scaled)])
    fresh = np.array(model.get_ordered_outputs()[0][0].get_operator().get_output(0))
    np.testing.assert_array_equal(stale, fresh)
    assert not np.array_equal(fresh, float_logits)
    # The same as Tern's own pipeline over the same calibration images (batched as tern quantize does).
    graph = tern.load_model(str(CONVNET))
    tern.ptq.auto_assign_node_precision(graph, tern.int4, tern.int4, tern.int16)
    graph.node(first.name()).meta["quantization.ptq.precision"] = tern.int8
    tern.ptq.quantize_network(graph, images, clipping_mode=tern.ptq.Clipping.MSE, fake_quantize=True)
    tern.prepare_for_inference(graph)  # as the compatible scheduler runs it
    np.testing.assert_array_equal(fresh, tern.SequentialScheduler(graph).forward(tern.ptq.scale_input(graph, images))[0])


def fixed_batch_copy(path, out):
    """The model of `path` with a batch size fixed to 1 (as AIDGE's own ConvNet.onnx may be)."""
    source = tern.load_model(str(path))
    graph = tern.Graph()
    for value in source.inputs:
        graph.add_input(value.name, value.dtype, [1, *value.shape[1:]])
    constants = set()
    for node in source.nodes:
        for value in node.inputs:
            if value is not None and value.constant is not None and value.name not in constants:
                graph.add_constant(value.name, value.constant)
                constants.add(value.name)
        graph.add_node(node.type, [v.name if v is not None else "" for v in node.inputs],
                       [v.name for v in node.outputs], dict(node.attrs), node.name)
    for value in source.outputs:
        graph.add_output(value.name)
    tern.save_model(graph, str(out))
    return out


def test_fixed_batch_models_and_float64_samples_work(tmp_path):
    """Data and models nobody here made: float64 samples, a model that takes one image."""
    model = aidge_onnx.load_onnx(str(fixed_batch_copy(CONVNET, tmp_path / "ConvNet.onnx")))
    assert model.tern_graph.inputs[0].shape == (1, 1, 28, 28)
    samples = np.random.default_rng(1).random((4, 28, 28))  # float64
    scheduler = aidge_core.SequentialScheduler(model)
    scheduler.forward(True, [aidge_core.Tensor(np.reshape(samples[0], (1, 1, 28, 28)))])
    logits = np.array(model.get_ordered_outputs()[0][0].get_operator().get_output(0))
    assert logits.shape == (1, 10) and logits.dtype == np.float32
    aidge_quantization.auto_assign_node_precision(model, aidge_core.dtype.int8, aidge_core.dtype.int8,
                                                  aidge_core.dtype.int32)
    aidge_quantization.quantize_network(network=model, calibration_set=[
        aidge_core.Tensor(np.reshape(s, (1, 1, 28, 28))) for s in samples], clipping_mode=aidge_quantization.Clipping.MSE)
    scheduler = aidge_core.SequentialScheduler(model)
    scheduler.forward(True, [aidge_core.Tensor(np.round(np.reshape(samples[0], (1, 1, 28, 28)) * 127))])
    assert np.array(model.get_ordered_outputs()[0][0].get_operator().get_output(0)).shape == (1, 10)
