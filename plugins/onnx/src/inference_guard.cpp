#include "inference_guard.hpp"

#include "errors.hpp"

namespace tern::onnx_plugin {
namespace {

void check_window_attributes(const onnx::GraphProto& graph);

void check_node_windows(const onnx::NodeProto& node) {
  for (const onnx::AttributeProto& attribute : node.attribute()) {
    const std::string& key = attribute.name();
    const bool positive =
        key == "strides" || key == "dilations" || key == "kernel_shape" || key == "group" || key == "blocksize";
    if (positive && attribute.has_i())
      check(attribute.i() >= 1, [&] {
        return describe_node(node) + ": attribute '" + key + "' is " + std::to_string(attribute.i()) +
               "; it must be at least 1";
      });
    if (positive)
      for (const std::int64_t value : attribute.ints())
        check(value >= 1, [&] {
          return describe_node(node) + ": attribute '" + key + "' holds " + std::to_string(value) +
                 "; each value must be at least 1";
        });
    if (attribute.has_g()) check_window_attributes(attribute.g());
    for (const onnx::GraphProto& body : attribute.graphs()) check_window_attributes(body);
  }
}

void check_window_attributes(const onnx::GraphProto& graph) {
  for (const onnx::NodeProto& node : graph.node()) check_node_windows(node);
}

/// The input position of the weights of each convolution libonnx infers from them: the
/// kernel size comes from their dimensions 2.. unless kernel_shape is given. MaxUnpool
/// reads its indices' dimension 1 unchecked, so it is listed too (by that input).
const std::map<std::string, int>& weight_positions() {
  static const std::map<std::string, int> positions{
      {"Conv", 1}, {"ConvInteger", 1}, {"ConvTranspose", 1}, {"QLinearConv", 3}, {"MaxUnpool", 1}};
  return positions;
}

/// Adds the dimensions known before inference: initializers and declared graph inputs
/// with every dimension a number. Outer-scope values stay visible in subgraphs.
void add_static_shapes(const onnx::GraphProto& graph, KnownShapes& shapes) {
  for (const onnx::TensorProto& tensor : graph.initializer())
    shapes[tensor.name()] = {tensor.dims().begin(), tensor.dims().end()};
  for (const onnx::ValueInfoProto& input : graph.input()) {
    if (shapes.contains(input.name()) || !input.type().tensor_type().has_shape()) continue;
    std::vector<std::int64_t> dims;
    bool all_known = true;
    for (const onnx::TensorShapeProto_Dimension& dim : input.type().tensor_type().shape().dim()) {
      all_known = all_known && dim.has_dim_value();
      dims.push_back(dim.dim_value());
    }
    if (all_known) shapes[input.name()] = std::move(dims);
  }
}

bool has_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const onnx::AttributeProto& attribute : node.attribute())
    if (attribute.name() == name) return true;
  return false;
}

/// A name no ONNX schema has: libonnx skips the node as an unsupported op.
std::size_t hide_from_inference(onnx::NodeProto& node) {
  node.set_op_type("TernNotInferred." + node.op_type());
  return 1;
}

std::size_t guard_node(onnx::NodeProto& node, const KnownShapes& shapes) {
  const auto position = weight_positions().find(node.op_type());
  if (position == weight_positions().end()) return 0;
  const int index = position->second;
  const auto weights = node.input_size() > index ? shapes.find(node.input(index)) : shapes.end();
  // Unknown weights, weights of fewer than two axes (their dimension 1 is read), or any
  // MaxUnpool: libonnx would read past the end; leave the node to Tern's own inference.
  if (weights == shapes.end() || weights->second.size() < 2 || node.op_type() == "MaxUnpool")
    return hide_from_inference(node);
  if (has_attribute(node, "kernel_shape")) return 0;
  onnx::AttributeProto& kernel = *node.add_attribute();
  kernel.set_name("kernel_shape");
  kernel.set_type(onnx::AttributeProto::INTS);
  for (std::size_t axis = 2; axis < weights->second.size(); ++axis) kernel.add_ints(weights->second[axis]);
  return 0;
}

std::size_t guard_graph(onnx::GraphProto& graph, KnownShapes shapes) {
  add_static_shapes(graph, shapes);
  std::size_t hidden = 0;
  for (onnx::NodeProto& node : *graph.mutable_node()) {
    hidden += guard_node(node, shapes);
    for (onnx::AttributeProto& attribute : *node.mutable_attribute()) {
      if (attribute.has_g()) hidden += guard_graph(*attribute.mutable_g(), shapes);
      for (onnx::GraphProto& body : *attribute.mutable_graphs()) hidden += guard_graph(body, shapes);
    }
  }
  return hidden;
}

} // namespace

void check_window_attributes(const onnx::ModelProto& model) {
  check_window_attributes(model.graph());
  for (const onnx::FunctionProto& function : model.functions())
    for (const onnx::NodeProto& node : function.node()) check_node_windows(node);
}

std::size_t guard_convolutions(onnx::ModelProto& copy, const KnownShapes& known) {
  std::size_t hidden = guard_graph(*copy.mutable_graph(), known);
  // A function body's weights are its parameters: never known before inference.
  for (onnx::FunctionProto& function : *copy.mutable_functions())
    for (onnx::NodeProto& node : *function.mutable_node())
      if (weight_positions().contains(node.op_type())) hidden += hide_from_inference(node);
  return hidden;
}

} // namespace tern::onnx_plugin
