#include "cast_to_integer.hpp"

#include "quantize_graph.hpp"

#include <tern/error.hpp>

#include <algorithm>
#include <set>

namespace tern::ptq {
namespace {

bool scalar_constant(const Value* value) { return value && value->constant() && value->constant()->numel() == 1; }

std::string integer_type(std::int64_t lo, std::int64_t hi) {
  if (lo >= -128 && hi <= 127) return "int8";
  if (lo >= 0 && hi <= 255) return "uint8";
  return "int32";
}

Attributes requantize_attributes(std::vector<double> scale, std::int64_t axis, std::int64_t lo, std::int64_t hi) {
  Attributes attrs;
  attrs.set("scale", std::move(scale));
  attrs.set("axis", axis);
  attrs.set("lo", lo);
  attrs.set("hi", hi);
  attrs.set("to", integer_type(lo, hi));
  return attrs;
}

/// Clip(Round(Mul(x, factor))) → Requantize(x); returns the number of quantizers rewritten.
std::size_t fuse_quantizers(Graph& graph) {
  std::size_t fused = 0;
  for (Node* clip : graph.topological_order()) {
    if (clip->op_type() != "Clip" || !scalar_constant(clip->input(1)) || !scalar_constant(clip->input(2))) continue;
    Node* round = clip->input(0)->producer();
    if (round == nullptr || round->op_type() != "Round" || graph.consumers(*round->output()).size() != 1) continue;
    Value* source = round->input(0);
    std::vector<double> scale{1.0};
    std::int64_t axis = 1;
    Node* multiply = source->producer();
    if (multiply != nullptr && multiply->op_type() == "Mul" && multiply->input(1)->constant() != nullptr &&
        graph.consumers(*source).size() == 1 && !graph.is_output(*source)) {
      const Tensor& factor = *multiply->input(1)->constant();
      scale = factor.to_doubles();
      for (std::size_t d = 0; d < factor.shape().rank(); ++d)
        if (factor.shape()[d] != 1) axis = static_cast<std::int64_t>(d);
      source = multiply->input(0);
    } else {
      multiply = nullptr;
    }
    // Accumulator-precision bounds (±(2^31-1)) are not exact in float32: keep them in int32.
    constexpr double int32_top = 2147483647.0;
    const auto lo = static_cast<std::int64_t>(std::max(clip->input(1)->constant()->to_doubles()[0], -int32_top));
    const auto hi = static_cast<std::int64_t>(std::min(clip->input(2)->constant()->to_doubles()[0], int32_top));
    graph.replace_node(*clip, "Requantize", {source}, requantize_attributes(scale, axis, lo, hi));
    graph.remove_node(*round);
    if (multiply != nullptr) graph.remove_node(*multiply);
    ++fused;
  }
  return fused;
}

/// A private integer copy of a constant input (weights int8, biases int32).
void cast_constant_input(Graph& graph, Node& node, std::size_t index, DataType type) {
  Value* value = node.input(index);
  if (value == nullptr || value->constant() == nullptr || value->constant()->dtype() == type) return;
  Value& cast = graph.add_constant(graph.unique_name(value->name() + "_" + std::string(name(type))),
                                   value->constant()->cast(type));
  std::vector<Value*> inputs = node.inputs();
  inputs[index] = &cast;
  Attributes attrs = node.attrs();
  graph.replace_node(node, node.op_type(), inputs, std::move(attrs));
}

void cast_inputs_to_float(Graph& graph, Node& node, const std::set<const Value*>& integers) {
  std::vector<Value*> inputs = node.inputs();
  bool changed = false;
  for (Value*& input : inputs) {
    if (input == nullptr || !integers.contains(input)) continue;
    Attributes to_float;
    to_float.set("to", std::string("float32"));
    input = graph.add_node("Cast", {input->name()}, {graph.unique_name(input->name() + "_float")}, to_float).output();
    changed = true;
  }
  if (!changed) return;
  Attributes attrs = node.attrs();
  graph.replace_node(node, node.op_type(), inputs, std::move(attrs));
}

} // namespace

void cast_to_integer(Graph& graph, PassContext&, const Options&) {
  check(graph.meta().has(input_scale_key), "cast_to_integer needs a quantized graph: run quantize_network first");
  fuse_quantizers(graph);
  // The quantized network reads integer-valued floats (scale_input); clamp and cast them once.
  const auto limit = static_cast<std::int64_t>(std::stod(graph.meta().get<std::string>(input_limit_key)));
  for (Value* input : std::vector<Value*>(graph.inputs()))
    if (!graph.consumers(*input).empty())
      graph.insert_after(*input, "Requantize", requantize_attributes({1.0}, 1, -limit, limit));

  static const std::set<std::string> integer_ops{"MaxPool", "Reshape",   "Flatten", "Transpose", "Identity",
                                                 "Squeeze", "Unsqueeze", "Relu",    "Requantize"};
  std::set<const Value*> integers; // values that hold quantized integers from here on
  for (Node* node : graph.topological_order()) {
    const std::string& op = node->op_type();
    const bool integer_data = node->input(0) != nullptr && integers.contains(node->input(0));
    if (op == "Requantize") {
      integers.insert(node->output());
    } else if ((op == "Conv" || op == "Gemm" || op == "MatMul") && integer_data) {
      cast_constant_input(graph, *node, 1, DataType::Int8);
      cast_constant_input(graph, *node, 2, DataType::Int32);
      integers.insert(node->output());
    } else if (integer_ops.contains(op) && integer_data) {
      integers.insert(node->output());
    } else if (op == "Concat" && std::all_of(node->inputs().begin(), node->inputs().end(),
                                             [&](const Value* v) { return integers.contains(v); })) {
      integers.insert(node->output());
    } else {
      cast_inputs_to_float(graph, *node, integers);
    }
  }
  graph.infer_shapes();
}

} // namespace tern::ptq
