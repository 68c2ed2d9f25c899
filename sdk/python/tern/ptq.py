"""Post-training quantization, the seed tutorial's API (<tern/ptq.hpp> in C++).

    tern.ptq.auto_assign_node_precision(graph, tern.int8, tern.int8, tern.int32)
    tern.ptq.quantize_network(graph, calibration, clipping_mode=tern.ptq.Clipping.MSE)
    logits = scheduler.forward(tern.ptq.scale_input(graph, images))

Every option of tern::ptq::QuantizeOptions is a keyword argument with the same name and
default. The work runs in C++ with the GIL released.
"""
from __future__ import annotations

from typing import Callable, Sequence, Union

import numpy as np

from . import _progress
from ._tern import Dataset, DataType, Graph, Tensor
from ._tern import ptq as _ptq

Clipping = _ptq.Clipping
QuantizeOptions = _ptq.QuantizeOptions

CalibrationSet = Union[Sequence[Union[np.ndarray, Tensor]], np.ndarray, Dataset]

__all__ = [
    "Clipping", "QuantizeOptions", "auto_assign_node_precision", "quantize_network",
    "prepare_network", "compute_ranges", "adjust_ranges", "quantize_normalized_network",
    "correct_biases", "fold_quantizers", "cast_to_integer", "to_qdq", "measure_quality", "quantize_mixed_precision",
    "is_quantized", "scale_input", "is_qdq", "qdq_to_integer",
]


def _options(verbose: bool = False, log: Callable[[str], None] | None = None, **options) -> QuantizeOptions:
    """A QuantizeOptions from keyword arguments; an unknown name raises TypeError naming it."""
    result = QuantizeOptions()
    for key, value in options.items():
        if not hasattr(result, key) or key.startswith("_"):
            known = ", ".join(name for name in dir(result) if not name.startswith("_"))
            raise TypeError(f"unknown quantization option '{key}' (known: {known})")
        if key == "backends" and isinstance(value, str):
            value = [value]
        setattr(result, key, value)
    result.verbose = verbose
    if log is not None:
        result.log = log
    elif verbose:
        result.log = _progress.write
    return result


def _batches(calibration_set: CalibrationSet, batch_size: int) -> Union[list, Dataset]:
    """The calibration set as C++ takes it: a Dataset as it is, one array of samples split
    into batches of batch_size, a sequence as one batch per element."""
    if isinstance(calibration_set, Dataset):
        return calibration_set
    if isinstance(calibration_set, np.ndarray):
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        return [Tensor(calibration_set[i:i + batch_size]) for i in range(0, len(calibration_set), batch_size)]
    return [item if isinstance(item, Tensor) else Tensor(np.asarray(item)) for item in calibration_set]


def auto_assign_node_precision(graph: Graph, weight_precision: DataType, activation_precision: DataType,
                               bias_and_accumulation_precision: DataType) -> None:
    """Tags every node with its activation precision, and weighted/merging nodes with their
    weight and accumulation precisions ("quantization.ptq.*" in node.meta). Nodes already
    tagged keep their tags (manual mixed precision)."""
    _ptq.auto_assign_node_precision(graph, weight_precision, activation_precision,
                                    bias_and_accumulation_precision)


def quantize_network(graph: Graph, calibration_set: CalibrationSet, *, verbose: bool = False,
                     log: Callable[[str], None] | None = None, **options) -> dict[str, float]:
    """The whole PTQ pipeline, in place, over a calibration set: a list of input batches
    (arrays or Tensors, as the seed's list of tensors), one N×C×H×W array (split into
    batches of batch_size) or a Dataset. Keyword options: clipping_mode (Clipping.MAX),
    no_quant, optimize_signs, single_shift, use_cuda, fold_graph (True), fake_quantize,
    per_channel, percentile (99.99), keep_float, equalize (True), bias_correction (True), reduce_range,
    backends (["cpu"]), batch_size (64). With verbose=True, a progress bar over the
    calibration batches (tqdm when installed) and the per-value report. Returns the seconds
    each step took."""
    opts = _options(verbose, log, **options)
    batches = _batches(calibration_set, opts.batch_size)
    with _progress.bar(verbose, "calibration batches") as progress:
        opts.progress = progress
        return dict(_ptq.quantize_network(graph, batches, opts))


def prepare_network(graph: Graph, **options) -> None:
    """Step 1: BatchNorm folding, cross-layer equalisation, scaling nodes inserted."""
    _ptq.prepare_network(graph, _options(**options))


def _calibrated_step(step, graph: Graph, calibration_set: CalibrationSet, verbose: bool, options) -> None:
    opts = _options(verbose, **options)
    batches = _batches(calibration_set, opts.batch_size)
    if isinstance(batches, Dataset):
        raise TypeError(f"{step.__name__} takes a list of batches or an array, not a Dataset")
    with _progress.bar(verbose, "calibration batches") as progress:
        opts.progress = progress
        step(graph, batches, opts)


def compute_ranges(graph: Graph, calibration_set: CalibrationSet, *, verbose: bool = False, **options) -> None:
    """Step 2: activation ranges (and histograms for the clipping modes that need them)."""
    _calibrated_step(_ptq.compute_ranges, graph, calibration_set, verbose, options)


def adjust_ranges(graph: Graph, **options) -> None:
    """Step 3: clipping applied to the ranges."""
    _ptq.adjust_ranges(graph, _options(**options))


def quantize_normalized_network(graph: Graph, **options) -> None:
    """Step 4: scales set for the tagged precisions."""
    _ptq.quantize_normalized_network(graph, _options(**options))


def correct_biases(graph: Graph, calibration_set: CalibrationSet, *, verbose: bool = False, **options) -> None:
    """Step 4b (bias_correction=True): biases shifted so that each affine node's output mean
    per channel, with the quantized network run over the calibration set, is the float one."""
    _calibrated_step(_ptq.correct_biases, graph, calibration_set, verbose, options)


def fold_quantizers(graph: Graph, **options) -> None:
    """Step 5: weight quantizers folded into integer constants."""
    _ptq.fold_quantizers(graph, _options(**options))


def cast_to_integer(graph: Graph, **options) -> None:
    """Step 6: tensors cast to their integer types (skipped by fake_quantize)."""
    _ptq.cast_to_integer(graph, _options(**options))


def to_qdq(graph: Graph, **options) -> None:
    """The quantized graph in ONNX's QDQ form (QuantizeLinear/DequantizeLinear) for integer
    runtimes such as ONNX Runtime; it then takes the float input as it is. Takes the graph
    quantize_network made (not one read back from a file: quantize again)."""
    _ptq.to_qdq(graph, _options(**options))


def measure_quality(float_model: Graph, quantized: Graph, calibration: Dataset, **options) -> list:
    """Per quantized node: the SQNR (dB) of its output against float with only it quantized
    and in the whole network, with its precision, range, clip, scale, MACs, parameters.
    `quantized` is the fake-quantized form (fake_quantize=True)."""
    return _ptq.measure_quality(float_model, quantized, calibration, _options(**options))


def quantize_mixed_precision(graph: Graph, calibration: Dataset, low=None, high=None, budget: float = 0.25,
                             **options) -> dict:
    """Quantizes the float `graph` at `low` (weights, activations, accumulation; default
    int4, int4, int16) and promotes its most sensitive nodes to `high` (default int8, int8,
    int32) while the output SQNR improves and their MACs stay within `budget`."""
    low = low or (DataType.int4, DataType.int4, DataType.int16)
    high = high or (DataType.int8, DataType.int8, DataType.int32)
    return _ptq.quantize_mixed_precision(graph, calibration, list(low), list(high), budget, _options(**options))


def is_qdq(graph: Graph) -> bool:
    """True when the graph holds QuantizeLinear or DequantizeLinear nodes (a QDQ model)."""
    return _ptq.is_qdq(graph)


def qdq_to_integer(graph: Graph) -> None:
    """A QDQ model (to_qdq's, ONNX Runtime's quantize_static's) onto integer kernels: each
    quantized operator computes on the file's integers, the rest stays float as the file
    defines it. The graph keeps taking the float input."""
    _ptq.qdq_to_integer(graph)


def is_quantized(graph: Graph) -> bool:
    """Whether the graph came out of quantize_network (and so wants scale_input)."""
    return _ptq.is_quantized(graph)


def scale_input(graph: Graph, samples: Union[np.ndarray, Tensor]) -> np.ndarray:
    """The input a quantized graph expects: samples · (2^(n-1)-1), clamped and rounded, as
    the seed scales them by hand; the samples unchanged for a graph that is not quantized."""
    return _ptq.scale_input(graph, samples if isinstance(samples, Tensor) else Tensor(np.asarray(samples)))
