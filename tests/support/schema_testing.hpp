#pragma once
// Shared by the schema suites: one-node graphs, attribute shorthands, and inference checks.
// Expected shapes in those suites are worked out by hand from the ONNX operator spec.

#include <tern/graph.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tern::test {

using Ints = std::vector<std::int64_t>;
inline constexpr std::int64_t N = Shape::dynamic;

inline Attributes attrs(std::vector<std::pair<std::string, Attribute>> items) {
  Attributes result;
  for (auto& [key, value] : items) result.set(key, std::move(value));
  return result;
}

inline Attribute i64(std::int64_t value) { return value; }
inline Attribute text(const char* value) { return std::string(value); }

/// A float32 constant of `shape` (zeros: inference only reads its type).
inline void add_weights(Graph& graph, const std::string& name, Shape shape) {
  graph.add_constant(name, Tensor(std::move(shape), DataType::Float32));
}

/// A 1-D int64 constant (axes, starts, sizes, ...).
inline void add_ints(Graph& graph, const std::string& name, const Ints& values) {
  graph.add_constant(name, Tensor::from(Shape{static_cast<std::int64_t>(values.size())}, DataType::Int64, values));
}

inline void add_floats(Graph& graph, const std::string& name, Shape shape, const std::vector<float>& values) {
  graph.add_constant(name, Tensor::from_floats(std::move(shape), values));
}

/// x[x_shape] -> op(x, extra inputs...) -> y (node "n"), with constants the caller adds.
inline Graph one_node(const std::string& op, Shape x_shape, std::vector<std::string> extra_inputs = {},
                      Attributes a = {}, DataType x_type = DataType::Float32) {
  Graph graph;
  graph.add_input("x", x_type, std::move(x_shape));
  std::vector<std::string> inputs{"x"};
  inputs.insert(inputs.end(), extra_inputs.begin(), extra_inputs.end());
  graph.add_node(op, inputs, {"y"}, std::move(a), "n");
  graph.add_output("y");
  return graph;
}

/// x[x_shape] -> op(x, c) -> y with the int64 constant c = `values`.
inline Graph with_ints(const std::string& op, Shape x_shape, const Ints& values, Attributes a = {}) {
  Graph graph;
  add_ints(graph, "c", values);
  graph.add_input("x", DataType::Float32, std::move(x_shape));
  graph.add_node(op, {"x", "c"}, {"y"}, std::move(a), "n");
  graph.add_output("y");
  return graph;
}

/// The dimensions of value `name` (compared as lists, which GoogleTest prints readably).
inline Ints dims_of(const Graph& graph, const std::string& name) { return graph.value(name).shape().dims(); }

/// Runs inference and returns the dimensions of value `name`.
inline Ints inferred(Graph& graph, const std::string& name = "y") {
  graph.infer_shapes();
  return dims_of(graph, name);
}

/// Expects inference to throw tern::Error whose message contains every one of `parts`.
inline void expect_inference_error(Graph& graph, std::initializer_list<const char*> parts) {
  try {
    graph.infer_shapes();
    ADD_FAILURE() << "expected tern::Error";
  } catch (const tern::Error& e) {
    for (const char* part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

} // namespace tern::test
