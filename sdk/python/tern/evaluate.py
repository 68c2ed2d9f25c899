"""Top-1 accuracy of a graph on a labelled dataset, as `tern eval` measures it."""
from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np

from . import _progress, ptq
from ._tern import Dataset, Graph, SequentialScheduler


def evaluate(graph: Graph, dataset: Dataset, *, backends: Union[str, Sequence[str]] = ("cpu",),
             batch_size: int = 64, limit: Optional[int] = None, verbose: bool = False) -> float:
    """The fraction of the first `limit` samples (all by default) whose largest logit is
    their label. A quantized graph gets its inputs scaled (ptq.scale_input). With
    verbose=True, a progress bar over the batches."""
    if not dataset.has_labels:
        raise ValueError(f"evaluate: {dataset.description} has no labels")
    if batch_size <= 0:
        raise ValueError("evaluate: batch_size must be positive")
    count = len(dataset) if limit is None else min(limit, len(dataset))
    scheduler = SequentialScheduler(graph, backends)
    labels = dataset.labels
    correct = 0
    batches = (count + batch_size - 1) // batch_size
    with _progress.bar(verbose, "evaluation batches") as progress:
        for index in range(batches):
            begin = index * batch_size
            samples = ptq.scale_input(graph, dataset.batch(begin, min(batch_size, count - begin)))
            logits = scheduler.forward(samples)[0]
            correct += int(np.sum(np.argmax(logits, axis=1) == labels[begin:begin + len(logits)]))
            if progress:
                progress(index, batches)
    return correct / count if count else 0.0
