// fuse_requantize_add: the integer residual Add the PTQ writes (cast_to_integer's
// integer_add) is four nodes, each a pass over memory: two Requantizes lifting the 8-bit
// branches to int32 terms, the int32 Add, and the Requantize back to 8 bits. Run apart they
// were a third of resnet_tiny's int8 time; as one RequantizeAdd the backend reads each
// branch once and writes the 8-bit sum.
#include <tern/recipes.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace tern {
namespace {

constexpr auto int32_lo = std::numeric_limits<std::int32_t>::min();
constexpr auto int32_hi = std::numeric_limits<std::int32_t>::max();

/// The channel axis of `requantize` resolved against rank `rank`, or nullopt per tensor.
std::optional<std::int64_t> channel_axis(const Node& requantize, std::size_t rank) {
  if (requantize.attr<std::vector<double>>("scale").size() == 1) return std::nullopt;
  const auto axis = requantize.attr<std::int64_t>("axis");
  return axis < 0 ? axis + static_cast<std::int64_t>(rank) : axis;
}

/// The Requantize lifting an 8-bit value to an int32 term that only `add` reads, or nullptr.
const Node* term(const Graph& graph, const Value* value) {
  const Node* requantize = value == nullptr ? nullptr : value->producer();
  if (requantize == nullptr || requantize->op_type() != "Requantize" || graph.is_output(*value) ||
      graph.consumers(*value).size() != 1)
    return nullptr;
  const DataType source = requantize->input(0)->dtype();
  const bool lifts =
      (source == DataType::Int8 || source == DataType::UInt8) && requantize->attr<std::string>("to") == "int32" &&
      requantize->attr<std::int64_t>("lo") == int32_lo && requantize->attr<std::int64_t>("hi") == int32_hi;
  return lifts ? requantize : nullptr;
}

/// The largest |term| a requantization of 8-bit values can give.
double largest_term(const Node& requantize) {
  double largest = 0.0;
  for (const double s : requantize.attr<std::vector<double>>("scale")) largest = std::max(largest, 255.0 * std::abs(s));
  return largest;
}

/// The RequantizeAdd attributes for `requantize` (8-bit) reading Add(a, b) of two terms, or
/// nullopt where the one node would not compute what the four do: operands of different
/// shapes (the Add broadcasts; a dynamic dimension must be dynamic in both, as a batch
/// flowing through both branches is), per-channel scales along different axes, or terms
/// whose sum could leave int32 (the Add would wrap; RequantizeAdd's sum is exact).
std::optional<Attributes> fused_attributes(const Node& requantize, const Node& a, const Node& b) {
  const Shape& shape = a.output()->shape();
  if (b.output()->shape() != shape) return std::nullopt;
  std::optional<std::int64_t> axis;
  for (const Node* node : {&requantize, &a, &b}) {
    const std::optional<std::int64_t> own = channel_axis(*node, shape.rank());
    if (own && axis && *own != *axis) return std::nullopt;
    if (own) axis = own;
  }
  // The margin covers a kernel computing the terms in float32 (each rounds up by at most a
  // relative 2^-23, then by half a unit): its int32 sum must not wrap either.
  if ((largest_term(a) + largest_term(b)) * (1.0 + 0x1p-20) + 1.0 >= static_cast<double>(int32_hi)) return std::nullopt;
  Attributes attrs;
  attrs.set("a_scale", a.attr<std::vector<double>>("scale"));
  attrs.set("b_scale", b.attr<std::vector<double>>("scale"));
  attrs.set("axis", axis.value_or(1));
  for (const char* key : {"lo", "hi"}) attrs.set(key, requantize.attr<std::int64_t>(key));
  attrs.set("scale", requantize.attr<std::vector<double>>("scale"));
  attrs.set("to", requantize.attr<std::string>("to"));
  return attrs;
}

} // namespace

std::size_t fuse_requantize_add(Graph& graph) {
  graph.infer_shapes(); // the pattern is a matter of inferred dtypes and shapes
  // Found first, rewritten after: a rewrite removes nodes a walk over nodes() would reach.
  std::vector<std::pair<Node*, Attributes>> found;
  for (Node* requantize : graph.nodes()) {
    if (requantize->op_type() != "Requantize" || requantize->attr<std::string>("to") == "int32") continue;
    Value* sum = requantize->input(0);
    Node* add = sum == nullptr ? nullptr : sum->producer();
    if (add == nullptr || add->op_type() != "Add" || sum->dtype() != DataType::Int32 || graph.is_output(*sum) ||
        graph.consumers(*sum).size() != 1)
      continue;
    const Node* a = term(graph, add->input(0));
    const Node* b = term(graph, add->input(1));
    if (a == nullptr || b == nullptr || a == b) continue;
    const std::optional<Attributes> attrs = fused_attributes(*requantize, *a, *b);
    if (attrs) found.emplace_back(requantize, *attrs);
  }
  for (auto& [requantize, attrs] : found) {
    Node& add = *requantize->input(0)->producer();
    Node& a_term = *add.input(0)->producer();
    Node& b_term = *add.input(1)->producer();
    graph.replace_node(*requantize, "RequantizeAdd", {a_term.input(0), b_term.input(0)}, std::move(attrs));
    graph.remove_node(add);
    graph.remove_node(a_term);
    graph.remove_node(b_term);
  }
  return found.size();
}

} // namespace tern
