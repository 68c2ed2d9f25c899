// fuse_layer_norm: the layer normalisation exporters write op by op (PyTorch below opset
// 17: ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, then Mul and Add for the affine
// part) becomes one LayerNormalization: one kernel instead of nine passes, and one node the
// PTQ can keep in float instead of nine it would quantize one by one.
#include <tern/recipes.hpp>

#include <algorithm>
#include <optional>
#include <set>

namespace tern {
namespace {

using Ints = std::vector<std::int64_t>;

/// `node`'s producer of input `index` if it is an `op_type` node whose outputs only `node`
/// reads (and no graph output is among them), else nullptr.
Node* sole_producer(const Graph& graph, const Node& node, std::size_t index, const std::string& op_type) {
  const Value* value = node.input(index);
  Node* producer = value == nullptr ? nullptr : value->producer();
  if (producer == nullptr || producer->op_type() != op_type || graph.is_output(*value)) return nullptr;
  const std::vector<Node*> readers = graph.consumers(*value);
  return readers.size() == 1 ? producer : nullptr;
}

/// The scalar constant of `value`, or nullopt.
std::optional<double> scalar_constant(const Value* value) {
  if (value == nullptr || value->constant() == nullptr || value->constant()->numel() != 1) return std::nullopt;
  return value->constant()->to_doubles()[0];
}

/// The reduced axes of a keepdims ReduceMean over the trailing axes of its input: the first
/// of them; nullopt for any other reduction.
std::optional<std::int64_t> trailing_mean_axis(const Node& mean) {
  const auto rank = static_cast<std::int64_t>(mean.input(0)->shape().rank());
  if (rank == 0 || !mean.attrs().has("axes") || mean.attrs().get_or<std::int64_t>("keepdims", 1) == 0)
    return std::nullopt;
  Ints axes = mean.attrs().get<Ints>("axes");
  for (std::int64_t& axis : axes) axis = axis < 0 ? axis + rank : axis;
  std::sort(axes.begin(), axes.end());
  for (std::size_t i = 0; i < axes.size(); ++i)
    if (axes[i] != rank - static_cast<std::int64_t>(axes.size() - i)) return std::nullopt;
  return axes.empty() ? std::nullopt : std::optional<std::int64_t>(axes.front());
}

/// The pieces of (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) ending at `divide`.
struct Normalisation {
  Value* x = nullptr;
  std::int64_t axis = 0;
  double epsilon = 0;
  std::vector<Node*> nodes; ///< from the Div back to the first ReduceMean
};

std::optional<Normalisation> normalisation_at(const Graph& graph, Node& divide) {
  if (divide.op_type() != "Div") return std::nullopt;
  Node* sqrt = sole_producer(graph, divide, 1, "Sqrt");
  Node* add = sqrt ? sole_producer(graph, *sqrt, 0, "Add") : nullptr;
  if (add == nullptr) return std::nullopt;
  const bool epsilon_second = scalar_constant(add->input(1)).has_value();
  const std::optional<double> epsilon = scalar_constant(add->input(epsilon_second ? 1 : 0));
  Node* variance = epsilon ? sole_producer(graph, *add, epsilon_second ? 0 : 1, "ReduceMean") : nullptr;
  Node* square = variance ? sole_producer(graph, *variance, 0, "Pow") : nullptr;
  if (square == nullptr || scalar_constant(square->input(1)) != 2.0) return std::nullopt;
  // The centred value feeds the square and the division, nothing else.
  Value* centred = divide.input(0);
  Node* subtract = centred->producer();
  if (subtract == nullptr || subtract->op_type() != "Sub" || square->input(0) != centred || graph.is_output(*centred) ||
      graph.consumers(*centred).size() != 2)
    return std::nullopt;
  Node* mean = sole_producer(graph, *subtract, 1, "ReduceMean");
  if (mean == nullptr || mean->input(0) != subtract->input(0)) return std::nullopt;
  const std::optional<std::int64_t> axis = trailing_mean_axis(*mean);
  if (!axis || trailing_mean_axis(*variance) != axis) return std::nullopt;
  return Normalisation{subtract->input(0), *axis, *epsilon, {&divide, sqrt, add, variance, square, subtract, mean}};
}

/// The operand of `node` other than `from`.
Value* other_operand(const Node& node, const Value& from) { return node.input(node.input(0) == &from ? 1 : 0); }

/// `node`'s sole reader when it is an `op_type` node with `node`'s output as one operand and
/// a constant as the other (the affine part's Mul or Add), else nullptr.
Node* constant_operation_after(const Graph& graph, const Node& node, const std::string& op_type) {
  const Value& value = *node.output();
  const std::vector<Node*> readers = graph.consumers(value);
  if (readers.size() != 1 || graph.is_output(value) || readers[0]->op_type() != op_type) return nullptr;
  Node* reader = readers[0];
  const Value* other = other_operand(*reader, value);
  return other != nullptr && other->constant() != nullptr ? reader : nullptr;
}

/// The normalised shape of `x` from `axis` on, or nullopt when a dimension is not static.
std::optional<Shape> normalised_shape(const Value& x, std::int64_t axis) {
  const Shape& shape = x.shape();
  Ints dims(shape.begin() + axis, shape.end());
  if (std::any_of(dims.begin(), dims.end(), [](std::int64_t d) { return d == Shape::dynamic; })) return std::nullopt;
  return Shape(dims);
}

} // namespace

std::size_t fuse_layer_norm(Graph& graph) {
  graph.infer_shapes();
  std::size_t fused = 0;
  std::set<const Node*> removed; // the order below was taken before: skip what a fusion took away
  for (Node* node : graph.topological_order()) {
    if (removed.contains(node)) continue;
    const std::optional<Normalisation> found = normalisation_at(graph, *node);
    if (!found) continue;
    Node* last = node;
    Node* multiply = constant_operation_after(graph, *last, "Mul");
    Value* scale = nullptr;
    if (multiply != nullptr) {
      scale = other_operand(*multiply, *last->output());
      last = multiply;
    } else {
      const std::optional<Shape> shape = normalised_shape(*found->x, found->axis);
      if (!shape) continue;
      scale = &graph.add_constant(
          graph.unique_name(node->name() + "_scale"),
          Tensor::from_floats(*shape, std::vector<float>(static_cast<std::size_t>(shape->numel()), 1.0f)));
    }
    Node* shift = constant_operation_after(graph, *last, "Add");
    Value* bias = nullptr;
    if (shift != nullptr) {
      bias = other_operand(*shift, *last->output());
      last = shift;
    }
    Attributes attrs;
    attrs.set("axis", found->axis);
    attrs.set("epsilon", found->epsilon);
    std::vector<Value*> inputs{found->x, scale};
    if (bias != nullptr) inputs.push_back(bias);
    std::vector<Node*> chain = found->nodes;
    if (multiply != nullptr && multiply != last) chain.insert(chain.begin(), multiply);
    graph.replace_node(*last, "LayerNormalization", inputs, std::move(attrs));
    // The rest of the chain is read by nothing now: remove it from the end back.
    for (Node* dead : chain) {
      if (dead == last) continue;
      removed.insert(dead);
      graph.remove_node(*dead);
    }
    ++fused;
  }
  if (fused > 0) graph.infer_shapes();
  return fused;
}

} // namespace tern
