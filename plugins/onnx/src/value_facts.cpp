#include "value_facts.hpp"

#include "inference_guard.hpp"
#include "tensor_proto.hpp"

#include <onnx/shape_inference/implementation.h>

#include <algorithm>

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

/// One run of ONNX's inference on a copy of `model`, guarded by what is already `known`;
/// returns how many convolutions it had to skip.
std::size_t infer_once(const onnx::ModelProto& model, const KnownShapes& known, onnx::ModelProto& inferred) {
  inferred = model;
  const std::size_t hidden = guard_convolutions(inferred, known);
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
  return hidden;
}

} // namespace

ValueFacts::ValueFacts(const onnx::ModelProto& model) {
  check_window_attributes(model);
  // A convolution whose weights are computed (DequantizeLinear in a QDQ model) is skipped
  // by the first run; what that run learnt about its weights lets the next one infer it.
  KnownShapes known;
  onnx::ModelProto inferred;
  for (std::size_t hidden = infer_once(model, known, inferred), before = hidden + 1; hidden > 0 && hidden < before;) {
    for (const onnx::ValueInfoProto& info : inferred.graph().value_info())
      if (const std::optional<std::vector<std::int64_t>> dims = fact_of(info.type()).dims;
          dims && std::ranges::none_of(*dims, [](std::int64_t dim) { return dim < 0; }))
        known[info.name()] = *dims;
    before = hidden;
    hidden = infer_once(model, known, inferred);
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
