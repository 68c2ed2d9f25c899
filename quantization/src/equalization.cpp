#include "equalization.hpp"

#include "op_roles.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

namespace tern::ptq {
namespace {

struct Pair {
  Node* first;
  Node* second;
};

bool owned_constant(const Graph& graph, const Value* value) {
  return value != nullptr && value->constant() != nullptr && graph.consumers(*value).size() == 1;
}

/// Conv (not grouped) or Gemm whose weights and bias belong to it alone.
bool equalizable(const Graph& graph, const Node& node) {
  if (role_of(graph, node) != Role::Affine || node.op_type() == "MatMul") return false;
  if (node.op_type() == "Conv" && node.attr<std::int64_t>("group") != 1) return false;
  return owned_constant(graph, node.input(1)) && (node.input(2) == nullptr || owned_constant(graph, node.input(2)));
}

/// The affine node that alone reads `first`'s output through Relu/MaxPool/Flatten, or nullptr.
Node* partner(const Graph& graph, const Node& first) {
  static const std::set<std::string> homogeneous{"Relu", "MaxPool", "Flatten", "Identity"};
  const Value* value = first.output();
  while (true) {
    if (graph.is_output(*value)) return nullptr;
    const std::vector<Node*> readers = graph.consumers(*value);
    if (readers.size() != 1 || readers[0]->input(0) != value) return nullptr;
    Node* next = readers[0];
    if (!homogeneous.contains(next->op_type()) || next->outputs().size() != 1) return equalizable(graph, *next) ? next : nullptr;
    value = next->output();
  }
}

/// Index helpers over a weight tensor: which output channel of `node` element i feeds, or
/// which input channel (of `channels`) it reads.
std::int64_t output_channel(const Node& node, const Shape& shape, std::int64_t i) {
  const std::int64_t total = shape.numel();
  const bool rows = node.op_type() == "Conv" || node.attr<std::int64_t>("transB") != 0;
  return rows ? i / (total / shape[0]) : i % shape[1];
}

std::int64_t input_channel(const Node& node, const Shape& shape, std::int64_t i, std::int64_t channels) {
  if (node.op_type() == "Conv") {
    std::int64_t kernel = 1;
    for (std::size_t d = 2; d < shape.rank(); ++d) kernel *= shape[d];
    return (i / kernel) % shape[1];
  }
  const bool transposed = node.attr<std::int64_t>("transB") != 0;
  const std::int64_t features = transposed ? shape[1] : shape[0];
  const std::int64_t feature = transposed ? i % shape[1] : i / shape[1];
  return feature / (features / channels); // a flattened C×H×W input: H·W features per channel
}

std::int64_t input_features(const Node& node, const Shape& shape) {
  if (node.op_type() == "Conv") return shape[1];
  return node.attr<std::int64_t>("transB") != 0 ? shape[1] : shape[0];
}

void equalize(Graph& graph, const Pair& pair) {
  const Tensor& first_weights = *pair.first->input(1)->constant();
  const Tensor& second_weights = *pair.second->input(1)->constant();
  const Shape& first_shape = first_weights.shape();
  const Shape& second_shape = second_weights.shape();
  const std::int64_t channels = pair.first->op_type() == "Conv" || pair.first->attr<std::int64_t>("transB") != 0
                                    ? first_shape[0]
                                    : first_shape[1];
  if (input_features(*pair.second, second_shape) % channels != 0) return;
  Value* bias = pair.first->input(2);
  if (bias != nullptr && bias->constant()->numel() != channels) return;

  std::vector<double> first = first_weights.to_doubles();
  std::vector<double> second = second_weights.to_doubles();
  std::vector<double> r1(static_cast<std::size_t>(channels), 0.0);
  std::vector<double> r2(static_cast<std::size_t>(channels), 0.0);
  for (std::int64_t i = 0; i < first_shape.numel(); ++i) {
    double& range = r1[static_cast<std::size_t>(output_channel(*pair.first, first_shape, i))];
    range = std::max(range, std::abs(first[static_cast<std::size_t>(i)]));
  }
  for (std::int64_t i = 0; i < second_shape.numel(); ++i) {
    double& range = r2[static_cast<std::size_t>(input_channel(*pair.second, second_shape, i, channels))];
    range = std::max(range, std::abs(second[static_cast<std::size_t>(i)]));
  }
  std::vector<double> scale(static_cast<std::size_t>(channels), 1.0);
  for (std::size_t c = 0; c < scale.size(); ++c)
    if (r1[c] > 0 && r2[c] > 0) scale[c] = std::sqrt(r1[c] / r2[c]);

  for (std::int64_t i = 0; i < first_shape.numel(); ++i)
    first[static_cast<std::size_t>(i)] /= scale[static_cast<std::size_t>(output_channel(*pair.first, first_shape, i))];
  for (std::int64_t i = 0; i < second_shape.numel(); ++i)
    second[static_cast<std::size_t>(i)] *= scale[static_cast<std::size_t>(input_channel(*pair.second, second_shape, i, channels))];
  const auto floats = [](const std::vector<double>& values) { return std::vector<float>(values.begin(), values.end()); };
  graph.set_constant(*pair.first->input(1), Tensor::from_floats(first_shape, floats(first)));
  graph.set_constant(*pair.second->input(1), Tensor::from_floats(second_shape, floats(second)));
  if (bias != nullptr) {
    std::vector<double> values = bias->constant()->to_doubles();
    for (std::size_t c = 0; c < values.size(); ++c) values[c] /= scale[c];
    graph.set_constant(*bias, Tensor::from_floats(bias->constant()->shape(), floats(values)));
  }
}

} // namespace

std::size_t equalize_cross_layer(Graph& graph) {
  std::vector<Pair> pairs;
  for (Node* node : graph.topological_order())
    if (equalizable(graph, *node))
      if (Node* next = partner(graph, *node)) pairs.push_back({node, next});
  // A few sweeps: equalising one pair unbalances its neighbours a little.
  for (int sweep = 0; sweep < 4; ++sweep)
    for (const Pair& pair : pairs) equalize(graph, pair);
  return pairs.size();
}

} // namespace tern::ptq
