"""aidge_model_explorer under Tern: the model drawn as one HTML page by tern.explore.

    aidge_model_explorer.visualize(model, "model_before_ptq")   # writes model_before_ptq.html

AIDGE opens the graph in a browser through a local server; Tern writes a self-contained
page instead (nodes, shapes, backends, and after PTQ the calibration ranges and scales) and
prints where. Pages go to the current folder, or to `output_dir` when it is set (from the
environment variable TERN_AIDGE_EXPLORE_DIR at import).
"""
from __future__ import annotations

import os
import sys

import tern

from .core import GraphView, _graph_of, unsupported_names

__all__ = ["visualize", "output_dir"]

#: Where visualize() writes its pages (None: the current folder).
output_dir: str | None = os.environ.get("TERN_AIDGE_EXPLORE_DIR") or None


def visualize(graph: GraphView, name: str) -> str | None:
    """Writes `name`.html, a drawing of the model, and prints its path (returned as well).
    A drawing that fails (Graphviz's dot missing, say) prints why and returns None: the
    notebook goes on."""
    folder = output_dir or "."
    path = os.path.join(folder, f"{name}.html")
    backends = list(graph._backends) if isinstance(graph, GraphView) else ["cpu"]
    try:
        os.makedirs(folder, exist_ok=True)
        tern.explore(_graph_of(graph), path, title=name, backends=backends)
    except (tern.Error, OSError) as error:
        print(f"aidge_model_explorer.visualize: could not draw '{name}': {error}", file=sys.stderr)
        return None
    print(f"Model '{name}' drawn in {os.path.abspath(path)} (open it in a browser)")
    return path


__getattr__ = unsupported_names("aidge_model_explorer")
