#pragma once
// What the binding files share: handles that find nodes and values by name in a graph the
// Python side holds (so a handle outliving a rewrite raises instead of dangling), and one
// registration function per file.

#include <tern/graph.hpp>

#include <pybind11/pybind11.h>

#include <memory>
#include <string>

namespace tern::python {

namespace py = pybind11;

/// Graphs live in shared_ptrs: nodes, values and attribute maps keep theirs alive.
using GraphPtr = std::shared_ptr<Graph>;

/// A node of a graph, looked up by name on every use.
struct NodeRef {
  GraphPtr graph;
  std::string name;
  /// The node; throws tern::Error when the graph no longer has it.
  Node& get() const;
};

/// A value of a graph, looked up by name on every use.
struct ValueRef {
  GraphPtr graph;
  std::string name;
  Value& get() const;
};

/// Node (or graph) attributes or metadata, live.
struct AttributeMapRef {
  enum class Which { NodeAttrs, NodeMeta, GraphMeta };
  GraphPtr graph;
  std::string node; ///< empty for GraphMeta
  Which which;
  Attributes& get() const;
};

void bind_tensor(py::module_& module);
void bind_graph(py::module_& module);
void bind_runtime(py::module_& module);
void bind_ptq(py::module_& module);

} // namespace tern::python
