#include "value_facts.hpp"

#include "errors.hpp"
#include "tensor_proto.hpp"

#include <onnx/shape_inference/implementation.h>

namespace tern::onnx_plugin {
namespace {

ValueFact fact_of(const onnx::TypeProto& type) {
  ValueFact fact;
  if (!type.has_tensor_type()) return fact;
  fact.dtype = onnx_io::from_onnx_type(type.tensor_type().elem_type());
  if (!type.tensor_type().has_shape()) return fact;
  std::vector<std::int64_t> dims;
  for (const onnx::TensorShapeProto_Dimension& dim : type.tensor_type().shape().dim())
    dims.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
  fact.dims = std::move(dims);
  return fact;
}

/// Refuses attribute values ONNX's own shape inference divides by or loops on (a Conv or
/// pool with strides 0 passes the checker, then raises SIGFPE inside libonnx, where no
/// `try` catches it). Walks subgraphs too: inference descends into them.
void check_window_attributes(const onnx::GraphProto& graph) {
  for (const onnx::NodeProto& node : graph.node())
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

} // namespace

ValueFacts::ValueFacts(const onnx::ModelProto& model) {
  check_window_attributes(model.graph());
  onnx::ModelProto inferred = model;
  // Declared output and intermediate shapes are only claims; a wrong one would make
  // ONNX's inference stop at the conflict. Let it infer them from the inputs instead.
  onnx::GraphProto& declared = *inferred.mutable_graph();
  declared.clear_value_info();
  for (onnx::ValueInfoProto& output : *declared.mutable_output())
    if (output.type().has_tensor_type()) output.mutable_type()->mutable_tensor_type()->clear_shape();
  try {
    onnx::shape_inference::InferShapes(inferred);
  } catch (const std::exception&) {
    // Facts are a help, not a requirement: what inference could not tell stays unknown,
    // and a normalisation that needs it says so, naming the node.
  }
  const onnx::GraphProto& graph = inferred.graph();
  for (const auto* list : {&graph.input(), &graph.value_info(), &graph.output()})
    for (const onnx::ValueInfoProto& info : *list) facts_[info.name()] = fact_of(info.type());
  for (const onnx::TensorProto& tensor : graph.initializer())
    facts_[tensor.name()] = {onnx_io::from_onnx_type(tensor.data_type()),
                             std::vector<std::int64_t>(tensor.dims().begin(), tensor.dims().end())};
}

ValueFact ValueFacts::find(const std::string& name) const {
  const auto it = facts_.find(name);
  return it == facts_.end() ? ValueFact{} : it->second;
}

} // namespace tern::onnx_plugin
