#include "precision.hpp"

#include "op_roles.hpp"

#include <tern/error.hpp>

#include <algorithm>
#include <string>

namespace tern::ptq {
namespace {

void check_operand(DataType type, const char* what) {
  const bool supported =
      type == DataType::Int8 || type == DataType::UInt8 || type == DataType::Int4 || type == DataType::UInt4;
  check(supported, [&] {
    return std::string(what) + " precision " + std::string(name(type)) +
           " is not supported (use int8, uint8, int4 or uint4)";
  });
}

void tag(Node& node, const char* key, DataType type) {
  if (!node.meta().has(key)) node.meta().set(key, std::string(name(type)));
}

} // namespace

void auto_assign_node_precision(Graph& graph, DataType weights, DataType activations, DataType accumulation) {
  check_operand(weights, "weight");
  check_operand(activations, "activation");
  const unsigned operands = std::max(info(weights).bits, info(activations).bits);
  check(info(accumulation).bits > operands, [&] {
    return "accumulation precision " + std::string(name(accumulation)) + " must be wider than the operands (" +
           std::string(name(weights)) + " weights, " + std::string(name(activations)) + " activations)";
  });
  check(accumulation == DataType::Int16 || accumulation == DataType::Int32, [&] {
    return "accumulation precision " + std::string(name(accumulation)) + " is not supported (use int16 or int32)";
  });
  for (Node* node : graph.nodes()) {
    const Role role = role_of(graph, *node);
    if (role == Role::PassThrough || role == Role::Interpolate || role == Role::Activation || role == Role::Shape)
      continue;
    // The network's outputs (logits) keep the accumulation precision: rounding them to a
    // few bits would only create ties between classes, and they are dequantized anyway.
    const bool network_output = graph.is_output(*node->output());
    tag(*node, precision_key, network_output ? accumulation : activations);
    if (role == Role::Affine) tag(*node, weight_precision_key, weights);
    if (role == Role::Affine || role == Role::Merge) tag(*node, accumulation_precision_key, accumulation);
  }
}

DataType tagged_precision(const Node& node, const char* key) {
  const Attribute* value = node.meta().find(key);
  check(value != nullptr, [&] {
    return "node '" + node.name() + "' (" + node.op_type() + ") has no '" + key +
           "' tag: run auto_assign_node_precision first or tag it by hand";
  });
  const auto* text = std::get_if<std::string>(value);
  const auto type = text ? parse_data_type(*text) : std::nullopt;
  check(type.has_value(),
        [&] { return "node '" + node.name() + "': '" + key + "' must name a data type such as \"int8\""; });
  return *type;
}

IntRange int_range(unsigned bits, bool is_unsigned) {
  if (is_unsigned) return {0, (std::int64_t{1} << bits) - 1};
  const std::int64_t top = (std::int64_t{1} << (bits - 1)) - 1;
  return {-top, top};
}

} // namespace tern::ptq
