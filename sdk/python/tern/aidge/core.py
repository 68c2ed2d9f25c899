"""aidge_core under Tern: tensors, data types, graph views, nodes, the scheduler.

    aidge_core.Tensor(array)                 a private copy of a NumPy array; np.array(t) reads it
    aidge_core.Tensor.get_available_backends()   Tern's usable backends, as a set of names
    aidge_core.dtype.float32 / int4 / int8 / int16 / int32 ...   tern.DataType values
    aidge_core.remove_flatten(model)         tern.remove_flatten on the model's graph
    aidge_core.SequentialScheduler(model)    compiles a tern.SequentialScheduler
    scheduler.forward(True, [tensor])        runs it; outputs are then read from the model:
    model.get_ordered_outputs()[0][0].get_operator().get_output(0)
    aidge_core.utils.download_file(file_path=..., file_url=...)

A GraphView holds a tern.Graph (`model.tern_graph`) and the outputs of the last forward pass
run on it. Nodes are looked up by name in that graph, so they stay valid across rewrites
that keep the name. Any other aidge_core name raises NotImplementedError naming it.
"""
from __future__ import annotations

import os
import urllib.request
from typing import Any, Sequence

import numpy as np

import tern

__all__ = [
    "Tensor", "dtype", "GraphView", "Node", "Operator", "DynamicAttributes", "SequentialScheduler",
    "remove_flatten", "utils", "Unsupported",
]


class Unsupported(NotImplementedError, AttributeError):
    """An AIDGE call that tern.aidge does not provide. It is also an AttributeError, so
    hasattr() and getattr(..., default) keep working."""


def _unsupported(what: str) -> Unsupported:
    return Unsupported(f"{what} is not supported by tern.aidge, which covers the AIDGE PTQ tutorial's calls "
                       f"(docs/PYTHON.md); use the tern package for the rest")


class _OnlyTheTutorialsCalls:
    """Base of the AIDGE classes here: an attribute the class lacks raises Unsupported
    naming `<_aidge_name>.<attribute>`."""

    __slots__ = ()
    _aidge_name = ""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise _unsupported(f"{self._aidge_name}.{name}")


def unsupported_names(module: str) -> Any:
    """A module __getattr__ that raises Unsupported for every public name the module lacks."""

    def __getattr__(name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise _unsupported(f"{module}.{name}")

    return __getattr__


class _Namespace(_OnlyTheTutorialsCalls):
    """A fixed set of names (aidge_core.dtype, aidge_core.utils); others raise Unsupported."""

    def __init__(self, prefix: str, **names: Any) -> None:
        self.__dict__.update(names)
        self.__dict__["_aidge_name"] = prefix

    def __repr__(self) -> str:
        names = ", ".join(sorted(k for k in self.__dict__ if not k.startswith("_")))
        return f"<{self._aidge_name}: {names}>"


# ---- data types -------------------------------------------------------------------------

#: aidge_core.dtype: AIDGE's data type names, as Tern's data types.
dtype = _Namespace("aidge_core.dtype", float32=tern.float32, float64=tern.float64, int4=tern.int4,
                   uint4=tern.uint4, int8=tern.int8, uint8=tern.uint8, int16=tern.int16, int32=tern.int32,
                   int64=tern.int64)

# NumPy dtype -> Tern data type (int4/uint4 have no NumPy type of their own).
_FROM_NUMPY = {np.dtype(t.numpy_dtype): t for t in (tern.float32, tern.float64, tern.int8, tern.uint8,
                                                     tern.int16, tern.int32, tern.int64)}


def _data_type_named(name: str) -> Any:
    """The tern.DataType called `name` ("int8"), or None."""
    value = getattr(dtype, name, None) if isinstance(name, str) and not name.startswith("_") else None
    return value if isinstance(value, type(tern.float32)) else None


# ---- tensors ----------------------------------------------------------------------------

class Tensor(_OnlyTheTutorialsCalls):
    """aidge_core.Tensor: a host tensor. Tensor(array) COPIES the array (AIDGE copies too: the
    tutorial rescales `samples` in place after building its calibration tensors).
    np.array(tensor) gives the values back."""

    _aidge_name = "aidge_core.Tensor"

    __slots__ = ("_array",)

    def __init__(self, array: Any) -> None:
        if isinstance(array, Tensor):
            array = array._array
        self._array = np.array(array, copy=True, order="C")

    @classmethod
    def _wrap(cls, array: np.ndarray) -> "Tensor":
        """A Tensor over `array` itself (outputs Tern handed over), without copying it."""
        tensor = cls.__new__(cls)
        tensor._array = array
        return tensor

    @staticmethod
    def get_available_backends() -> set[str]:
        """The names of Tern's usable backends (tern.available_backends())."""
        return {info.name for info in tern.available_backends() if info.usable}

    def dims(self) -> list[int]:
        return list(self._array.shape)

    def dtype(self) -> Any:
        """The tern.DataType of the values (aidge_core.dtype.*)."""
        try:
            return _FROM_NUMPY[self._array.dtype]
        except KeyError:
            raise TypeError(f"aidge_core.Tensor: NumPy dtype {self._array.dtype} has no Tern data type") from None

    def size(self) -> int:
        return int(self._array.size)

    def __len__(self) -> int:
        return len(self._array)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is not None and np.dtype(dtype) != self._array.dtype:
            return self._array.astype(dtype)
        # A copy unless NumPy asks for none: writing to the result never changes the tensor.
        return self._array if copy is False else self._array.copy()

    def __repr__(self) -> str:
        return f"aidge_core.Tensor(dims={self.dims()}, dtype={self._array.dtype}):\n{self._array}"


def _as_array(data: Any) -> Any:
    """What Tern's scheduler takes for an AIDGE tensor, array or tern.Tensor."""
    if isinstance(data, Tensor):
        return data._array
    if isinstance(data, tern.Tensor):
        return data
    return np.asarray(data)


def _fit_input(array: Any, value: Any) -> Any:
    """Floating data converted to the floating type of the graph input `value` (AIDGE's
    producers convert; Tern never does it silently, so the layer does it here)."""
    if isinstance(array, np.ndarray) and array.dtype.kind == "f" and value.typed:
        wanted = np.dtype(value.dtype.numpy_dtype)
        if wanted.kind == "f" and array.dtype != wanted:
            return np.ascontiguousarray(array, dtype=wanted)
    return array


# ---- graphs and nodes -------------------------------------------------------------------

class DynamicAttributes(_OnlyTheTutorialsCalls):
    """A node's dynamic attributes (tern Node.meta), e.g. "quantization.ptq.precision".
    A data type written is stored by name ("int4"); get_attr gives precisions back as
    aidge_core.dtype values."""

    _aidge_name = "DynamicAttributes"

    def __init__(self, meta: Any) -> None:
        self._meta = meta

    def has_attr(self, name: str) -> bool:
        return name in self._meta

    def get_attr(self, name: str) -> Any:
        if name not in self._meta:
            raise KeyError(f"no attribute '{name}' (has: {', '.join(self._meta) or 'none'})")
        value = self._meta[name]
        if "precision" in name:
            return _data_type_named(value) or value
        return value

    def add_attr(self, name: str, value: Any) -> None:
        """Adds a new attribute; AIDGE refuses one that exists (use set_attr)."""
        if name in self._meta:
            raise KeyError(f"attribute '{name}' already exists: use set_attr to change it")
        self._meta[name] = value

    def set_attr(self, name: str, value: Any) -> None:
        self._meta[name] = value

    def del_attr(self, name: str) -> None:
        del self._meta[name]

    def dict(self) -> dict[str, Any]:
        return {name: self.get_attr(name) for name in self._meta}

    def __repr__(self) -> str:
        return f"DynamicAttributes({self.dict()})"


class Operator(_OnlyTheTutorialsCalls):
    """A node's operator: its type and the tensors it last read and wrote."""

    _aidge_name = "Operator"

    def __init__(self, node: "Node") -> None:
        self._node = node

    def type(self) -> str:
        return self._node.type()

    def _tensor_of(self, value: Any, what: str) -> Tensor:
        if value is None:
            raise IndexError(f"{what} of node '{self._node.name()}' is not connected")
        constant = value.constant
        if constant is not None:
            return Tensor._wrap(np.asarray(constant))
        outputs = self._node._view._outputs
        if value.name in outputs:
            return Tensor._wrap(outputs[value.name])
        raise RuntimeError(f"{what} of node '{self._node.name()}' ('{value.name}') holds no data: tern.aidge keeps "
                           f"the constants and the graph outputs of the last scheduler.forward() "
                           f"({', '.join(outputs) or 'none has run yet'})")

    def get_output(self, index: int) -> Tensor:
        """Output `index` as computed by the last forward pass (graph outputs only)."""
        outputs = self._node._tern.outputs
        if not 0 <= index < len(outputs):
            raise IndexError(f"node '{self._node.name()}' has {len(outputs)} output(s), not #{index}")
        return self._tensor_of(outputs[index], f"output #{index}")

    def get_input(self, index: int) -> Tensor:
        """Input `index`: a constant (weights, biases), or a graph output of the last forward pass."""
        inputs = self._node._tern.inputs
        if not 0 <= index < len(inputs):
            raise IndexError(f"node '{self._node.name()}' has {len(inputs)} input(s), not #{index}")
        return self._tensor_of(inputs[index], f"input #{index}")

    def __repr__(self) -> str:
        return f"Operator({self.type()})"


class Node(_OnlyTheTutorialsCalls):
    """A node of a GraphView, found by name in its tern.Graph."""

    _aidge_name = "Node"

    def __init__(self, view: "GraphView", name: str) -> None:
        self._view = view
        self._name = name

    @property
    def _tern(self) -> Any:
        return self._view.tern_graph.node(self._name)

    def name(self) -> str:
        return self._name

    def type(self) -> str:
        return self._tern.type

    def get_operator(self) -> Operator:
        return Operator(self)

    def attributes(self) -> DynamicAttributes:
        """The node's dynamic attributes (where the quantization.ptq.* tags live)."""
        return DynamicAttributes(self._tern.meta)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and other._view is self._view and other._name == self._name

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f"Node(name='{self._name}', type='{self.type()}')"


class GraphView(_OnlyTheTutorialsCalls):
    """aidge_core.GraphView over a tern.Graph (`tern_graph`). Keeps the backend chosen with
    set_backend and the outputs of the last forward pass run on it."""

    _aidge_name = "GraphView"

    def __init__(self, graph: Any, name: str = "") -> None:
        self.tern_graph = graph
        self._name = name
        self._backends = ["cpu"]
        self._outputs: dict[str, np.ndarray] = {}
        self._version = 0  # bumped by every change made through tern.aidge; schedulers recompile on it

    def _changed(self) -> None:
        self._version += 1
        self._outputs = {}

    def name(self) -> str:
        return self._name

    def set_datatype(self, datatype: Any) -> None:
        """float32 is what Tern's graphs compute in: accepted when the inputs are float32.
        Other types come from quantize_network, not from a cast of the whole graph."""
        if datatype != tern.float32:
            raise _unsupported(f"GraphView.set_datatype({datatype}) (only float32; quantize with "
                               f"aidge_quantization.quantize_network)")
        for value in self.tern_graph.inputs:
            if value.typed and value.dtype != tern.float32:
                raise tern.Error(f"set_datatype(float32): input '{value.name}' is {value.dtype}; Tern does not "
                                 f"convert a graph's types")

    def set_backend(self, backend: str, device: int = 0) -> None:
        """The backend the schedulers created from now on run on ("cpu", "cuda", ...)."""
        if device != 0:
            raise _unsupported(f"GraphView.set_backend(device={device})")
        usable = {info.name: info for info in tern.available_backends()}
        if backend not in usable:
            raise tern.Error(f"set_backend('{backend}'): Tern has no backend of that name "
                             f"(it has: {', '.join(sorted(usable))})")
        if not usable[backend].usable:
            raise tern.Error(f"set_backend('{backend}'): the backend is not usable here: {usable[backend].reason}")
        self._backends = [backend]
        self._changed()

    def get_ordered_outputs(self) -> list[tuple[Node, int]]:
        """(producer node, output index) per graph output, in order."""
        result = []
        for value in self.tern_graph.outputs:
            producer = value.producer
            if producer is None:
                raise _unsupported(f"get_ordered_outputs() on graph output '{value.name}', which no node computes")
            index = [output.name for output in producer.outputs].index(value.name)
            result.append((Node(self, producer.name), index))
        return result

    def get_ordered_inputs(self) -> list[tuple[Node, int]]:
        """(first consumer, input index) per graph input, in order."""
        result = []
        for value in self.tern_graph.inputs:
            for consumer in value.consumers[:1]:
                index = [v.name if v is not None else None for v in consumer.inputs].index(value.name)
                result.append((Node(self, consumer.name), index))
        return result

    def get_ordered_nodes(self) -> list[Node]:
        """Every node, in execution order."""
        return [Node(self, node.name) for node in self.tern_graph.nodes]

    def get_nodes(self) -> set[Node]:
        return set(self.get_ordered_nodes())

    def get_node(self, name: str) -> Node:
        self.tern_graph.node(name)  # raises tern.Error naming a missing node
        return Node(self, name)

    def __repr__(self) -> str:
        return f"GraphView('{self._name}', {len(self.tern_graph)} nodes, backend {self._backends[0]})"


def _graph_of(model: Any) -> Any:
    """The tern.Graph of a GraphView (or a tern.Graph itself)."""
    if isinstance(model, GraphView):
        return model.tern_graph
    if isinstance(model, tern.Graph):
        return model
    raise TypeError(f"expected a GraphView (aidge_onnx.load_onnx) or a tern.Graph, got {type(model).__name__}")


def remove_flatten(model: GraphView) -> None:
    """Removes the Flatten nodes whose readers flatten by themselves (Gemm), as AIDGE does."""
    tern.remove_flatten(_graph_of(model))
    if isinstance(model, GraphView):
        model._changed()


# ---- scheduling ---------------------------------------------------------------------------

class SequentialScheduler(_OnlyTheTutorialsCalls):
    """Compiles the model as it is now for its backend (tern.SequentialScheduler over a copy
    prepared for inference: BatchNorm folded, activations fused). When the model changes
    afterwards (quantize_network, set_backend, remove_flatten), AIDGE asks for a new
    scheduler, which is what the tutorial does; this one also recompiles on its next forward."""

    _aidge_name = "SequentialScheduler"

    def __init__(self, graph_view: GraphView) -> None:
        if not isinstance(graph_view, GraphView):
            raise TypeError(f"SequentialScheduler takes a GraphView, got {type(graph_view).__name__}")
        self._view = graph_view
        self._compile()

    def _compile(self) -> None:
        graph = self._view.tern_graph.clone()
        tern.prepare_for_inference(graph)
        self._scheduler = tern.SequentialScheduler(graph, self._view._backends)
        self._graph = graph
        self._version = self._view._version

    def graph_view(self) -> GraphView:
        return self._view

    def forward(self, forward_dims: bool = True, data: Sequence[Any] = ()) -> None:
        """Runs the model on `data` (one tensor per graph input; any batch size). Like AIDGE,
        returns nothing: read the outputs through model.get_ordered_outputs()."""
        del forward_dims  # Tern infers shapes on every forward
        if self._version != self._view._version:
            self._compile()
        inputs = list(data) if not isinstance(data, (Tensor, np.ndarray)) else [data]
        values = self._graph.inputs
        if len(inputs) != len(values):
            raise ValueError(f"forward: the model has {len(values)} input(s) "
                             f"({', '.join(v.name for v in values)}), data has {len(inputs)} tensor(s)")
        arrays = [_fit_input(_as_array(item), value) for item, value in zip(inputs, values)]
        outputs = self._scheduler.forward(arrays)
        self._view._outputs = {value.name: output for value, output in zip(self._graph.outputs, outputs)}


# ---- utilities ------------------------------------------------------------------------------

def _download_file(file_path: str, file_url: str) -> None:
    """Downloads `file_url` to `file_path`, unless that file exists already."""
    if os.path.exists(file_path):
        print(f"{file_path} already exists: not downloading it again")
        return
    print(f"Downloading {file_url} to {file_path} ...")
    partial = f"{file_path}.partial"
    try:
        with urllib.request.urlopen(file_url, timeout=60) as response, open(partial, "wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
        os.replace(partial, file_path)
    except Exception as error:  # network errors come in many classes; all mean the same here
        if os.path.exists(partial):
            os.remove(partial)
        raise RuntimeError(f"could not download {file_url} to {file_path} ({error}); put the file there yourself "
                           f"(for the seed's data format from Fashion-MNIST: python3 scripts/make_seed_data.py) "
                           f"and run again") from None


#: aidge_core.utils
utils = _Namespace("aidge_core.utils", download_file=_download_file)


__getattr__ = unsupported_names("aidge_core")
