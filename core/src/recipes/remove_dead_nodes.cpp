// remove_dead_nodes: what rewrites leave behind (a folded Shape's Gather, a DequantizeLinear
// whose reader now reads integers) goes.
#include <tern/recipes.hpp>

#include <algorithm>

namespace tern {

std::size_t remove_dead_nodes(Graph& graph) {
  // In reverse order, a producer comes after the readers whose removal frees it.
  std::vector<Node*> order = graph.topological_order();
  std::reverse(order.begin(), order.end());
  std::size_t removed = 0;
  for (Node* node : order) {
    const auto& outputs = node->outputs();
    if (std::all_of(outputs.begin(), outputs.end(),
                    [&](const Value* v) { return graph.consumers(*v).empty() && !graph.is_output(*v); })) {
      graph.remove_node(*node);
      ++removed;
    }
  }
  return removed;
}

} // namespace tern
