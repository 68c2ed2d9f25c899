#include <tern/recipes.hpp>
#include <tern/shape_range.hpp>

#include <algorithm>
#include <optional>
#include <utility>

namespace tern {
namespace {

constexpr std::int64_t dynamic = Shape::dynamic;

bool all_static(const std::vector<std::int64_t>& dims) {
  return std::none_of(dims.begin(), dims.end(), [](std::int64_t d) { return d == dynamic; });
}

Tensor int64s(Shape shape, const std::vector<std::int64_t>& values) {
  return Tensor::from<std::int64_t>(std::move(shape), DataType::Int64, values);
}

/// The dimensions Shape node `node` reports, Shape::dynamic for those known only at run time.
std::vector<std::int64_t> reported_dims(const Node& node) {
  const std::vector<std::int64_t>& dims = node.input(0)->shape().dims();
  const auto [begin, end] = shape_range(node, static_cast<std::int64_t>(dims.size()));
  return {dims.begin() + begin, dims.begin() + end};
}

std::optional<std::vector<std::int64_t>> constant_ints(const Value* value) {
  if (value == nullptr || value->constant() == nullptr) return std::nullopt;
  return value->constant()->to_int64s();
}

/// What `reader`, a Gather along axis 0 with constant indices, picks from `dims`: nullopt
/// when it picks a dynamic one (or an index is out of range, left for the kernel to report).
std::optional<Tensor> gathered(const Node& reader, const std::vector<std::int64_t>& dims) {
  const auto indices = constant_ints(reader.input(1));
  if (!indices || reader.attr<std::int64_t>("axis") != 0) return std::nullopt;
  const auto size = static_cast<std::int64_t>(dims.size());
  std::vector<std::int64_t> picked;
  for (std::int64_t index : *indices) {
    if (index < 0) index += size;
    if (index < 0 || index >= size || dims[static_cast<std::size_t>(index)] == dynamic) return std::nullopt;
    picked.push_back(dims[static_cast<std::size_t>(index)]);
  }
  return int64s(reader.input(1)->constant()->shape(), picked);
}

/// What `reader`, a Slice of constant starts and ends along axis 0 with step 1, keeps of
/// `dims`: nullopt when it keeps a dynamic one or is any other Slice.
std::optional<Tensor> sliced(const Node& reader, const std::vector<std::int64_t>& dims) {
  const auto starts = constant_ints(reader.input(1));
  const auto ends = constant_ints(reader.input(2));
  const auto axes = reader.input(3) ? constant_ints(reader.input(3)) : std::vector<std::int64_t>{0};
  const auto steps = reader.input(4) ? constant_ints(reader.input(4)) : std::vector<std::int64_t>{1};
  const bool first_axis = axes && axes->size() == 1 && ((*axes)[0] == 0 || (*axes)[0] == -1);
  if (!starts || !ends || starts->size() != 1 || ends->size() != 1 || !first_axis ||
      steps != std::vector<std::int64_t>{1})
    return std::nullopt;
  const auto size = static_cast<std::int64_t>(dims.size());
  const auto clamp = [size](std::int64_t index) {
    return std::clamp<std::int64_t>(index < 0 ? index + size : index, 0, size);
  };
  const std::int64_t begin = clamp((*starts)[0]);
  const std::int64_t end = std::max(begin, clamp((*ends)[0]));
  const std::vector<std::int64_t> kept(dims.begin() + begin, dims.begin() + end);
  if (!all_static(kept)) return std::nullopt;
  return int64s(Shape{end - begin}, kept);
}

/// The constants `node` (Shape or Size) lets us write: its own output when every dimension
/// it reports is static, else the outputs of the Gathers and Slices that pick static ones.
std::vector<std::pair<Value*, Tensor>> foldable(const Graph& graph, const Node& node) {
  if (node.op_type() == "Size") {
    const Shape& shape = node.input(0)->shape();
    if (!shape.is_static()) return {};
    return {{node.output(), int64s(Shape{}, {shape.numel()})}};
  }
  const std::vector<std::int64_t> dims = reported_dims(node);
  if (all_static(dims)) return {{node.output(), int64s(Shape{static_cast<std::int64_t>(dims.size())}, dims)}};
  std::vector<std::pair<Value*, Tensor>> found;
  for (Node* reader : graph.consumers(*node.output())) {
    if (reader->input(0) != node.output()) continue;
    std::optional<Tensor> picked;
    if (reader->op_type() == "Gather") picked = gathered(*reader, dims);
    if (reader->op_type() == "Slice") picked = sliced(*reader, dims);
    if (picked) found.emplace_back(reader->output(), std::move(*picked));
  }
  return found;
}

} // namespace

std::size_t fold_shapes(Graph& graph, const std::vector<std::string>& backends) {
  std::size_t total = 0;
  // Each round's constants give Reshapes constant shapes, whose outputs' shapes then
  // become known to the next round's Shape nodes.
  for (;;) {
    graph.infer_shapes();
    std::vector<std::pair<Value*, Tensor>> constants;
    for (const Node* node : graph.nodes())
      if (node->op_type() == "Shape" || node->op_type() == "Size")
        for (auto& found : foldable(graph, *node)) constants.push_back(std::move(found));
    if (constants.empty()) break;
    // Collected first: set_constant removes the nodes it detaches.
    for (auto& [value, tensor] : constants) graph.set_constant(*value, std::move(tensor));
    total += constants.size();
    fold_constants(graph, backends);
    remove_dead_nodes(graph);
  }
  graph.remove_unused_values();
  return total;
}

} // namespace tern
