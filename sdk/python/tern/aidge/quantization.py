"""aidge_quantization under Tern: the PTQ tutorial's calls, run by tern.ptq.

    aidge_quantization.auto_assign_node_precision(model, weight_precision, activation_precision,
                                                  bias_and_accumulation_precision)
    aidge_quantization.quantize_network(network=model, calibration_set=tensors,
                                        clipping_mode=aidge_quantization.Clipping.MSE, ...)

The quantized model keeps float32 inputs and reads them pre-scaled, as the tutorial feeds
them: np.round(x * (2**(NB_BITS-1)-1)) (tern.ptq.scale_input does the same). With
fake_quantize=False its tensors are cast to integer types and it runs on integer kernels.
Any other aidge_quantization name raises NotImplementedError.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tern import ptq as _ptq

from .core import GraphView, _as_array, _fit_input, _graph_of, _unsupported, unsupported_names

__all__ = ["Clipping", "auto_assign_node_precision", "quantize_network"]

#: AIDGE's clipping modes (MAX, MSE, AA, KL), Tern's enum (which adds PERCENTILE).
Clipping = _ptq.Clipping


def auto_assign_node_precision(network: GraphView, weight_precision: Any, activation_precision: Any,
                               bias_and_accumulation_precision: Any) -> None:
    """Tags every node with the precisions to quantize it to ("quantization.ptq.*" dynamic
    attributes); nodes already tagged by hand keep their tags. The arguments are in the
    tutorial's order: weights, activations, biases and accumulation."""
    _ptq.auto_assign_node_precision(_graph_of(network), weight_precision, activation_precision,
                                    bias_and_accumulation_precision)


def _calibration_batches(graph: Any, calibration_set: Sequence[Any]) -> Any:
    """The tutorial's list of tensors as one array, which Tern runs in batches of batch_size
    as `tern quantize` runs its calibration set: the same model as one batch per tensor,
    with far fewer forward passes. Tensors that do not stack, or a model whose batch size
    is fixed, keep one batch per tensor."""
    values = graph.inputs
    if len(values) != 1:
        raise _unsupported(f"quantize_network on a model with {len(values)} inputs")
    arrays = [_fit_input(_as_array(item), values[0]) for item in calibration_set]
    if not arrays:
        raise ValueError("quantize_network: the calibration set is empty")
    dynamic_batch = not values[0].typed or not values[0].shape or values[0].shape[0] is None
    if dynamic_batch and all(isinstance(a, np.ndarray) and a.ndim >= 1 and a.shape[1:] == arrays[0].shape[1:]
                             and a.dtype == arrays[0].dtype for a in arrays):
        return np.ascontiguousarray(np.concatenate(arrays))
    return arrays


def quantize_network(network: GraphView, calibration_set: Sequence[Any], clipping_mode: Any = Clipping.MAX,
                     no_quant: bool = False, optimize_signs: bool = False, single_shift: bool = False,
                     use_cuda: bool = False, fold_graph: bool = True, fake_quantize: bool = False,
                     verbose: bool = False, **tern_options: Any) -> None:
    """Quantizes the tagged model in place over `calibration_set` (a list of tensors, as in
    the tutorial), with AIDGE's options; Tern's own (per_channel, percentile, keep_float,
    equalize, bias_correction, backends, batch_size) may be added as keywords. A scheduler
    created before must be created again (the old one recompiles on its next forward)."""
    graph = _graph_of(network)
    if isinstance(network, GraphView) and "backends" not in tern_options and not use_cuda:
        tern_options["backends"] = list(network._backends)
    _ptq.quantize_network(graph, _calibration_batches(graph, calibration_set), clipping_mode=clipping_mode,
                          no_quant=no_quant, optimize_signs=optimize_signs, single_shift=single_shift,
                          use_cuda=use_cuda, fold_graph=fold_graph, fake_quantize=fake_quantize,
                          verbose=verbose, **tern_options)
    if isinstance(network, GraphView):
        network._changed()


__getattr__ = unsupported_names("aidge_quantization")
