#include "export_graph.hpp"

#include "attribute_convert.hpp"
#include "model_file.hpp"
#include "tensor_proto.hpp"

#include <tern/version.hpp>

#include <onnx/checker.h>

#include <algorithm>
#include <set>

namespace tern::onnx_plugin {
namespace {

/// The opset Tern's schemas follow; ONNX 1.12 knows up to max_opset.
constexpr std::int64_t base_opset = 13;

/// Attributes, inputs and ops ONNX added after opset 13: a node using one needs that opset.
struct OpsetNeed {
  const char* op_type;
  const char* attribute; ///< nullptr: the need is an input count
  std::size_t inputs;    ///< at least this many inputs
  std::int64_t opset;
  const char* feature;
};
constexpr OpsetNeed opset_needs[] = {
    {"Reshape", "allowzero", 0, 14, "attribute 'allowzero'"},
    {"BatchNormalization", "training_mode", 0, 14, "attribute 'training_mode'"},
    {"Shape", "start", 0, 15, "attribute 'start'"},
    {"Shape", "end", 0, 15, "attribute 'end'"},
    {"Pad", nullptr, 4, 18, "input 'axes'"},
    {"HardSwish", nullptr, 0, 14, "the op itself"},
    {"LayerNormalization", nullptr, 0, 17, "the op itself"},
};

std::int64_t opset_for(const Node& node) {
  std::int64_t opset = base_opset;
  for (const OpsetNeed& need : opset_needs) {
    if (node.op_type() != need.op_type) continue;
    const bool uses = need.attribute ? node.attrs().has(need.attribute) : node.inputs().size() >= need.inputs;
    if (!uses) continue;
    check(need.opset <= max_opset, [&] {
      return node.describe() + " uses " + need.feature + ", which needs opset " + std::to_string(need.opset) +
             "; ONNX 1.12 writes opsets up to " + std::to_string(max_opset);
    });
    opset = std::max(opset, need.opset);
  }
  return opset;
}

/// Writes `value`'s element type and shape; a dynamic dimension becomes a dim_param,
/// "N" for the batch (axis 0, shared by every input as Tern assumes) and
/// "<value>_d<axis>" for the others.
void write_type(onnx::ValueInfoProto& info, const Value& value, const std::string& what) {
  info.set_name(value.name());
  onnx::TypeProto_Tensor& type = *info.mutable_type()->mutable_tensor_type();
  type.set_elem_type(onnx_io::to_onnx_type(value.dtype(), what));
  onnx::TensorShapeProto& shape = *type.mutable_shape();
  for (std::size_t axis = 0; axis < value.shape().rank(); ++axis) {
    onnx::TensorShapeProto_Dimension& dim = *shape.add_dim();
    const std::int64_t size = value.shape()[axis];
    if (size != Shape::dynamic)
      dim.set_dim_value(size);
    else
      dim.set_dim_param(axis == 0 ? "N" : value.name() + "_d" + std::to_string(axis));
  }
}

/// Writes nodes, adding the ones Tern's extensions stand for.
class NodeWriter {
public:
  NodeWriter(const Graph& graph, onnx::GraphProto& out) : graph_(graph), out_(out) {}

  void write(const Node& node) {
    std::vector<std::string> inputs;
    for (const Value* input : node.inputs()) inputs.push_back(input ? input->name() : std::string());
    std::vector<std::string> outputs;
    for (const Value* output : node.outputs()) outputs.push_back(output->name());
    Attributes attrs = node.attrs();

    // Tern's Gemm flattens an A of rank > 2 itself; ONNX's needs the Flatten spelled out.
    if (node.op_type() == "Gemm" && node.input(0)->shape().rank() > 2) {
      const std::string flat = fresh(inputs[0] + "/flattened");
      Attributes flatten;
      flatten.set("axis", std::int64_t{1});
      emit("Flatten", fresh(node.name() + "/Flatten"), {inputs[0]}, {flat}, flatten);
      inputs[0] = flat;
    }
    // Tern's fused activation (Conv/Gemm "activation", "activation_alpha", "activation_beta",
    // see core/src/ops/fused_activation.hpp) is a node of its own in ONNX, writing the
    // fused node's output.
    const std::string activation = attrs.get_or<std::string>("activation", "");
    for (const char* key : {"activation", "activation_alpha", "activation_beta"}) attrs.erase(key);
    const std::string result = outputs.at(0);
    if (!activation.empty()) outputs[0] = fresh(result + "/pre_activation");

    // Cast's target is a Tern dtype name; ONNX wants its enum.
    if (node.op_type() == "Cast") {
      const std::optional<DataType> to = parse_data_type(attrs.get<std::string>("to"));
      check(to.has_value(), [&] { return node.describe() + ": attribute 'to' names no dtype"; });
      attrs.set("to", std::int64_t{onnx_io::to_onnx_type(*to, node.describe() + " casts to a type that")});
    }
    emit(node.op_type(), node.name(), inputs, outputs, attrs);
    if (!activation.empty()) write_activation(node, activation, outputs[0], result);
  }

private:
  /// The activation node; its parameters are the fused node's (schema defaults included,
  /// which may differ from the ONNX op's own defaults, so they are always written).
  void write_activation(const Node& node, const std::string& op, const std::string& input, const std::string& output) {
    const std::string name = fresh(node.name() + "/" + op);
    if (op == "SiLU") { // fuse_silu's x * Sigmoid(x): the two nodes it was folded from
      const std::string sigmoid = fresh(name + "/Sigmoid");
      emit("Sigmoid", sigmoid, {input}, {sigmoid}, {});
      emit("Mul", name, {input, sigmoid}, {output}, {});
      return;
    }
    const auto alpha = node.attr<double>("activation_alpha");
    const auto beta = node.attr<double>("activation_beta");
    Attributes attrs;
    std::vector<std::string> inputs{input};
    if (op == "LeakyRelu") {
      attrs.set("alpha", alpha);
    } else if (op == "HardSigmoid") {
      attrs.set("alpha", alpha);
      attrs.set("beta", beta);
    } else if (op == "Clip") {
      // alpha and beta are the bounds; ONNX's Clip takes them as inputs of the data's type.
      const DataType type = node.output(0)->dtype();
      inputs.push_back(initializer(name + "/min", alpha, type));
      inputs.push_back(initializer(name + "/max", beta, type));
    } else {
      check(op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "HardSwish",
            [&] { return node.describe() + ": fused activation '" + op + "' has no ONNX spelling Tern knows"; });
    }
    emit(op, name, inputs, {output}, attrs);
  }

  std::string initializer(const std::string& base, double value, DataType type) {
    const std::string name = fresh(base);
    Tensor tensor(Shape{}, type);
    convert(&value, DataType::Float64, tensor.raw(), type, 1);
    *out_.add_initializer() = onnx_io::to_proto(tensor, name);
    return name;
  }

  void emit(const std::string& op_type, const std::string& name, std::vector<std::string> inputs,
            const std::vector<std::string>& outputs, const Attributes& attrs) {
    while (!inputs.empty() && inputs.back().empty()) inputs.pop_back();
    onnx::NodeProto& proto = *out_.add_node();
    proto.set_op_type(op_type);
    proto.set_name(name);
    for (const std::string& input : inputs) proto.add_input(input);
    for (const std::string& output : outputs) proto.add_output(output);
    for (const auto& [key, value] : attrs.all()) *proto.add_attribute() = attribute_to_proto(key, value);
  }

  /// A value or node name the graph does not use and this writer has not made yet.
  std::string fresh(const std::string& base) {
    std::string name = graph_.unique_name(base);
    for (std::size_t i = 1; made_.contains(name); ++i) name = graph_.unique_name(base + "_" + std::to_string(i));
    made_.insert(name);
    return name;
  }

  const Graph& graph_;
  onnx::GraphProto& out_;
  std::set<std::string> made_;
};

} // namespace

onnx::ModelProto export_graph(const Graph& source) {
  // Types of every value are needed (graph outputs, Gemm's A rank): infer them on a copy.
  Graph graph = source.clone();
  graph.validate();
  graph.infer_shapes();

  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("tern");
  model.set_producer_version(TERN_VERSION_STRING);
  onnx::GraphProto& out = *model.mutable_graph();
  out.set_name("tern");

  for (const Value* constant : graph.constants())
    *out.add_initializer() = onnx_io::to_proto(*constant->constant(), constant->name());
  for (const Value* input : graph.inputs()) write_type(*out.add_input(), *input, "graph input '" + input->name() + "'");
  std::int64_t opset = base_opset;
  NodeWriter writer(graph, out);
  for (const Node* node : graph.topological_order()) {
    opset = std::max(opset, opset_for(*node));
    writer.write(*node);
  }
  for (const Value* output : graph.outputs())
    write_type(*out.add_output(), *output, "graph output '" + output->name() + "'");
  for (const auto& [key, value] : graph.meta().all()) {
    if (const auto* text = std::get_if<std::string>(&value)) {
      onnx::StringStringEntryProto& entry = *model.add_metadata_props();
      entry.set_key(key);
      entry.set_value(*text);
    }
  }
  onnx::OperatorSetIdProto& import = *model.add_opset_import();
  import.set_domain("");
  import.set_version(opset);

  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& error) {
    throw Error(std::string("the exported model fails the ONNX checker: ") + error.what());
  }
  return model;
}

} // namespace tern::onnx_plugin
