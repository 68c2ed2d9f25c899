#include "op_roles.hpp"

#include <tern/error.hpp>
#include <tern/recipes.hpp>

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
  if (op == "ConvTranspose")
    return is_constant(node.input(1)) && (node.input(2) == nullptr || is_constant(node.input(2)));
  if (op == "Gemm") return affine_gemm(node);
  if (op == "MatMul") return is_constant(node.input(1)) && node.input(1)->constant()->shape().rank() == 2;
  // A BatchNormalization no Conv precedes: prepare_network makes it a depthwise 1x1 Conv.
  if (op == "BatchNormalization") {
    const auto& inputs = node.inputs();
    return node.outputs().size() == 1 && node.input(0)->shape().rank() >= 3 &&
           std::all_of(inputs.begin() + 1, inputs.end(), is_constant);
  }
  return false;
}

bool activation(const Node& node) {
  if (node.op_type() == "Relu") return true;
  if (node.op_type() != "Clip") return false;
  const Value* low = node.input(1);
  const Value* high = node.input(2);
  return (low == nullptr || is_scalar_constant(low)) && (high == nullptr || is_scalar_constant(high));
}

bool reads_no_activation(const Node& node);

/// A float tensor computed from the network's input: what the PTQ quantizes. Float values
/// computed from shapes and constants alone (a Resize's scales, say) are not.
bool is_activation(const Value* value) {
  if (value == nullptr || value->constant() != nullptr || value->dtype() != DataType::Float32) return false;
  // Mostly a short walk: the first input of a producer usually is an activation itself.
  return value->producer() == nullptr || !reads_no_activation(*value->producer());
}

/// True when `node` reads no activation's values: Shape and Size read only its shape, and
/// shape arithmetic (int64 Gather, Concat, Mul, ...) reads no activation at all.
bool reads_no_activation(const Node& node) {
  if (node.op_type() == "Shape" || node.op_type() == "Size") return true;
  const auto& inputs = node.inputs();
  return std::none_of(inputs.begin(), inputs.end(), is_activation);
}

} // namespace

std::optional<std::size_t> function_operand(const Node& node) {
  static const std::set<std::string> unary{"Sigmoid",  "HardSigmoid", "HardSwish", "Tanh", "Erf",  "Exp",
                                           "Softplus", "Softsign",    "Elu",       "Selu", "Celu", "LeakyRelu",
                                           "Gelu",     "Mish",        "Abs",       "Neg",  "Sqrt", "Reciprocal"};
  static const std::set<std::string> with_scalar{"Add", "Sub", "Mul", "Div", "Pow"};
  const std::string& op = node.op_type();
  if (unary.contains(op)) return node.inputs().size() == 1 ? std::optional<std::size_t>(0) : std::nullopt;
  if (!with_scalar.contains(op) || node.inputs().size() != 2) return std::nullopt;
  for (std::size_t i = 0; i < 2; ++i) {
    const Value* operand = node.input(i);
    const Value* other = node.input(1 - i);
    // The scalar must not broadcast the operand to a higher rank.
    if (operand != nullptr && operand->constant() == nullptr && is_scalar_constant(other) &&
        other->constant()->shape().rank() <= operand->shape().rank())
      return i;
  }
  return std::nullopt;
}

namespace {

/// Operators that move or select their first input's values without computing new ones.
bool moves_values(const Graph& graph, const Node& node) {
  static const std::set<std::string> movers{"MaxPool", "Reshape",   "Flatten", "Transpose", "Identity",
                                            "Squeeze", "Unsqueeze", "Slice",   "Gather",    "Expand",
                                            "Tile",    "Pad",       "Resize"};
  const std::string& op = node.op_type();
  if (!movers.contains(op) || !is_activation(node.input(0))) return false;
  // MaxPool's optional Indices output is not a quantized value.
  if (op == "MaxPool") return node.outputs().size() == 1 || graph.consumers(*node.output(1)).empty();
  // Resize moves values only as nearest neighbour (its default); linear interpolates.
  if (op == "Resize") return node.attrs().get_or("mode", std::string("nearest")) == "nearest";
  // Pad moves values unless it writes a constant other than 0 (which quantizes to 0).
  if (op == "Pad" && node.attrs().get_or("mode", std::string("constant")) == "constant") {
    const Value* fill = node.input(2);
    return fill == nullptr || (is_scalar_constant(fill) && scalar(*fill) == 0.0);
  }
  return true;
}

/// Arithmetic of one activation with a constant tensor (a bias added, say): no integer
/// form, computed in float between quantizers.
bool arithmetic_with_constant(const Node& node) {
  static const std::set<std::string> arithmetic{"Add", "Sub", "Mul", "Div"};
  return arithmetic.contains(node.op_type()) && node.inputs().size() == 2 &&
         ((is_activation(node.input(0)) && is_constant(node.input(1))) ||
          (is_constant(node.input(0)) && is_activation(node.input(1))));
}

/// Operators with no integer form yet that networks use between quantized layers; they
/// compute in float on dequantized values, and their readers quantize their results.
bool float_island(const Node& node) {
  static const std::set<std::string> islands{"LayerNormalization", "Softmax", "LogSoftmax", "ConvTranspose", "Resize"};
  return (islands.contains(node.op_type()) && is_activation(node.input(0))) || arithmetic_with_constant(node);
}

} // namespace

std::optional<std::size_t> scaled_operand(const Node& node) {
  const std::string& op = node.op_type();
  if ((op != "Mul" && op != "Div") || node.inputs().size() != 2) return std::nullopt;
  for (std::size_t i = 0; i < (op == "Mul" ? 2u : 1u); ++i) {
    const Value* x = node.input(i);
    const Value* c = node.input(1 - i);
    if (x == nullptr || x->constant() != nullptr || !is_constant(c)) continue;
    const Shape& shape = x->shape();
    const Shape& factor = c->constant()->shape();
    if (factor.rank() > shape.rank()) return std::nullopt;
    std::size_t varying = 0;
    for (std::size_t d = 0; d < factor.rank(); ++d) {
      if (factor[d] == 1) continue;
      ++varying;
      if (factor[d] != shape[shape.rank() - factor.rank() + d]) return std::nullopt;
    }
    return varying <= 1 ? std::optional<std::size_t>(i) : std::nullopt;
  }
  return std::nullopt;
}

void require_unprepared(const Graph& graph, const std::string& pass) {
  for (const Node* node : graph.nodes()) {
    const bool prepared = node->op_type().ends_with("ChannelsLast") || node->op_type().ends_with("Blocked") ||
                          node->op_type() == "RequantizeAdd" || node->attrs().has("activation") ||
                          node->attrs().has("requantize_scale");
    check(!prepared, [&] {
      return pass + ": " + node->describe() +
             " was written by prepare_for_inference; quantize the model as loaded (load_model), then prepare it";
    });
  }
}

Role role_of(const Graph& graph, const Node& node) {
  const std::string& op = node.op_type();
  if (reads_no_activation(node)) return Role::Shape;
  if (affine(node)) return Role::Affine;
  if (activation(node)) return Role::Activation;
  if ((op == "Add" || op == "Sub") && is_activation(node.input(0)) && is_activation(node.input(1))) return Role::Merge;
  if (op == "Mul" && is_activation(node.input(0)) && is_activation(node.input(1))) return Role::Product;
  if (op == "Concat") {
    const auto& inputs = node.inputs();
    if (std::all_of(inputs.begin(), inputs.end(), is_activation)) return Role::Concat;
  }
  // A spatial ReduceMean becomes a GlobalAveragePool in prepare_network.
  if (op == "AveragePool" || op == "GlobalAveragePool" || is_global_mean(node)) return Role::Average;
  if (const auto operand = scaled_operand(node); operand && is_activation(node.input(*operand))) return Role::Scale;
  if (const auto operand = function_operand(node); operand && is_activation(node.input(*operand))) return Role::Lookup;
  if (moves_values(graph, node)) return Role::PassThrough;
  // Blends of neighbours stay within their range: the input's scale serves (cubic, whose
  // weights go negative, may leave it and stays a float island).
  if (op == "Resize" && is_activation(node.input(0)) && node.attr<std::string>("mode") == "linear")
    return Role::Interpolate;
  if (float_island(node)) return Role::FloatIsland;
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
    case Role::Average:
    case Role::Lookup:
    case Role::Product:
    case Role::Scale: points.push_back(&quantization_point(graph, *node)); break;
    case Role::Float:
    case Role::FloatIsland:
      for (const Value* output : node->outputs())
        if (output->dtype() == DataType::Float32) points.push_back(output);
      break;
    case Role::Shape:
    case Role::PassThrough:
    case Role::Interpolate:
    case Role::Activation: break;
    }
  }
  return points;
}

namespace {

/// "'name' (Op)" for each node of `role`, in topological order.
std::vector<std::string> described_nodes(const Graph& graph, Role role) {
  std::vector<std::string> described;
  for (const Node* node : graph.topological_order())
    if (role_of(graph, *node) == role) described.push_back("'" + node->name() + "' (" + node->op_type() + ")");
  return described;
}

std::string joined(const std::vector<std::string>& texts) {
  std::string list;
  for (const std::string& text : texts) list += (list.empty() ? "" : ", ") + text;
  return list;
}

} // namespace

std::string nodes_of_role(const Graph& graph, Role role) { return joined(described_nodes(graph, role)); }

std::string check_float_nodes(const Graph& graph, bool keep_float) {
  const std::vector<std::string> nodes = described_nodes(graph, Role::Float);
  if (!nodes.empty() && !keep_float)
    throw Error("the PTQ cannot quantize " + std::to_string(nodes.size()) + " node(s): " + joined(nodes) +
                "; keep them in float with keep_float (tern quantize --keep-float)");
  return joined(nodes);
}

} // namespace tern::ptq
