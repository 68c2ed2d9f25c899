// fuse_activations: Conv/Gemm followed by an activation becomes one node carrying the
// activation in attributes, so backends can apply it as a post-op (no extra pass over
// memory, no intermediate buffer).
#include <tern/recipes.hpp>

#include "ops/fused_activation.hpp"

#include <algorithm>
#include <limits>
#include <optional>

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

/// The Conv (or ConvChannelsLast) or Gemm whose output only `activation` reads, or nullptr.
Node* fusable_producer(const Graph& graph, const Node& activation) {
  Value* x = activation.input(0);
  Node* producer = x == nullptr ? nullptr : x->producer();
  const auto fusing = {"Conv", "ConvChannelsLast", "Gemm"};
  if (producer == nullptr || std::ranges::find(fusing, producer->op_type()) == fusing.end()) return nullptr;
  if (graph.is_output(*x) || graph.consumers(*x).size() != 1) return nullptr;
  // A Clip reading x as a bound too would make it x's only reader without being foldable.
  const std::vector<Value*>& inputs = activation.inputs();
  if (std::count(inputs.begin(), inputs.end(), x) != 1) return nullptr;
  if (!producer->attr<std::string>("activation").empty()) return nullptr; // one post-op only
  // Integer Conv/Gemm (integer_affine.hpp) take no float activation: it stays a node.
  for (const Value* operand : {producer->input(0), producer->input(1)})
    if (operand != nullptr && operand->typed() &&
        (operand->dtype() == DataType::Int8 || operand->dtype() == DataType::UInt8))
      return nullptr;
  if (producer->attrs().has("requantize_scale")) return nullptr;
  return producer;
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
    const std::string output_name = activation->output()->name();
    const bool graph_output = graph.is_output(*activation->output());
    producer->attrs().set("activation", activation->op_type());
    producer->attrs().set("activation_alpha", parameters->first);
    producer->attrs().set("activation_beta", parameters->second);
    graph.bypass_node(*activation);
    // bypass_node hands a graph output's name to the producer's output value: users keep
    // finding it. (An inner value's readers now read the producer's output instead.)
    check(!graph_output || producer->output()->name() == output_name, [&] {
      return "fuse_activations: graph output '" + output_name + "' lost its name when folding into " +
             producer->describe();
    });
    ++fused;
  }
  return fused;
}

} // namespace tern
