"""aidge_onnx under Tern: ONNX models loaded by Tern's onnx plugin.

    model = aidge_onnx.load_onnx("ConvNet.onnx", verbose=False)   # a core.GraphView

The model is imported as it is in the file (tern.load_model): older opsets rewritten into
Tern's opset-13 forms, nothing folded. Any other aidge_onnx name raises NotImplementedError.
"""
from __future__ import annotations

import os

import tern

from .core import GraphView, unsupported_names

__all__ = ["load_onnx"]


def load_onnx(filepath: str, verbose: bool = False) -> GraphView:
    """The ONNX model at `filepath` as a GraphView; verbose prints what was loaded."""
    graph = tern.load_model(os.fspath(filepath))
    view = GraphView(graph, os.path.splitext(os.path.basename(os.fspath(filepath)))[0])
    if verbose:
        inputs = ", ".join(f"{v.name} {v.dtype.name}{list(v.shape)}" for v in graph.inputs)
        outputs = ", ".join(v.name for v in graph.outputs)
        types = sorted({node.type for node in graph.nodes})
        print(f"Loaded {filepath}: {len(graph)} nodes ({', '.join(types)}); inputs {inputs}; outputs {outputs}")
    return view


__getattr__ = unsupported_names("aidge_onnx")
