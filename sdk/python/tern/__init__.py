"""Tern from Python: load ONNX models, run them on a backend chosen by name, and quantize
them after training (the seed tutorial's PTQ), with NumPy arrays in and out.

    import tern
    graph = tern.load_model("convnet.onnx")
    logits = tern.SequentialScheduler(graph).forward(images)[0]      # images: float32 N×1×28×28
    tern.ptq.auto_assign_node_precision(graph, tern.int8, tern.int8, tern.int32)
    tern.ptq.quantize_network(graph, images[:100], clipping_mode=tern.ptq.Clipping.MSE)

Errors raise tern.Error (a RuntimeError) with Tern's one-line message. docs/PYTHON.md has
the whole API and the seed tutorial's (tern.aidge).
"""
from ._tern import (  # noqa: F401  (the public API)
    AttributeMap,
    Backend,
    BackendInfo,
    DataType,
    Dataset,
    Error,
    Graph,
    Node,
    SequentialScheduler,
    Tensor,
    Value,
    __version__,
    available_backends,
    explore,
    export_c,
    fold_batchnorm,
    fold_constants,
    fold_shapes,
    fuse_activations,
    load_backend,
    load_fashion_mnist,
    load_for_inference,
    load_model,
    load_npy_dataset,
    open_dataset,
    prepare_for_inference,
    read_idx,
    read_npy,
    remove_flatten,
    save_model,
    set_input_shape,
    write_npy,
)
from . import ptq  # noqa: F401
from .evaluate import evaluate  # noqa: F401

float32 = DataType.float32
float64 = DataType.float64
int4 = DataType.int4
uint4 = DataType.uint4
int8 = DataType.int8
uint8 = DataType.uint8
int16 = DataType.int16
int32 = DataType.int32
int64 = DataType.int64
