#include <tern/recipes.hpp>

#include <algorithm>

namespace tern {
namespace {

/// Flatten(axis=1) of an [N, K] tensor returns it unchanged.
bool changes_nothing(const Node& flatten) {
  const Value& in = *flatten.input(0);
  const std::int64_t axis = flatten.attr<std::int64_t>("axis");
  return in.shape().rank() == 2 && (axis == 1 || axis == -1);
}

/// Every reader takes the Flatten's output as a Gemm's A (which flattens a rank>2 A
/// itself, exactly as Flatten(axis=1) would).
bool only_feeds_gemm_a(const Graph& graph, const Node& flatten) {
  const Value* out = flatten.output();
  const std::vector<Node*> readers = graph.consumers(*out);
  return flatten.attr<std::int64_t>("axis") == 1 && !readers.empty() &&
         std::all_of(readers.begin(), readers.end(), [&](const Node* reader) {
           return reader->op_type() == "Gemm" && reader->input(0) == out && reader->input(1) != out &&
                  reader->input(2) != out && reader->attr<std::int64_t>("transA") == 0;
         });
}

} // namespace

std::size_t remove_flatten(Graph& graph) {
  graph.infer_shapes();
  std::size_t removed = 0;
  for (Node* node : graph.nodes()) {
    if (node->op_type() != "Flatten" || graph.is_output(*node->output())) continue;
    if (changes_nothing(*node) || only_feeds_gemm_a(graph, *node)) {
      graph.bypass_node(*node);
      ++removed;
    }
  }
  return removed;
}

} // namespace tern
