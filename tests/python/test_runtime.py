"""Backends, the scheduler and evaluation, against the C++ command line tool's results."""
import json
import subprocess
import threading
import time

import numpy as np
import pytest

import tern
from conftest import MODELS


def run_cli(tern_bin, *args):
    done = subprocess.run([str(tern_bin), *map(str, args), "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_backends_are_listed_and_loaded_by_name():
    backends = {info.name: info for info in tern.available_backends()}
    assert backends["cpu"].usable and backends["cpu"].reason == ""
    cpu = tern.load_backend("CPU")  # names compare case-insensitively
    assert cpu.name == "cpu"
    cpu.set_num_threads(0)
    with pytest.raises(tern.Error, match="nosuchbackend"):
        tern.load_backend("nosuchbackend")


@pytest.mark.parametrize("model", ["convnet.onnx", "resnet_tiny.onnx", "mobilenet_tiny.onnx"])
def test_logits_equal_tern_run_bit_for_bit(tmp_path, tern_bin, fmnist300, model):
    images = tern.read_npy(fmnist300[0])[:32].reshape(32, 1, 28, 28)
    np.save(tmp_path / "images.npy", images)
    run_cli(tern_bin, "run", MODELS / model, "--input", tmp_path / "images.npy", "--output-dir", tmp_path)
    (expected_file,) = [p for p in tmp_path.glob("*.npy") if p.name != "images.npy"]
    graph = tern.load_for_inference(MODELS / model)  # what tern run runs
    (logits,) = tern.SequentialScheduler(graph).forward(images)
    np.testing.assert_array_equal(logits, np.load(expected_file))


def test_evaluate_equals_tern_eval(tern_bin, fmnist300):
    samples, labels = fmnist300
    cli = run_cli(tern_bin, "eval", MODELS / "resnet_tiny.onnx", "--dataset", samples, "--labels", labels)
    dataset = tern.load_npy_dataset(samples, labels)
    assert len(dataset) == 300 and dataset.sample_shape == (1, 28, 28)
    accuracy = tern.evaluate(tern.load_for_inference(MODELS / "resnet_tiny.onnx"), dataset)
    assert accuracy == pytest.approx(cli["accuracy"], abs=1e-12)


def test_wrong_inputs_raise_with_terns_message():
    scheduler = tern.SequentialScheduler(tern.load_model(MODELS / "convnet.onnx"))
    with pytest.raises(tern.Error, match="graph input 'input' must be float32, got float64"):
        scheduler.forward(np.zeros((1, 1, 28, 28)))
    with pytest.raises(tern.Error, match=r"must have shape \[\?,1,28,28\].*got \[2,3,28,28\]"):
        scheduler.forward(np.zeros((2, 3, 28, 28), np.float32))
    with pytest.raises(tern.Error, match="takes 1 inputs, got 2"):
        scheduler.forward([np.zeros((1, 1, 28, 28), np.float32)] * 2)
    with pytest.raises(tern.Error, match="has no Tern element type"):
        scheduler.forward(np.zeros((1, 1, 28, 28), np.float16))
    with pytest.raises(tern.Error, match=r"graph input 'input' is empty \(\[0,1,28,28\]\)"):
        scheduler.forward(np.zeros((0, 1, 28, 28), np.float32))
    with pytest.raises(tern.Error, match="has no Tern element type"):
        scheduler.forward([None])


def test_datasets_check_what_they_are_given():
    with pytest.raises(tern.Error, match="samples must be float32 N×C×H×W"):
        tern.Dataset(np.zeros((3, 28, 28), np.float32))
    with pytest.raises(tern.Error, match="2 labels for 3 samples"):
        tern.Dataset(np.zeros((3, 1, 28, 28), np.float32), labels=np.zeros(2, np.int64))
    dataset = tern.Dataset(np.ones((3, 1, 2, 2), np.float32), labels=[0, 1, 2])
    np.testing.assert_array_equal(dataset.batch(1, 5), np.ones((2, 1, 2, 2)))
    with pytest.raises(tern.Error, match="past its 3 samples"):
        dataset.batch(3, 1)


def test_the_scheduler_keeps_the_graph_it_compiled():
    graph = tern.load_model(MODELS / "convnet.onnx")
    scheduler = tern.SequentialScheduler(graph)
    images = np.random.default_rng(1).random((4, 1, 28, 28), np.float32)
    (before,) = scheduler.forward(images)
    tern.ptq.auto_assign_node_precision(graph, tern.int8, tern.int8, tern.int32)
    tern.ptq.quantize_network(graph, [images])  # rewrites the caller's graph
    (after,) = scheduler.forward(images)
    np.testing.assert_array_equal(after, before)
    assert all(step["backend"] == "cpu" for step in scheduler.plan())


def test_forward_releases_the_gil(fmnist300):
    """Another Python thread runs while forward() computes: it stamps the time before the
    long forward returns, which it could not do if forward() held the GIL."""
    images = np.tile(tern.read_npy(fmnist300[0]).reshape(300, 1, 28, 28), (8, 1, 1, 1))
    scheduler = tern.SequentialScheduler(tern.load_model(MODELS / "resnet_tiny.onnx"))
    started, times = threading.Event(), {}

    def work():
        started.set()
        scheduler.forward(images)
        times["forward_done"] = time.monotonic()

    worker = threading.Thread(target=work)
    worker.start()
    started.wait()
    time.sleep(0.05)
    times["other_thread"] = time.monotonic()
    worker.join()
    assert times["other_thread"] < times["forward_done"]
