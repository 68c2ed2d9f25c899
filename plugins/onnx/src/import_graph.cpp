#include "import_graph.hpp"

#include "errors.hpp"
#include "import_node.hpp"
#include "model_file.hpp"
#include "tensor_proto.hpp"
#include "value_facts.hpp"

#include <algorithm>
#include <set>

namespace tern::onnx_plugin {
namespace {

/// Throws one error listing every unsupported op type, with its node count and first
/// node, in the order they first appear: one pass tells the whole story of a model.
void refuse_unsupported_ops(const onnx::GraphProto& graph) {
  struct Seen {
    std::string op_type;
    std::size_t count = 0;
    std::string first;
  };
  std::vector<Seen> unsupported;
  for (const onnx::NodeProto& node : graph.node()) {
    if (is_supported(node.op_type())) continue;
    auto it = std::find_if(unsupported.begin(), unsupported.end(),
                           [&](const Seen& s) { return s.op_type == node.op_type(); });
    if (it == unsupported.end()) {
      const std::string first =
          node.name().empty() ? "(unnamed, writing '" + node.output(0) + "')" : "'" + node.name() + "'";
      unsupported.push_back({node.op_type(), 0, first});
      it = unsupported.end() - 1;
    }
    ++it->count;
  }
  if (unsupported.empty()) return;
  std::string message =
      std::to_string(unsupported.size()) + " unsupported op type" + (unsupported.size() > 1 ? "s" : "") + ": ";
  for (std::size_t i = 0; i < unsupported.size(); ++i) {
    const Seen& s = unsupported[i];
    message += (i ? ", " : "") + s.op_type + " (" + std::to_string(s.count) + " node" + (s.count > 1 ? "s" : "") +
               ", first " + s.first + ")";
  }
  throw Error(message);
}

Shape input_shape(const onnx::ValueInfoProto& input) {
  const onnx::TypeProto_Tensor& type = input.type().tensor_type();
  check(type.has_shape(),
        [&] { return "graph input '" + input.name() + "' declares no shape; Tern needs at least its rank"; });
  std::vector<std::int64_t> dims;
  // dim_param ("N") and unnamed unknown dimensions are both known only at run time.
  for (const onnx::TensorShapeProto_Dimension& dim : type.shape().dim())
    dims.push_back(dim.has_dim_value() ? dim.dim_value() : Shape::dynamic);
  return Shape(std::move(dims));
}

void add_input(Graph& graph, const onnx::ValueInfoProto& input) {
  check(input.type().has_tensor_type(),
        [&] { return "graph input '" + input.name() + "' is not a tensor; Tern reads tensors only"; });
  const std::int32_t elem_type = input.type().tensor_type().elem_type();
  const std::optional<DataType> dtype = onnx_io::from_onnx_type(elem_type);
  check(dtype.has_value(), [&] {
    return "graph input '" + input.name() + "' has ONNX type " + onnx_io::onnx_type_name(elem_type) +
           ", which Tern does not support";
  });
  graph.add_input(input.name(), *dtype, input_shape(input));
}

} // namespace

Graph import_graph(const onnx::ModelProto& model) {
  const onnx::GraphProto& proto = model.graph();
  refuse_unsupported_ops(proto);
  check(proto.sparse_initializer_size() == 0, "the graph has sparse initializers, which Tern does not support");

  Graph graph;
  std::set<std::string> initializers;
  for (const onnx::TensorProto& tensor : proto.initializer()) {
    graph.add_constant(tensor.name(), onnx_io::from_proto(tensor, "initializer '" + tensor.name() + "'"));
    initializers.insert(tensor.name());
  }
  // Before IR 4 every initializer was also listed as a graph input: it is a constant only.
  for (const onnx::ValueInfoProto& input : proto.input())
    if (!initializers.contains(input.name())) add_input(graph, input);

  const ValueFacts facts(model);
  NodeImport context{graph, default_opset(model), facts};
  for (const onnx::NodeProto& node : proto.node()) import_node(node, context);
  for (const onnx::ValueInfoProto& output : proto.output()) graph.add_output(output.name());
  // Tern's own model annotations (e.g. how a quantized model wants its inputs scaled).
  for (const onnx::StringStringEntryProto& entry : model.metadata_props())
    if (entry.key().starts_with("quantization.")) graph.meta().set(entry.key(), entry.value());

  graph.validate();
  graph.infer_shapes();
  return graph;
}

} // namespace tern::onnx_plugin
