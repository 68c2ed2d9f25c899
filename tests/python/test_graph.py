"""Graphs built and read from Python: forward against NumPy, live attributes, handles,
recipes, model files and their errors."""
import numpy as np
import pytest

import tern
from conftest import MODELS


def dense_relu_graph(weights, bias):
    graph = tern.Graph()
    graph.add_input("x", tern.float32, [None, weights.shape[1]])
    graph.add_constant("w", weights)
    graph.add_constant("b", bias)
    graph.add_node("Gemm", ["x", "w", "b"], ["h"], {"transB": 1}, name="dense")
    graph.add_node("Relu", ["h"], ["y"], name="relu")
    graph.add_output("y")
    graph.validate()
    return graph


def test_a_graph_built_in_python_computes_what_numpy_computes():
    rng = np.random.default_rng(0)
    weights = rng.standard_normal((5, 7)).astype(np.float32)
    bias = rng.standard_normal(5).astype(np.float32)
    x = rng.standard_normal((3, 7)).astype(np.float32)
    graph = dense_relu_graph(weights, bias)
    (y,) = tern.SequentialScheduler(graph, "cpu").forward([x])
    expected = np.maximum(x.astype(np.float64) @ weights.T.astype(np.float64) + bias, 0)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_a_fixed_input_shape_folds_the_shape_arithmetic_of_a_dynamic_batch():
    # Reshape to [N, -1] the way PyTorch exports it: Shape -> Gather -> Unsqueeze -> Concat.
    graph = tern.Graph()
    graph.add_input("x", tern.float32, [None, 2, 3])
    graph.add_constant("zero", np.array(0, np.int64))
    graph.add_constant("axes", np.array([0], np.int64))
    graph.add_constant("rest", np.array([-1], np.int64))
    graph.add_node("Shape", ["x"], ["dims"])
    graph.add_node("Gather", ["dims", "zero"], ["batch"])
    graph.add_node("Unsqueeze", ["batch", "axes"], ["batch1"])
    graph.add_node("Concat", ["batch1", "rest"], ["to"], {"axis": 0})
    graph.add_node("Reshape", ["x", "to"], ["y"], name="flatten")
    graph.add_output("y")
    assert tern.fold_shapes(graph) == 0, "the batch is dynamic"
    tern.set_input_shape(graph, "x", [4, 2, 3])
    assert [n.type for n in graph.nodes] == ["Reshape"]
    x = np.arange(24, dtype=np.float32).reshape(4, 2, 3)
    (y,) = tern.SequentialScheduler(graph, "cpu").forward([x])
    np.testing.assert_array_equal(y, x.reshape(4, 6))
    with pytest.raises(tern.Error, match="does not fit its declared shape"):
        tern.set_input_shape(graph, "x", [4, 3, 3])


def test_nodes_values_and_attributes_read_from_the_graph():
    graph = dense_relu_graph(np.ones((2, 3), np.float32), np.zeros(2, np.float32))
    assert [n.name for n in graph.nodes] == ["dense", "relu"]
    dense = graph.node("dense")
    assert dense.type == "Gemm" and dense.attrs["transB"] == 1
    assert [v.name for v in dense.inputs] == ["x", "w", "b"]
    assert dense.inputs[0].shape == (None, 3) and dense.inputs[0].dtype == tern.float32
    np.testing.assert_array_equal(dense.inputs[1].constant.numpy(), np.ones((2, 3)))
    assert dense.outputs[0].consumers == [graph.node("relu")]
    assert graph.value("y").producer == graph.node("relu")
    assert graph.inputs[0].producer is None and graph.find_node("nothing") is None


def test_meta_is_live_and_takes_data_types_by_name():
    graph = dense_relu_graph(np.ones((2, 3), np.float32), np.zeros(2, np.float32))
    meta = graph.node("dense").meta
    meta["quantization.ptq.precision"] = tern.int4
    meta["note"] = "hand-tagged"
    meta["bounds"] = [0, 6.5]
    meta["ids"] = (1, np.int64(2))
    again = graph.node("dense").meta
    assert again["quantization.ptq.precision"] == "int4"
    assert dict(again.items()) == {"bounds": [0.0, 6.5], "ids": [1, 2], "note": "hand-tagged",
                                   "quantization.ptq.precision": "int4"}
    del again["note"]
    assert "note" not in meta and len(meta) == 3
    with pytest.raises(KeyError):
        meta["note"]
    with pytest.raises(tern.Error, match="attribute 'bad'.*not an attribute type"):
        meta["bad"] = {"a": 1}
    graph.meta["source"] = "test"
    assert graph.meta["source"] == "test"


def test_handles_of_removed_nodes_raise_instead_of_dangling():
    graph = tern.load_model(MODELS / "convnet.onnx")
    flatten = next(node for node in graph.nodes if node.type == "Flatten")
    assert tern.remove_flatten(graph) == 1
    with pytest.raises(tern.Error, match="no longer in its graph"):
        flatten.type


def test_recipes_keep_results(fmnist300):
    images = tern.read_npy(fmnist300[0])[:16].reshape(16, 1, 28, 28)
    graph = tern.load_model(MODELS / "convnet_bn.onnx")
    (before,) = tern.SequentialScheduler(graph).forward(images)
    batchnorms = sum(node.type == "BatchNormalization" for node in graph.nodes)
    assert batchnorms > 0 and tern.fold_batchnorm(graph) == batchnorms
    assert not any(node.type == "BatchNormalization" for node in graph.nodes)
    (after,) = tern.SequentialScheduler(graph).forward(images)
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-4)


def test_save_and_load_round_trip(tmp_path):
    graph = tern.load_model(MODELS / "convnet.onnx")
    tern.save_model(graph, tmp_path / "copy.onnx")
    again = tern.load_model(tmp_path / "copy.onnx")
    assert [n.type for n in again.nodes] == [n.type for n in graph.nodes]


def test_model_file_errors_name_the_file(tmp_path):
    with pytest.raises(tern.Error, match="missing.onnx"):
        tern.load_model(tmp_path / "missing.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07 not a protobuf \xff\xff\xff")
    with pytest.raises(tern.Error, match="garbage.onnx"):
        tern.load_model(garbage)
    assert garbage.read_bytes() == b"\x08\x07 not a protobuf \xff\xff\xff"  # never modified
    with pytest.raises(tern.Error):
        tern.load_model(tmp_path / "model.unknownformat")


def test_invalid_graphs_are_refused_with_the_node():
    graph = tern.Graph()
    graph.add_input("x", tern.float32, [1, 4])
    graph.add_node("Relu", ["x", "x"], ["y"], name="two_inputs")
    graph.add_output("y")
    with pytest.raises(tern.Error, match="two_inputs"):
        graph.validate()
