// tern.Graph, tern.Node, tern.Value, tern.AttributeMap, model files, recipes, the explorer.
#include "attribute_cast.hpp"
#include "bindings.hpp"
#include "numpy_tensor.hpp"

#include <tern/explore.hpp>
#include <tern/model_format.hpp>
#include <tern/recipes.hpp>
#include <tern/runtime.hpp>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

namespace tern::python {

Node& NodeRef::get() const {
  Node* node = graph->find_node(name);
  check(node != nullptr, [&] { return "node '" + name + "' is no longer in its graph (it was rewritten)"; });
  return *node;
}

Value& ValueRef::get() const {
  Value* value = graph->find_value(name);
  check(value != nullptr, [&] { return "value '" + name + "' is no longer in its graph (it was rewritten)"; });
  return *value;
}

Attributes& AttributeMapRef::get() const {
  switch (which) {
  case Which::NodeAttrs: return NodeRef{graph, node}.get().attrs();
  case Which::NodeMeta: return NodeRef{graph, node}.get().meta();
  case Which::GraphMeta: break;
  }
  return graph->meta();
}

namespace {

py::object node_or_none(const GraphPtr& graph, const Node* node) {
  return node ? py::cast(NodeRef{graph, node->name()}) : py::none();
}

py::list values_of(const GraphPtr& graph, const std::vector<Value*>& values) {
  py::list result;
  for (const Value* value : values) result.append(value ? py::cast(ValueRef{graph, value->name()}) : py::none());
  return result;
}

py::list nodes_of(const GraphPtr& graph, const std::vector<Node*>& nodes) {
  py::list result;
  for (const Node* node : nodes) result.append(NodeRef{graph, node->name()});
  return result;
}

/// A shape as Python sees it: None for a dynamic dimension.
py::tuple python_shape(const Shape& shape) {
  py::list dims;
  for (const std::int64_t dim : shape) dims.append(dim == Shape::dynamic ? py::none() : py::cast(dim));
  return py::tuple(dims);
}

Shape tern_shape(const std::vector<std::optional<std::int64_t>>& dims) {
  std::vector<std::int64_t> result;
  for (const auto& dim : dims) result.push_back(dim.value_or(Shape::dynamic));
  return Shape(std::move(result));
}

Attributes attributes_of(const std::optional<py::dict>& attrs) {
  Attributes attributes;
  if (attrs)
    for (const auto& [key, value] : *attrs) {
      const auto text = key.cast<std::string>();
      attributes.set(text, to_attribute(text, value));
    }
  return attributes;
}

std::string graph_repr(const Graph& graph) {
  const auto describe = [](const std::vector<Value*>& values) {
    std::string text;
    for (const Value* value : values)
      text += (text.empty() ? "" : ", ") + value->name() +
              (value->typed() ? ": " + std::string(name(value->dtype())) + value->shape().to_string() : "");
    return text;
  };
  return "tern.Graph(" + std::to_string(graph.node_count()) + " nodes, inputs [" + describe(graph.inputs()) +
         "], outputs [" + describe(graph.outputs()) + "])";
}

py::list keys_of(const AttributeMapRef& map) {
  py::list keys;
  for (const auto& entry : map.get().all()) keys.append(entry.first);
  return keys;
}

void bind_attribute_map(py::module_& module) {
  py::class_<AttributeMapRef>(module, "AttributeMap",
                              "A node's (or graph's) attributes, live: writes change the graph. A DataType written "
                              "is stored as its name (\"int8\"), the form of the quantization.ptq.* tags.")
      .def("__getitem__",
           [](const AttributeMapRef& map, const std::string& key) {
             const Attribute* value = map.get().find(key);
             if (value == nullptr) throw py::key_error(key);
             return to_python(*value);
           })
      .def("__setitem__", [](const AttributeMapRef& map, const std::string& key,
                             const py::handle& value) { map.get().set(key, to_attribute(key, value)); })
      .def("__delitem__",
           [](const AttributeMapRef& map, const std::string& key) {
             if (!map.get().has(key)) throw py::key_error(key);
             map.get().erase(key);
           })
      .def("__contains__", [](const AttributeMapRef& map, const std::string& key) { return map.get().has(key); })
      .def("__len__", [](const AttributeMapRef& map) { return map.get().all().size(); })
      .def("__iter__", [](const AttributeMapRef& map) { return py::iter(keys_of(map)); })
      .def("keys", &keys_of)
      .def("items",
           [](const AttributeMapRef& map) {
             py::list items;
             for (const auto& [key, value] : map.get().all()) items.append(py::make_tuple(key, to_python(value)));
             return items;
           })
      .def(
          "get",
          [](const AttributeMapRef& map, const std::string& key, const py::object& fallback) {
            const Attribute* value = map.get().find(key);
            return value ? to_python(*value) : fallback;
          },
          py::arg("key"), py::arg("default") = py::none())
      .def("__repr__", [](const AttributeMapRef& map) {
        std::string text;
        for (const auto& [key, value] : map.get().all())
          text += (text.empty() ? "" : ", ") + key + "=" + to_string(value);
        return "{" + text + "}";
      });
}

void bind_value_and_node(py::module_& module) {
  py::class_<ValueRef>(module, "Value", "A named tensor of a graph: a graph input, a constant or a node output.")
      .def_property_readonly("name", [](const ValueRef& v) { return v.get().name(); })
      .def_property_readonly("dtype", [](const ValueRef& v) { return v.get().dtype(); })
      .def_property_readonly(
          "shape", [](const ValueRef& v) { return python_shape(v.get().shape()); },
          "dimensions, None where dynamic; empty until types are inferred")
      .def_property_readonly("typed", [](const ValueRef& v) { return v.get().typed(); })
      .def_property_readonly("producer", [](const ValueRef& v) { return node_or_none(v.graph, v.get().producer()); })
      .def_property_readonly("constant",
                             [](const ValueRef& v) -> py::object {
                               const Tensor* data = v.get().constant();
                               return data ? py::cast(*data) : py::none();
                             })
      .def_property_readonly("consumers",
                             [](const ValueRef& v) { return nodes_of(v.graph, v.graph->consumers(v.get())); })
      .def("__eq__", [](const ValueRef& a, const ValueRef& b) { return a.graph == b.graph && a.name == b.name; })
      .def("__hash__", [](const ValueRef& v) { return py::hash(py::str(v.name)); })
      .def("__repr__", [](const ValueRef& v) {
        const Value& value = v.get();
        return "tern.Value('" + value.name() + "'" +
               (value.typed() ? ", " + std::string(name(value.dtype())) + value.shape().to_string() : "") + ")";
      });

  py::class_<NodeRef>(module, "Node", "One operator application, found by name in its graph.")
      .def_property_readonly("name", [](const NodeRef& n) { return n.get().name(); })
      .def_property_readonly("type", [](const NodeRef& n) { return n.get().op_type(); })
      .def_property_readonly(
          "inputs", [](const NodeRef& n) { return values_of(n.graph, n.get().inputs()); },
          "inputs in the operator's order, None for an absent optional one")
      .def_property_readonly("outputs", [](const NodeRef& n) { return values_of(n.graph, n.get().outputs()); })
      .def_property_readonly(
          "attrs",
          [](const NodeRef& n) {
            return AttributeMapRef{n.graph, n.get().name(), AttributeMapRef::Which::NodeAttrs};
          },
          "the operator's attributes (checked against its schema by Graph.validate())")
      .def_property_readonly(
          "meta",
          [](const NodeRef& n) {
            return AttributeMapRef{n.graph, n.get().name(), AttributeMapRef::Which::NodeMeta};
          },
          "free metadata, e.g. \"quantization.ptq.precision\"")
      .def("__eq__", [](const NodeRef& a, const NodeRef& b) { return a.graph == b.graph && a.name == b.name; })
      .def("__hash__", [](const NodeRef& n) { return py::hash(py::str(n.name)); })
      .def("__repr__", [](const NodeRef& n) { return "tern.Node(" + n.get().describe() + ")"; });
}

void bind_graph_class(py::module_& module) {
  py::class_<Graph, GraphPtr>(module, "Graph", "A computation graph: nodes, values, ordered inputs and outputs.")
      .def(py::init<>())
      .def_property_readonly("inputs", [](const GraphPtr& g) { return values_of(g, g->inputs()); })
      .def_property_readonly("outputs", [](const GraphPtr& g) { return values_of(g, g->outputs()); })
      .def_property_readonly(
          "nodes", [](const GraphPtr& g) { return nodes_of(g, g->topological_order()); },
          "every node, in execution (topological) order")
      .def_property_readonly("meta",
                             [](const GraphPtr& g) {
                               return AttributeMapRef{g, {}, AttributeMapRef::Which::GraphMeta};
                             })
      .def("node",
           [](const GraphPtr& g, const std::string& name) {
             check(g->find_node(name) != nullptr, [&] { return "the graph has no node '" + name + "'"; });
             return NodeRef{g, name};
           })
      .def("find_node", [](const GraphPtr& g, const std::string& name) { return node_or_none(g, g->find_node(name)); })
      .def("value",
           [](const GraphPtr& g, const std::string& name) {
             g->value(name);
             return ValueRef{g, name};
           })
      .def(
          "add_input",
          [](const GraphPtr& g, const std::string& name, DataType dtype,
             const std::vector<std::optional<std::int64_t>>& shape) {
            return ValueRef{g, g->add_input(name, dtype, tern_shape(shape)).name()};
          },
          py::arg("name"), py::arg("dtype"), py::arg("shape"))
      .def(
          "add_constant",
          [](const GraphPtr& g, const std::string& name, const py::object& data) {
            return ValueRef{g, g->add_constant(name, to_tensor(data, std::nullopt, true)).name()};
          },
          py::arg("name"), py::arg("data"))
      .def(
          "add_node",
          [](const GraphPtr& g, const std::string& op_type, const std::vector<std::string>& inputs,
             const std::vector<std::string>& outputs, const std::optional<py::dict>& attrs, const std::string& name) {
            return NodeRef{g, g->add_node(op_type, inputs, outputs, attributes_of(attrs), name).name()};
          },
          py::arg("op_type"), py::arg("inputs"), py::arg("outputs"), py::arg("attrs") = py::none(),
          py::arg("name") = "")
      .def("add_output", [](const GraphPtr& g, const std::string& name) { g->add_output(name); })
      .def(
          "insert_after",
          [](const GraphPtr& g, const ValueRef& value, const std::string& op_type, const std::optional<py::dict>& attrs,
             const std::vector<ValueRef>& extra_inputs, const std::string& name) {
            std::vector<Value*> extra;
            for (const ValueRef& input : extra_inputs) extra.push_back(&input.get());
            return NodeRef{g, g->insert_after(value.get(), op_type, attributes_of(attrs), extra, name).name()};
          },
          py::arg("value"), py::arg("op_type"), py::arg("attrs") = py::none(),
          py::arg("extra_inputs") = std::vector<ValueRef>{}, py::arg("name") = "",
          "Inserts op_type after `value`: its readers (and the graph outputs) read the new node's output.")
      .def(
          "replace_uses",
          [](const GraphPtr& g, const ValueRef& from, const ValueRef& to) { g->replace_uses(from.get(), to.get()); },
          py::arg("source"), py::arg("replacement"), "Makes every reader of `source` read `replacement`.")
      .def(
          "replace_node",
          [](const GraphPtr& g, const NodeRef& node, const std::string& op_type,
             const std::vector<std::optional<ValueRef>>& inputs, const std::optional<py::dict>& attrs) {
            std::vector<Value*> values;
            for (const auto& input : inputs) values.push_back(input ? &input->get() : nullptr);
            return NodeRef{g, g->replace_node(node.get(), op_type, values, attributes_of(attrs)).name()};
          },
          py::arg("node"), py::arg("op_type"), py::arg("inputs"), py::arg("attrs") = py::none(),
          "Replaces `node` by an op_type node over `inputs` producing the same outputs.")
      .def(
          "bypass_node", [](const GraphPtr& g, const NodeRef& node) { g->bypass_node(node.get()); }, py::arg("node"),
          "Removes a node whose output equals its input (Identity, a safe Flatten): readers read the input.")
      .def(
          "remove_node", [](const GraphPtr& g, const NodeRef& node) { g->remove_node(node.get()); }, py::arg("node"),
          "Removes a node nobody reads, then the values and constants left unread.")
      .def(
          "set_constant",
          [](const GraphPtr& g, const ValueRef& value, const py::object& data) {
            g->set_constant(value.get(), to_tensor(data, std::nullopt, true));
          },
          py::arg("value"), py::arg("data"), "Turns `value` into a constant holding `data`.")
      .def(
          "clone", [](const GraphPtr& g) { return std::make_shared<Graph>(g->clone()); }, "A deep copy.")
      .def("validate", [](const GraphPtr& g) { g->validate(); })
      .def("infer_shapes", [](const GraphPtr& g) { g->infer_shapes(); })
      .def("__len__", [](const GraphPtr& g) { return g->node_count(); })
      .def("__repr__", [](const GraphPtr& g) { return graph_repr(*g); });
}

void bind_model_functions(py::module_& module) {
  module.def(
      "load_model", [](const std::filesystem::path& path) { return std::make_shared<Graph>(load_model(path)); },
      py::arg("path"), "Loads a model file with the format plugin its extension names (.onnx); never modifies it.");
  module.def(
      "save_model", [](const GraphPtr& graph, const std::filesystem::path& path) { save_model(*graph, path); },
      py::arg("graph"), py::arg("path"), "Saves a graph in the format its extension names.");
  module.def(
      "load_for_inference",
      [](const std::filesystem::path& path) { return std::make_shared<Graph>(load_for_inference(path)); },
      py::arg("path"), "load_model, then prepare_for_inference.");
  module.def(
      "prepare_for_inference", [](const GraphPtr& graph) { prepare_for_inference(*graph); }, py::arg("graph"),
      "BatchNorm folded, activations fused, integer Conv/Gemm fused with their Requantize (in place).");
  module.def(
      "remove_flatten", [](const GraphPtr& graph) { return remove_flatten(*graph); }, py::arg("graph"),
      "Removes the Flatten nodes that are safe to remove (the seed's remove_flatten); returns how many.");
  module.def(
      "fold_batchnorm", [](const GraphPtr& graph) { return fold_batchnorm(*graph); }, py::arg("graph"),
      "Folds BatchNormalization into the Conv or Gemm before it; returns how many.");
  module.def(
      "fold_constants",
      [](const GraphPtr& graph, const std::vector<std::string>& backends) { return fold_constants(*graph, backends); },
      py::arg("graph"), py::arg("backends") = std::vector<std::string>{"cpu"},
      "Replaces nodes whose inputs are all constants by their results; returns how many.");
  module.def(
      "fold_shapes",
      [](const GraphPtr& graph, const std::vector<std::string>& backends) { return fold_shapes(*graph, backends); },
      py::arg("graph"), py::arg("backends") = std::vector<std::string>{"cpu"},
      "Shape/Size of static dimensions, and the int64 arithmetic after them, folded into constants; returns how "
      "many Shape-derived values became constants.");
  module.def(
      "set_input_shape",
      [](const GraphPtr& graph, const std::string& name, const std::vector<std::int64_t>& shape,
         const std::vector<std::string>& backends) { set_input_shape(*graph, name, Shape(shape), backends); },
      py::arg("graph"), py::arg("name"), py::arg("shape"), py::arg("backends") = std::vector<std::string>{"cpu"},
      "Fixes input `name` to `shape` (its dynamic dimensions given) and folds the shape arithmetic that becomes "
      "constant, so the graph is static.");
  module.def(
      "fuse_activations", [](const GraphPtr& graph) { return fuse_activations(*graph); }, py::arg("graph"),
      "Folds Relu/Clip/... into the Conv or Gemm before them; returns how many.");
  module.def(
      "explore",
      [](const GraphPtr& graph, const std::filesystem::path& html, const std::string& title,
         const std::optional<std::filesystem::path>& report, const std::vector<std::string>& backends) {
        ExploreOptions options{title, report, backends};
        py::gil_scoped_release unlocked;
        explore(*graph, html, options);
      },
      py::arg("graph"), py::arg("html"), py::arg("title") = "", py::arg("report") = py::none(),
      py::arg("backends") = std::vector<std::string>{"cpu"},
      "Writes the model explorer's page (one self-contained HTML file) for the graph; needs Graphviz's dot.");
}

} // namespace

void bind_graph(py::module_& module) {
  bind_attribute_map(module);
  bind_value_and_node(module);
  bind_graph_class(module);
  bind_model_functions(module);
}

} // namespace tern::python
