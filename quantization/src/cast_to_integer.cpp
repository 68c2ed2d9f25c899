#include "cast_to_integer.hpp"

#include "op_roles.hpp"
#include "quantize_graph.hpp"
#include "requantize.hpp"
#include "tabulate.hpp"

#include <tern/error.hpp>
#include <tern/registry.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

namespace tern::ptq {
namespace {

using Ints = std::vector<std::int64_t>;

bool scalar_constant(const Value* value) { return value && value->constant() && value->constant()->numel() == 1; }

/// The narrowest type that holds [lo, hi].
DataType integer_type(std::int64_t lo, std::int64_t hi) {
  if (lo >= -128 && hi <= 127) return DataType::Int8;
  if (lo >= 0 && hi <= 255) return DataType::UInt8;
  return DataType::Int32;
}

/// The axis of a tensor of rank `rank` along which a factor of shape `factor` varies (its
/// last dimension other than 1, aligned on the right as broadcasting aligns it); 1 when it
/// is per tensor.
std::int64_t factor_axis(const Shape& factor, std::size_t rank) {
  std::int64_t axis = 1;
  for (std::size_t d = 0; d < factor.rank(); ++d)
    if (factor[d] != 1) axis = static_cast<std::int64_t>(rank - factor.rank() + d);
  return axis;
}

/// Clip(Round(Mul(x, factor))) → Requantize(x); returns the number of quantizers rewritten.
std::size_t fuse_quantizers(Graph& graph) {
  std::size_t fused = 0;
  for (Node* clip : graph.topological_order()) {
    if (clip->op_type() != "Clip" || !scalar_constant(clip->input(1)) || !scalar_constant(clip->input(2))) continue;
    Node* round = clip->input(0)->producer();
    if (round == nullptr || round->op_type() != "Round" || graph.consumers(*round->output()).size() != 1) continue;
    Value* source = round->input(0);
    std::vector<double> scale{1.0};
    std::int64_t axis = 1;
    Node* multiply = source->producer();
    if (multiply != nullptr && multiply->op_type() == "Mul" && multiply->input(1)->constant() != nullptr &&
        graph.consumers(*source).size() == 1 && !graph.is_output(*source)) {
      const Tensor& factor = *multiply->input(1)->constant();
      scale = factor.to_doubles();
      axis = factor_axis(factor.shape(), factor.shape().rank());
      source = multiply->input(0);
    } else {
      multiply = nullptr;
    }
    // Accumulator-precision bounds (±(2^31-1)) are not exact in float32: keep them in int32.
    constexpr double int32_top = 2147483647.0;
    const auto lo = static_cast<std::int64_t>(std::max(clip->input(1)->constant()->to_doubles()[0], -int32_top));
    const auto hi = static_cast<std::int64_t>(std::min(clip->input(2)->constant()->to_doubles()[0], int32_top));
    graph.replace_node(*clip, "Requantize", {source}, requantize_attributes(scale, axis, lo, hi, integer_type(lo, hi)));
    graph.remove_node(*round);
    if (multiply != nullptr) graph.remove_node(*multiply);
    ++fused;
  }
  return fused;
}

/// A private integer copy of a constant input (weights int8, biases int32).
void cast_constant_input(Graph& graph, Node& node, std::size_t index, DataType type) {
  Value* value = node.input(index);
  if (value == nullptr || value->constant() == nullptr || value->constant()->dtype() == type) return;
  Value& cast = graph.add_constant(graph.unique_name(value->name() + "_" + std::string(name(type))),
                                   value->constant()->cast(type));
  std::vector<Value*> inputs = node.inputs();
  inputs[index] = &cast;
  Attributes attrs = node.attrs();
  graph.replace_node(node, node.op_type(), inputs, std::move(attrs));
}

/// Casts each input of `node` that holds quantized integers to `type` ("float32" where the
/// node computes in float, "int32" for an integer product).
void cast_integer_inputs(Graph& graph, Node& node, const std::set<const Value*>& integers, const std::string& type) {
  std::vector<Value*> inputs = node.inputs();
  bool changed = false;
  for (Value*& input : inputs) {
    if (input == nullptr || !integers.contains(input)) continue;
    Attributes to;
    to.set("to", type);
    input = graph.add_node("Cast", {input->name()}, {graph.unique_name(input->name() + "_" + type)}, to).output();
    changed = true;
  }
  if (!changed) return;
  Attributes attrs = node.attrs();
  graph.replace_node(node, node.op_type(), inputs, std::move(attrs));
}

/// Removes, in order, those of `nodes` that nothing reads any more, each once (two operands
/// may share a Mul or a Cast).
void remove_unread(Graph& graph, const std::vector<Node*>& nodes) {
  std::set<const Node*> removed;
  for (Node* node : nodes) {
    if (removed.contains(node) || !graph.consumers(*node->output()).empty() || graph.is_output(*node->output()))
      continue;
    removed.insert(node);
    graph.remove_node(*node);
  }
}

/// The float Cast (one cast_integer_inputs inserted) producing `value` from an 8-bit
/// integer, or nullptr. 8 bits only: their range bounds the sums made from them.
Node* float_cast_of_8_bits(const Value& value, const std::set<const Value*>& integers) {
  Node* cast = value.producer();
  if (cast == nullptr || cast->op_type() != "Cast" || cast->attr<std::string>("to") != "float32" ||
      !integers.contains(cast->input(0)))
    return nullptr;
  const DataType type = cast->input(0)->dtype();
  return type == DataType::Int8 || type == DataType::UInt8 ? cast : nullptr;
}

/// True when `value` is read, only by Requantize nodes, and is no graph output: its
/// readers then see the value only through their scale, which a rewrite may change.
bool only_requantizes_read(const Graph& graph, const Value& value) {
  const std::vector<Node*> readers = graph.consumers(value);
  return !readers.empty() && !graph.is_output(value) &&
         std::all_of(readers.begin(), readers.end(), [](const Node* n) { return n->op_type() == "Requantize"; });
}

/// The one per-tensor scale of the Requantizes that alone read `value`, or nullopt.
std::optional<double> common_requantize_scale(const Graph& graph, const Value& value) {
  if (!only_requantizes_read(graph, value)) return std::nullopt;
  const std::vector<Node*> readers = graph.consumers(value);
  const auto scale = readers[0]->attr<std::vector<double>>("scale");
  for (const Node* reader : readers)
    if (reader->attr<std::vector<double>>("scale") != scale) return std::nullopt;
  return scale.size() == 1 ? std::optional<double>(scale[0]) : std::nullopt;
}

/// An operand of a quantized Add: an 8-bit integer times a constant factor (per tensor or
/// per channel along `axis`), computed in float by `float_nodes` (the Mul, if any, then
/// the Cast).
struct ScaledInteger {
  Value* integer = nullptr;
  std::vector<double> factor{1.0};
  std::int64_t axis = 1;
  std::vector<Node*> float_nodes;
};

/// `value` as Mul(Cast(integer), factor) or Cast(integer), or nullopt. The factor may vary
/// along one axis, but must not broadcast the integer to a larger shape.
std::optional<ScaledInteger> scaled_integer(const Value& value, const std::set<const Value*>& integers) {
  ScaledInteger operand;
  const Value* source = &value;
  Node* multiply = value.producer();
  if (multiply != nullptr && multiply->op_type() == "Mul" && multiply->input(1)->constant() != nullptr) {
    const Shape& factor = multiply->input(1)->constant()->shape();
    const std::size_t rank = multiply->input(0)->shape().rank();
    const auto varying = std::count_if(factor.begin(), factor.end(), [](std::int64_t d) { return d != 1; });
    if (factor.rank() > rank || varying > 1 || multiply->output()->shape() != multiply->input(0)->shape())
      return std::nullopt;
    operand.factor = multiply->input(1)->constant()->to_doubles();
    operand.axis = factor_axis(factor, rank);
    operand.float_nodes.push_back(multiply);
    source = multiply->input(0);
  }
  Node* cast = float_cast_of_8_bits(*source, integers);
  if (cast == nullptr) return std::nullopt;
  operand.integer = cast->input(0);
  operand.float_nodes.push_back(cast);
  return operand;
}

/// The largest k <= 24 for which every operand times r * 2^k stays within 2^29 in magnitude,
/// so that their int32 sum cannot overflow; nullopt when even k = 0 does not fit. The larger
/// k, the more of each product's fraction the integer sum keeps.
std::optional<int> sum_shift(const std::vector<ScaledInteger>& operands, double r) {
  double largest = 0.0;
  for (const ScaledInteger& operand : operands)
    for (const double f : operand.factor)
      largest = std::max(largest, info(operand.integer->dtype()).highest * std::abs(f * r));
  const double limit = std::ldexp(1.0, 29);
  int k = 24;
  while (k > 0 && std::ldexp(largest, k) > limit) --k;
  return std::ldexp(largest, k) <= limit ? std::optional<int>(k) : std::nullopt;
}

/// Add(a * f_a, b * f_b) over 8-bit integers a and b, read only by Requantizes of one scale r,
/// becomes Add(Requantize(a; f_a * r * 2^k), Requantize(b; f_b * r * 2^k)) in int32, and
/// the readers' scale 2^-k: the float sum's products, rounded to integers k bits below the
/// output's unit, then added exactly.
void integer_add(Graph& graph, Node& add, const std::set<const Value*>& integers) {
  const std::optional<double> r = common_requantize_scale(graph, *add.output());
  if (!r) return;
  std::vector<ScaledInteger> operands;
  for (const Value* input : add.inputs()) {
    std::optional<ScaledInteger> operand = scaled_integer(*input, integers);
    if (!operand) return;
    operands.push_back(std::move(*operand));
  }
  const std::optional<int> k = sum_shift(operands, *r);
  if (!k) return;
  constexpr auto int32_lo = std::numeric_limits<std::int32_t>::min(),
                 int32_hi = std::numeric_limits<std::int32_t>::max();
  std::vector<Value*> terms;
  std::vector<Node*> float_nodes;
  for (const ScaledInteger& operand : operands) {
    std::vector<double> scale = operand.factor;
    for (double& s : scale) s = std::ldexp(s * *r, *k);
    const std::string name = graph.unique_name(operand.integer->name() + "_int32");
    terms.push_back(graph
                        .add_node("Requantize", {operand.integer->name()}, {name},
                                  requantize_attributes(scale, operand.axis, int32_lo, int32_hi, DataType::Int32))
                        .output());
    float_nodes.insert(float_nodes.end(), operand.float_nodes.begin(), operand.float_nodes.end());
  }
  for (Node* reader : graph.consumers(*add.output()))
    reader->attrs().set("scale", std::vector<double>{std::ldexp(1.0, -*k)});
  graph.replace_node(add, "Add", terms, add.attrs());
  remove_unread(graph, float_nodes);
}

/// The Conv attributes that sum `pool`'s windows over an input of shape `x`, or nullopt
/// where a sum divided by the window size is not the average: ceil_mode (partial windows),
/// auto_pad, and pads the average does not count.
std::optional<Attributes> window_sum_attributes(const Node& pool, const Shape& x) {
  Attributes attrs;
  attrs.set("group", x[1]); // depthwise: each channel sums its own windows
  if (pool.op_type() == "GlobalAveragePool") {
    attrs.set("kernel_shape", Ints(x.begin() + 2, x.end()));
    return attrs;
  }
  const Ints pads = pool.attrs().get_or("pads", Ints{});
  const bool padded = std::any_of(pads.begin(), pads.end(), [](std::int64_t p) { return p != 0; });
  if (pool.attr<std::string>("auto_pad") != "NOTSET" || pool.attr<std::int64_t>("ceil_mode") != 0 ||
      (padded && pool.attr<std::int64_t>("count_include_pad") == 0))
    return std::nullopt;
  for (const char* key : {"kernel_shape", "pads", "strides"})
    if (pool.attrs().has(key)) attrs.set(key, pool.attrs().get<Ints>(key));
  return attrs;
}

/// GlobalAveragePool or AveragePool over 8-bit integers (channels and spatial sizes known),
/// read only by Requantizes, becomes a depthwise Conv of int8 ones, the int32 window sums,
/// and the readers' scales are divided by the window size.
void integer_average(Graph& graph, Node& pool, const std::set<const Value*>& integers) {
  Node* cast = float_cast_of_8_bits(*pool.input(0), integers);
  if (cast == nullptr || !only_requantizes_read(graph, *pool.output())) return;
  Value& x = *cast->input(0);
  const Shape& shape = x.shape();
  if (shape.rank() < 3 ||
      std::any_of(shape.begin() + 1, shape.end(), [](std::int64_t d) { return d == Shape::dynamic; }))
    return;
  std::optional<Attributes> attrs = window_sum_attributes(pool, shape);
  if (!attrs) return;
  Ints weights{shape[1], 1};
  const Ints& kernel = attrs->get<Ints>("kernel_shape");
  weights.insert(weights.end(), kernel.begin(), kernel.end());
  const Shape weight_shape(weights);
  const auto window = static_cast<double>(weight_shape.numel() / shape[1]);
  Value& ones =
      graph.add_constant(graph.unique_name(pool.name() + "_ones"),
                         Tensor::from(weight_shape, DataType::Int8,
                                      std::vector<std::int8_t>(static_cast<std::size_t>(weight_shape.numel()), 1)));
  for (Node* reader : graph.consumers(*pool.output())) {
    auto scale = reader->attr<std::vector<double>>("scale");
    for (double& s : scale) s /= window;
    reader->attrs().set("scale", std::move(scale));
  }
  graph.replace_node(pool, "Conv", {&x, &ones}, std::move(*attrs));
  remove_unread(graph, {cast});
}

/// An elementwise function of one 8-bit integer (function_operand: Sigmoid, HardSwish,
/// x * 0.5, ...), read through its float Cast and dequantizing Mul, whose result only a
/// per-tensor Requantize reads, becomes TableLookup(x, its 256 results).
void integer_table(Graph& graph, Node& requantize, const std::set<const Value*>& integers,
                   const std::vector<std::string>& backends) {
  Value& result = *requantize.input(0);
  Node* function = result.producer();
  if (function == nullptr || requantize.attr<std::vector<double>>("scale").size() != 1 || graph.is_output(result) ||
      graph.consumers(result).size() != 1)
    return;
  const std::optional<std::size_t> operand = function_operand(*function);
  if (!operand) return;
  const std::optional<ScaledInteger> input = scaled_integer(*function->input(*operand), integers);
  if (!input || input->factor.size() != 1) return;
  const Node* multiply = input->float_nodes.size() == 2 ? input->float_nodes[0] : nullptr;
  const auto dequantize = [&](Graph& table, const std::string& x) -> std::string {
    if (multiply == nullptr) return x;
    table.add_constant("factor", *multiply->input(1)->constant());
    table.add_node("Mul", {x, "factor"}, {"real"});
    return "real";
  };
  const auto requantize_result = [&](Graph& table, const std::string& real_result) -> std::string {
    table.add_node("Requantize", {real_result}, {"table"}, requantize.attrs());
    return "table";
  };
  const Tensor table = tabulate(*function, *operand, input->integer->dtype(), backends, dequantize, requantize_result);
  Value& constant = graph.add_constant(graph.unique_name(function->name() + "_table"), table);
  graph.replace_node(requantize, "TableLookup", {input->integer, &constant});
  std::vector<Node*> float_nodes{function};
  float_nodes.insert(float_nodes.end(), input->float_nodes.begin(), input->float_nodes.end());
  remove_unread(graph, float_nodes);
}

/// Sums and averages of integers, which the loop left in float between Casts, in integers:
/// run once the graph is typed, since what they may become depends on their inputs' dtypes
/// and shapes.
void integer_sums_and_averages(Graph& graph, const std::set<const Value*>& integers,
                               const std::vector<std::string>& backends) {
  for (Node* node : graph.topological_order()) {
    // The rewrites remove only nodes that precede `node` (Muls, Casts, the tabulated
    // function): the order stays valid.
    if (node->op_type() == "Add")
      integer_add(graph, *node, integers);
    else if (node->op_type() == "GlobalAveragePool" || node->op_type() == "AveragePool")
      integer_average(graph, *node, integers);
    else if (node->op_type() == "Requantize")
      integer_table(graph, *node, integers, backends);
  }
}

} // namespace

void cast_to_integer(Graph& graph, PassContext&, const Options& options) {
  check(graph.meta().has(input_scale_key), "cast_to_integer needs a quantized graph: run quantize_network first");
  require_unprepared(graph, "cast_to_integer");
  fuse_quantizers(graph);
  // The quantized network reads integer-valued floats (scale_input); clamp and cast them once.
  const auto limit = static_cast<std::int64_t>(std::stod(graph.meta().get<std::string>(input_limit_key)));
  for (Value* input : std::vector<Value*>(graph.inputs()))
    if (!graph.consumers(*input).empty())
      graph.insert_after(*input, "Requantize",
                         requantize_attributes({1.0}, 1, -limit, limit, integer_type(-limit, limit)));

  // Operators the cpu backend runs on 8-bit integers as they are.
  static const std::set<std::string> integer_ops{"MaxPool", "Reshape",   "Flatten", "Transpose",  "Identity",
                                                 "Squeeze", "Unsqueeze", "Relu",    "Requantize", "Slice",
                                                 "Gather",  "Expand",    "Tile",    "Pad",        "Resize"};
  std::set<const Value*> integers; // values that hold quantized integers from here on
  const auto holds_integers = [&](const Value* v) { return integers.contains(v); };
  for (Node* node : graph.topological_order()) {
    const std::string& op = node->op_type();
    const bool integer_data = node->input(0) != nullptr && integers.contains(node->input(0));
    if (op == "Requantize") {
      integers.insert(node->output());
    } else if ((op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul") && integer_data) {
      cast_constant_input(graph, *node, 1, DataType::Int8);
      cast_constant_input(graph, *node, 2, DataType::Int32);
      integers.insert(node->output());
    } else if (integer_ops.contains(op) && integer_data) {
      for (const Value* output : node->outputs()) integers.insert(output);
    } else if (op == "Concat" && std::all_of(node->inputs().begin(), node->inputs().end(), holds_integers)) {
      integers.insert(node->output());
    } else if (op == "Shape" || op == "Size") {
      // They read only the shape: any dtype will do.
    } else if (op == "Mul" && std::all_of(node->inputs().begin(), node->inputs().end(), holds_integers)) {
      // A product of two quantized activations: exact in int32, then requantized.
      cast_integer_inputs(graph, *node, integers, "int32");
      integers.insert(node->output());
    } else {
      cast_integer_inputs(graph, *node, integers, "float32");
    }
  }
  graph.infer_shapes();
  integer_sums_and_averages(graph, integers, options.backends);
  graph.infer_shapes();
}

} // namespace tern::ptq
