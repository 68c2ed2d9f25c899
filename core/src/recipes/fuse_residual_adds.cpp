// fuse_residual_adds: a residual block ends in an Add of its last Conv's output and the
// shortcut, each a pass of its own over both tensors (with the Relu after it, 3 % of float
// resnet_tiny at batch 64 and 14 % at batch 1 on two threads, where every pass also pays
// its threads' start). As the Conv's residual input Z, the shortcut is added to each
// output pixel while the Conv writes it (the cpu plugin: a oneDNN post-op, as ONNX
// Runtime's FusedConv does), and the activation that read the sum folds into the same
// Conv (fuse_activations, run after this recipe).
#include "recipes/running_backend.hpp"

#include <tern/recipes.hpp>
#include <tern/registry.hpp>

#include <optional>
#include <utility>
#include <vector>

namespace tern {
namespace {

/// The float ConvChannelsLast that computes `operand` of `add`, with no activation and no
/// residual yet, when `add` is the only reader of `operand` (which is no graph output).
Node* fusable_conv(const Graph& graph, const Value* operand) {
  Node* conv = operand == nullptr ? nullptr : operand->producer();
  if (conv == nullptr || conv->op_type() != "ConvChannelsLast" || conv->inputs().size() > 3) return nullptr;
  if (operand->dtype() != DataType::Float32 || conv->attrs().has("requantize_scale") ||
      !conv->attrs().get_or<std::string>("activation", "").empty())
    return nullptr;
  if (graph.is_output(*operand) || graph.consumers(*operand).size() != 1) return nullptr;
  return conv;
}

/// True when the backend that runs `conv` now also runs it with residual `z` added.
bool runs_with_residual(const Node& conv, const Value& z, const std::vector<std::string>& backends) {
  const KernelQuery query = query_of(conv);
  const std::optional<std::string> runner = detail::running_backend(query, backends);
  if (!runner) return false;
  KernelQuery fused = query;
  fused.input_types.resize(3); // an absent bias keeps its position
  fused.input_shapes.resize(3);
  fused.input_types.push_back(z.dtype());
  fused.input_shapes.push_back(z.shape());
  return Registry::current().choose_kernel(*runner, fused).kernel != nullptr;
}

} // namespace

std::size_t fuse_residual_adds(Graph& graph, const std::vector<std::string>& backends) {
  graph.infer_shapes(); // the pattern is a matter of inferred dtypes and shapes
  // Found first, rewritten after: a rewrite removes nodes a walk over nodes() would reach.
  std::vector<std::pair<Node*, std::size_t>> found; // the Add, and which operand its Conv computes
  for (Node* add : graph.nodes()) {
    if (add->op_type() != "Add" || add->inputs().size() != 2 || add->input(0) == add->input(1)) continue;
    for (std::size_t side = 0; side < 2; ++side) {
      const Node* conv = fusable_conv(graph, add->input(side));
      const Value* z = add->input(1 - side);
      // Z of Y's very shape: the Add must not broadcast (a dynamic batch flows through both).
      if (conv != nullptr && z != nullptr && z->typed() && z->shape() == conv->output()->shape() &&
          z->dtype() == DataType::Float32 && runs_with_residual(*conv, *z, backends)) {
        found.emplace_back(add, side);
        break;
      }
    }
  }
  for (const auto& [add, side] : found) {
    Value* sum = add->input(side);
    Value* z = add->input(1 - side);
    Node& conv = *sum->producer();
    std::vector<Value*> inputs = conv.inputs();
    inputs.resize(3, nullptr);
    inputs.push_back(z);
    graph.replace_node(conv, "ConvChannelsLast", inputs, conv.attrs());
    // The Add's readers (and a graph output's name) go to the Conv's output.
    graph.replace_node(*add, "Add", {sum, z});
    graph.bypass_node(*add);
  }
  return found.size();
}

} // namespace tern
