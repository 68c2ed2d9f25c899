// fuse_activations: Conv/Gemm followed by an activation becomes one node carrying the
// activation in attributes, so backends can apply it as a post-op (no extra pass over
// memory, no intermediate buffer).
#include <tern/recipes.hpp>

#include "ops/fused_activation.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <tuple>

namespace tern {
namespace {

/// A Clip bound: the input's single constant value, `fallback` when absent, nullopt when
/// computed at run time (then the Clip cannot be folded).
std::optional<double> clip_bound(const Node& clip, std::size_t index, double fallback) {
  const Value* bound = clip.input(index);
  if (bound == nullptr) return fallback;
  if (bound->constant() == nullptr || bound->constant()->numel() != 1) return std::nullopt;
  return bound->constant()->to_doubles()[0];
}

/// (alpha, beta) for `activation`'s attributes, or nullopt when it cannot be folded.
std::optional<std::pair<double, double>> activation_parameters(const Node& activation) {
  const std::string& type = activation.op_type();
  if (type == "LeakyRelu") return std::pair{activation.attr<double>("alpha"), 0.0};
  if (type == "HardSigmoid") return std::pair{activation.attr<double>("alpha"), activation.attr<double>("beta")};
  if (type != "Clip") return std::pair{0.0, 0.0};
  constexpr double infinity = std::numeric_limits<double>::infinity();
  const std::optional<double> low = clip_bound(activation, 1, -infinity);
  const std::optional<double> high = clip_bound(activation, 2, infinity);
  if (!low || !high) return std::nullopt;
  return std::pair{*low, *high};
}

/// True when `producer` can take an activation: a float Conv (or ConvChannelsLast) or Gemm
/// with none yet. Integer ones (integer_affine.hpp) take no float activation.
bool takes_activation(const Node& producer) {
  const auto fusing = {"Conv", "ConvChannelsLast", "Gemm"};
  if (std::ranges::find(fusing, producer.op_type()) == fusing.end()) return false;
  if (!producer.attr<std::string>("activation").empty()) return false; // one post-op only
  for (const Value* operand : {producer.input(0), producer.input(1)})
    if (operand != nullptr && operand->typed() &&
        (operand->dtype() == DataType::Int8 || operand->dtype() == DataType::UInt8))
      return false;
  return !producer.attrs().has("requantize_scale");
}

/// The Conv (or ConvChannelsLast) or Gemm whose output only `activation` reads, or nullptr.
Node* fusable_producer(const Graph& graph, const Node& activation) {
  Value* x = activation.input(0);
  Node* producer = x == nullptr ? nullptr : x->producer();
  if (producer == nullptr || !takes_activation(*producer)) return nullptr;
  if (graph.is_output(*x) || graph.consumers(*x).size() != 1) return nullptr;
  // A Clip reading x as a bound too would make it x's only reader without being foldable.
  const std::vector<Value*>& inputs = activation.inputs();
  if (std::count(inputs.begin(), inputs.end(), x) != 1) return nullptr;
  return producer;
}

/// Folds `activation` (one node, or the Mul ending a SiLU) into `producer` as activation
/// `type`: the activation's readers read the producer's output, which takes over a graph
/// output's name.
void fold_into(Graph& graph, Node& producer, Node& activation, const std::string& type,
               std::pair<double, double> parameters) {
  const std::string output_name = activation.output()->name();
  const bool graph_output = graph.is_output(*activation.output());
  producer.attrs().set("activation", type);
  producer.attrs().set("activation_alpha", parameters.first);
  producer.attrs().set("activation_beta", parameters.second);
  graph.bypass_node(activation);
  // bypass_node hands a graph output's name to the producer's output value: users keep
  // finding it. (An inner value's readers now read the producer's output instead.)
  check(!graph_output || producer.output()->name() == output_name, [&] {
    return "fusing activations: graph output '" + output_name + "' lost its name when folding into " +
           producer.describe();
  });
}

/// The Mul computing x * Sigmoid(x) of a producer's output x that only the Sigmoid and
/// the Mul read (the Sigmoid's output only the Mul), with that Sigmoid; or nullptrs.
std::pair<Node*, Node*> silu_of(const Graph& graph, const Value& x) {
  const std::vector<Node*> readers = graph.consumers(x);
  if (readers.size() != 2 || graph.is_output(x)) return {};
  Node* sigmoid = readers[0]->op_type() == "Sigmoid" ? readers[0] : readers[1];
  Node* mul = sigmoid == readers[0] ? readers[1] : readers[0];
  if (sigmoid->op_type() != "Sigmoid" || mul->op_type() != "Mul" || mul->inputs().size() != 2) return {};
  const Value* s = sigmoid->output();
  if (graph.is_output(*s) || graph.consumers(*s).size() != 1) return {};
  const bool x_times_s = (mul->input(0) == &x && mul->input(1) == s) || (mul->input(0) == s && mul->input(1) == &x);
  return x_times_s ? std::pair{mul, sigmoid} : std::pair<Node*, Node*>{};
}

} // namespace

std::size_t fuse_activations(Graph& graph) {
  const std::vector<std::string>& fusable = detail::fusable_activations();
  std::size_t fused = 0;
  for (Node* activation : graph.nodes()) {
    if (std::find(fusable.begin(), fusable.end(), activation->op_type()) == fusable.end()) continue;
    Node* producer = fusable_producer(graph, *activation);
    const auto parameters = producer ? activation_parameters(*activation) : std::nullopt;
    if (!parameters) continue;
    fold_into(graph, *producer, *activation, activation->op_type(), *parameters);
    ++fused;
  }
  return fused;
}

std::size_t fuse_silu(Graph& graph) {
  graph.infer_shapes(); // takes_activation reads the operands' dtypes
  // Found first, rewritten after: a rewrite removes nodes a walk over nodes() would reach.
  std::vector<std::tuple<Node*, Node*, Node*>> found; // producer, Mul, Sigmoid
  for (Node* producer : graph.nodes()) {
    if (producer->outputs().size() != 1 || !takes_activation(*producer)) continue;
    const auto [mul, sigmoid] = silu_of(graph, *producer->output());
    if (mul != nullptr) found.emplace_back(producer, mul, sigmoid);
  }
  for (const auto& [producer, mul, sigmoid] : found) {
    Value* x = producer->output();
    Value* s = sigmoid->output();
    graph.replace_node(*mul, "Mul", {x, s}); // x first: bypass_node hands on input 0
    fold_into(graph, *producer, *mul, "SiLU", {0.0, 0.0});
    graph.remove_node(*sigmoid);
  }
  return found.size();
}

} // namespace tern
