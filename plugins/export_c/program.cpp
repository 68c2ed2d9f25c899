#include "program.hpp"

#include <tern/error.hpp>
#include <tern/recipes.hpp>

#include <algorithm>
#include <set>

namespace tern::export_c {
namespace {

bool is_8bit(DataType type) { return type == DataType::Int8 || type == DataType::UInt8; }
bool is_integer(DataType type) { return is_8bit(type) || type == DataType::Int32; }

const Node* producer_of(const Value* value, const std::string& op) {
  const Node* node = value == nullptr ? nullptr : value->producer();
  return node != nullptr && node->op_type() == op ? node : nullptr;
}

/// The dequantization the model ends with: output = Mul(Cast(int value, float32), constant),
/// or the Cast alone. Returns the int value; fills the scale of `program`.
const Value* dequantized_value(const Graph& graph, Program& program) {
  const Value* output = graph.outputs()[0];
  const Value* value = output;
  if (const Node* mul = producer_of(value, "Mul"); mul != nullptr && mul->input(1)->constant() != nullptr) {
    const Tensor& factor = *mul->input(1)->constant();
    for (const double f : factor.to_doubles()) program.output_scale.push_back(static_cast<float>(f));
    value = mul->input(0);
  }
  const Node* cast = producer_of(value, "Cast");
  check(cast != nullptr && is_integer(cast->input(0)->dtype()) && graph.consumers(*value).size() == 1, [&] {
    return "output '" + output->name() +
           "' is not the dequantized integer output tern quantize writes (Cast to float32, then Mul by a constant)";
  });
  return cast->input(0);
}

/// Channels of the output scale along axis 1 of `shape` (ONNX broadcasting of a [C], [1, C],
/// [C, 1, 1] or [1, C, 1, 1] factor): sets output_inner, checks the count.
void place_output_scale(const Shape& shape, Program& program) {
  if (program.output_scale.size() <= 1) return;
  check(shape.rank() >= 2 && shape[1] == static_cast<std::int64_t>(program.output_scale.size()), [&] {
    return "the output's dequantization has " + std::to_string(program.output_scale.size()) +
           " factors, which do not match axis 1 of the output " + shape.to_string();
  });
  for (std::size_t d = 2; d < shape.rank(); ++d) program.output_inner *= shape[d];
}

/// `source` for one sample: its batch (a dynamic first input dimension) set to 1.
Graph one_sample(const Graph& source) {
  Graph graph;
  graph.meta() = source.meta();
  for (const Value* input : source.inputs()) {
    std::vector<std::int64_t> dims = input->shape().dims();
    for (std::size_t d = 0; d < dims.size(); ++d) {
      check(dims[d] != Shape::dynamic || d == 0, [&] {
        return "input '" + input->name() + "' " + input->shape().to_string() +
               ": only the batch dimension may be dynamic for a C export";
      });
      if (dims[d] == Shape::dynamic) dims[d] = 1;
    }
    graph.add_input(input->name(), input->dtype(), Shape(dims));
  }
  for (const Value* constant : source.constants()) graph.add_constant(constant->name(), *constant->constant());
  for (const Node* node : source.topological_order()) {
    std::vector<std::string> inputs, outputs;
    for (const Value* in : node->inputs()) inputs.push_back(in == nullptr ? "" : in->name());
    for (const Value* out : node->outputs()) outputs.push_back(out->name());
    graph.add_node(node->op_type(), inputs, outputs, node->attrs(), node->name()).meta() = node->meta();
  }
  for (const Value* output : source.outputs()) graph.add_output(output->name());
  graph.infer_shapes();
  return graph;
}

/// Why the C kernels cannot run `node`, or "" when they can.
std::string unsupported_reason(const Graph& graph, const Node& node) {
  const std::string& op = node.op_type();
  const DataType x = node.input(0) != nullptr ? node.input(0)->dtype() : DataType::Float32;
  const auto constant_input = [&](std::size_t i) { return node.input(i) == nullptr || node.input(i)->constant(); };
  if (op == "Conv") {
    if (!is_8bit(x)) return "its input is " + std::string(name(x)) + ", not int8/uint8";
    if (node.input(0)->shape().rank() != 4) return "only 2-D convolutions (rank-4 input) are exported";
    if (!constant_input(1) || !constant_input(2)) return "its weights and bias must be constants";
    return "";
  }
  if (op == "Gemm" || op == "MatMul") {
    if (!is_8bit(x)) return "its input is " + std::string(name(x)) + ", not int8/uint8";
    if (!constant_input(1) || !constant_input(2) || node.input(1)->shape().rank() != 2)
      return "its weights must be a constant matrix (and its bias a constant)";
    if (op == "MatMul" && node.input(0)->shape().rank() < 2) return "a 1-D input is not exported";
    return "";
  }
  if (op == "MaxPool") {
    if (!is_8bit(x)) return "its input is " + std::string(name(x)) + ", not int8/uint8";
    if (node.input(0)->shape().rank() != 4) return "only 2-D pooling (rank-4 input) is exported";
    if (node.outputs().size() > 1 && !graph.consumers(*node.output(1)).empty()) return "its Indices output is read";
    return "";
  }
  if (op == "Requantize")
    return is_integer(x) ? "" : "it reads " + std::string(name(x)) + " (float requantization only at the input)";
  if (op == "Add")
    return x == DataType::Int32 && node.input(1)->dtype() == DataType::Int32 &&
                   node.input(0)->shape() == node.input(1)->shape() && !node.input(0)->constant() &&
                   !node.input(1)->constant()
               ? ""
               : "only the sum of two int32 tensors of one shape is exported";
  if (op == "Relu") return is_8bit(x) ? "" : "its input is " + std::string(name(x)) + ", not int8/uint8";
  if (op == "Cast")
    return is_8bit(x) && node.output()->dtype() == DataType::Int32 ? "" : "only 8-bit to int32 casts are exported";
  if (op == "Concat") {
    for (const Value* in : node.inputs())
      if (in == nullptr || !is_integer(in->dtype()) || in->constant() != nullptr)
        return "its inputs must be integer tensors computed by the network";
    return "";
  }
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Identity")
    return is_integer(x) ? "" : "its input is " + std::string(name(x)) + ", not an integer tensor";
  return "the C kernels have no " + op;
}

} // namespace

Program make_program(const Graph& integer_graph) {
  check(integer_graph.inputs().size() == 1 && integer_graph.outputs().size() == 1, [&] {
    return "the C export needs a model with one input and one output; it has " +
           std::to_string(integer_graph.inputs().size()) + " and " + std::to_string(integer_graph.outputs().size());
  });
  Program program;
  program.graph = one_sample(integer_graph);
  fuse_requantize(program.graph);
  Graph& graph = program.graph;
  program.int_output = dequantized_value(graph, program);
  std::set<const Node*> tail; // the dequantization: NAME_run does it in float
  for (const Value* v = graph.outputs()[0]; v != program.int_output; v = v->producer()->input(0))
    tail.insert(v->producer());

  const Value* input = graph.inputs()[0];
  const std::vector<Node*> readers = graph.consumers(*input);
  check(input->dtype() == DataType::Float32 && readers.size() == 1 && readers[0]->op_type() == "Requantize" &&
            readers[0]->output()->dtype() == DataType::Int8,
        [&] {
          return "input '" + input->name() +
                 "' must be float32 and read only by the int8 Requantize that cast_to_integer puts after it "
                 "(is the model quantized for integer execution?)";
        });
  program.input_quantizer = readers[0];
  program.int_input = readers[0]->output();
  place_output_scale(program.int_output->shape(), program);

  std::vector<std::string> unsupported;
  for (const Node* node : graph.topological_order()) {
    if (node == program.input_quantizer || tail.contains(node)) continue;
    const std::string reason = unsupported_reason(graph, *node);
    if (!reason.empty()) unsupported.push_back("'" + node->name() + "' (" + node->op_type() + "): " + reason);
    program.steps.push_back(node);
  }
  check(unsupported.empty(), [&] {
    std::string text = "cannot export to C: " + std::to_string(unsupported.size()) + " node(s) have no C kernel: ";
    for (std::size_t i = 0; i < unsupported.size(); ++i) text += (i ? "; " : "") + unsupported[i];
    return text;
  });
  return program;
}

} // namespace tern::export_c
