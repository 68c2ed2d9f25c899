"""The seed tutorial's AIDGE API, implemented in Python on top of Tern.

Eclipse AIDGE's PTQ notebook (../shared/seed/ptq_tutorial.txt) runs unchanged once its five
imports become

    from tern.aidge import core as aidge_core, onnx as aidge_onnx, backend_cpu as aidge_backend_cpu
    from tern.aidge import quantization as aidge_quantization, model_explorer as aidge_model_explorer

Modules:
    core            aidge_core: Tensor, dtype, GraphView (a tern.Graph), nodes and their
                    attributes, remove_flatten, SequentialScheduler, utils.download_file
    onnx            aidge_onnx.load_onnx
    backend_cpu     aidge_backend_cpu: importing it checks that Tern's "cpu" backend loads
    quantization    aidge_quantization: Clipping, auto_assign_node_precision, quantize_network
    model_explorer  aidge_model_explorer.visualize: an HTML page drawn by tern.explore

The layer covers what the tutorial calls and what AIDGE users commonly touch around it; any
other AIDGE name raises NotImplementedError naming it. docs/PYTHON.md maps each call to Tern.
"""

__all__ = ["core", "onnx", "backend_cpu", "quantization", "model_explorer"]
