#include "op_roles.hpp"

#include <tern/error.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace tern::ptq {
namespace {

bool is_constant(const Value* value) { return value != nullptr && value->constant() != nullptr; }

double scalar(const Value& value) { return value.constant()->to_doubles().at(0); }

bool is_scalar_constant(const Value* value) { return is_constant(value) && value->constant()->numel() == 1; }

/// Gemm as y = x·W + b with W constant and a per-column (or absent) bias.
bool affine_gemm(const Node& node) {
  const Value* bias = node.input(2);
  const bool plain =
      node.attr<std::int64_t>("transA") == 0 && node.attr<double>("alpha") == 1.0 && node.attr<double>("beta") == 1.0;
  const bool bias_ok = bias == nullptr || (is_constant(bias) && bias->constant()->shape().rank() == 1);
  return plain && bias_ok && is_constant(node.input(1)) && node.input(1)->constant()->shape().rank() == 2;
}

bool affine(const Node& node) {
  if (node.attrs().has("activation")) return false; // already fused for inference: quantize the plain model
  const std::string& op = node.op_type();
  if (op == "Conv") return is_constant(node.input(1)) && (node.input(2) == nullptr || is_constant(node.input(2)));
  if (op == "Gemm") return affine_gemm(node);
  if (op == "MatMul") return is_constant(node.input(1)) && node.input(1)->constant()->shape().rank() == 2;
  return false;
}

bool activation(const Node& node) {
  if (node.op_type() == "Relu") return true;
  if (node.op_type() != "Clip") return false;
  const Value* low = node.input(1);
  const Value* high = node.input(2);
  return (low == nullptr || is_scalar_constant(low)) && (high == nullptr || is_scalar_constant(high));
}

} // namespace

Role role_of(const Graph& graph, const Node& node) {
  static const std::set<std::string> pass_through{"MaxPool",  "Reshape", "Flatten",  "Transpose",
                                                  "Identity", "Squeeze", "Unsqueeze"};
  const std::string& op = node.op_type();
  if (affine(node)) return Role::Affine;
  if (activation(node)) return Role::Activation;
  if ((op == "Add" || op == "Sub") && !is_constant(node.input(0)) && !is_constant(node.input(1))) return Role::Merge;
  if (op == "Concat") {
    const auto& inputs = node.inputs();
    if (std::none_of(inputs.begin(), inputs.end(), is_constant)) return Role::Concat;
  }
  if (op == "AveragePool" || op == "GlobalAveragePool") return Role::Average;
  if (pass_through.contains(op) && !is_constant(node.input(0))) {
    // MaxPool's optional Indices output is not a quantized value.
    if (op != "MaxPool" || node.outputs().size() == 1 || graph.consumers(*node.output(1)).empty())
      return Role::PassThrough;
  }
  return Role::Float;
}

Node* activation_tail(const Graph& graph, const Value& value) {
  if (graph.is_output(value)) return nullptr;
  const std::vector<Node*> readers = graph.consumers(value);
  if (readers.size() != 1 || readers[0]->input(0) != &value || !activation(*readers[0])) return nullptr;
  // Folding a tail that is a graph output would rename that output.
  return graph.is_output(*readers[0]->output()) ? nullptr : readers[0];
}

ActivationBounds activation_bounds(const Node& node) {
  if (node.op_type() == "Relu") return {0.0, std::nullopt};
  ActivationBounds bounds;
  if (node.input(1) != nullptr) bounds.min = scalar(*node.input(1));
  if (node.input(2) != nullptr) bounds.max = scalar(*node.input(2));
  return bounds;
}

const Value& quantization_point(const Graph& graph, const Node& node) {
  const Node* tail = activation_tail(graph, *node.output());
  return tail ? *tail->output() : *node.output();
}

std::vector<const Value*> calibration_points(const Graph& graph) {
  std::vector<const Value*> points(graph.inputs().begin(), graph.inputs().end());
  for (const Node* node : graph.topological_order()) {
    switch (role_of(graph, *node)) {
    case Role::Affine:
    case Role::Merge:
    case Role::Concat:
    case Role::Average: points.push_back(&quantization_point(graph, *node)); break;
    case Role::Float:
      for (const Value* output : node->outputs())
        if (output->dtype() == DataType::Float32) points.push_back(output);
      break;
    case Role::PassThrough:
    case Role::Activation: break;
    }
  }
  return points;
}

std::string check_float_nodes(const Graph& graph, bool keep_float) {
  std::string list;
  std::size_t count = 0;
  for (const Node* node : graph.topological_order())
    if (role_of(graph, *node) == Role::Float) {
      list += (list.empty() ? "'" : ", '") + node->name() + "' (" + node->op_type() + ")";
      ++count;
    }
  if (count > 0 && !keep_float)
    throw Error("the PTQ cannot quantize " + std::to_string(count) + " node(s): " + list +
                "; keep them in float with keep_float (tern quantize --keep-float)");
  return list;
}

} // namespace tern::ptq
