// mean_as_global_pool: ReduceMean over every spatial axis is GlobalAveragePool, the form
// backends have fast kernels for and the PTQ computes on integers (PyTorch writes
// x.mean((2, 3)) and adaptive pooling to 1x1 as ReduceMean).
#include <tern/recipes.hpp>

#include <algorithm>

namespace tern {

bool is_global_mean(const Node& node) {
  if (node.op_type() != "ReduceMean" || node.input(0) == nullptr || !node.attrs().has("axes")) return false;
  const auto rank = static_cast<std::int64_t>(node.input(0)->shape().rank());
  if (rank < 3) return false;
  std::vector<std::int64_t> axes = node.attrs().get<std::vector<std::int64_t>>("axes");
  for (std::int64_t& axis : axes) axis = axis < 0 ? axis + rank : axis;
  std::sort(axes.begin(), axes.end());
  std::vector<std::int64_t> spatial;
  for (std::int64_t axis = 2; axis < rank; ++axis) spatial.push_back(axis);
  return axes == spatial;
}

std::size_t mean_as_global_pool(Graph& graph) {
  graph.infer_shapes();
  std::size_t rewritten = 0;
  for (Node* node : graph.nodes()) {
    if (!is_global_mean(*node)) continue;
    const bool keepdims = node->attrs().get_or<std::int64_t>("keepdims", 1) != 0;
    // The node stays (its name and meta, e.g. precision tags); without keepdims a Flatten
    // drops the trailing 1s.
    graph.replace_node(*node, "GlobalAveragePool", {node->input(0)});
    if (!keepdims) {
      Attributes axis;
      axis.set("axis", std::int64_t{1});
      graph.insert_after(*node->output(), "Flatten", std::move(axis));
    }
    ++rewritten;
  }
  if (rewritten > 0) graph.infer_shapes();
  return rewritten;
}

} // namespace tern
