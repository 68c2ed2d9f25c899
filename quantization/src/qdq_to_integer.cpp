#include "qdq_to_integer.hpp"

#include <tern/error.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

namespace tern::ptq {
namespace {

using Ints = std::vector<std::int64_t>;

constexpr double int32_top = 2147483647.0;

bool is_8bit(DataType type) { return type == DataType::Int8 || type == DataType::UInt8; }

bool same_scale(double a, double b) { return std::abs(a - b) <= 1e-6 * std::max(a, b); }

/// A per-tensor quantization as a QuantizeLinear or DequantizeLinear node states it.
struct Quantization {
  double scale = 1.0;
  std::int64_t zero_point = 0;
  DataType type = DataType::UInt8; ///< QuantizeLinear's default without a zero point

  bool operator==(const Quantization& other) const {
    return same_scale(scale, other.scale) && zero_point == other.zero_point && type == other.type;
  }
};

/// `node`'s scale and zero point when both are constants of one value each, or nullopt.
std::optional<Quantization> per_tensor(const Node& node) {
  const Value* scale = node.input(1);
  const Value* zero = node.input(2);
  if (scale == nullptr || scale->constant() == nullptr || scale->constant()->numel() != 1) return std::nullopt;
  if (zero != nullptr && (zero->constant() == nullptr || zero->constant()->numel() != 1)) return std::nullopt;
  Quantization q;
  q.scale = scale->constant()->to_doubles()[0];
  if (zero != nullptr) {
    q.zero_point = zero->constant()->to_int64s()[0];
    q.type = zero->constant()->dtype();
  } else if (node.op_type() == "DequantizeLinear") {
    q.type = node.input(0)->dtype();
  }
  if (!(q.scale > 0.0) || !std::isfinite(q.scale) || !is_8bit(q.type)) return std::nullopt;
  return q;
}

double lowest(DataType type) { return info(type).lowest; }
double highest(DataType type) { return info(type).highest; }

/// 8-bit integers of an activation and their meaning: real = (values - zero_point) * scale.
struct Activation {
  Value* values = nullptr;
  Quantization quantization;
};

/// What `value` dequantizes, when a per-tensor DequantizeLinear of 8-bit integers makes it.
std::optional<Activation> dequantized(const Value* value) {
  const Node* dq = value == nullptr ? nullptr : value->producer();
  if (dq == nullptr || dq->op_type() != "DequantizeLinear" || !is_8bit(dq->input(0)->dtype())) return std::nullopt;
  const std::optional<Quantization> q = per_tensor(*dq);
  if (!q) return std::nullopt;
  return Activation{dq->input(0), *q};
}

/// The one per-tensor QuantizeLinear that alone reads `node`'s output, or nullptr.
Node* sole_quantizer(const Graph& graph, const Node& node) {
  const Value* out = node.output();
  const std::vector<Node*> readers = graph.consumers(*out);
  if (readers.size() != 1 || graph.is_output(*out)) return nullptr;
  Node* q = readers[0];
  if (q->op_type() != "QuantizeLinear" || q->input(0) != out || !per_tensor(*q)) return nullptr;
  return q;
}

Tensor int32_tensor(Shape shape, const Ints& values) {
  return Tensor::from(std::move(shape), DataType::Int32, std::vector<std::int32_t>(values.begin(), values.end()));
}

/// An integer constant of `type` (int32 holds every value given here; the cast is exact).
Value& integer_constant(Graph& graph, const std::string& base, Shape shape, const Ints& values, DataType type) {
  return graph.add_constant(graph.unique_name(base), int32_tensor(std::move(shape), values).cast(type));
}

Value& add_node(Graph& graph, const std::string& op, const std::vector<Value*>& inputs, const std::string& base,
                Attributes attrs = {}) {
  std::vector<std::string> names;
  for (const Value* input : inputs) names.push_back(input->name());
  return *graph.add_node(op, names, {graph.unique_name(base)}, std::move(attrs)).output();
}

Attributes requantize_attributes(std::vector<double> scale, std::int64_t axis, double lo, double hi, DataType to) {
  Attributes attrs;
  attrs.set("scale", std::move(scale));
  attrs.set("axis", axis);
  attrs.set("lo", static_cast<std::int64_t>(lo));
  attrs.set("hi", static_cast<std::int64_t>(hi));
  attrs.set("to", std::string(name(to)));
  return attrs;
}

/// Replaces QuantizeLinear `q` by the integer steps that turn `accumulation` (real value
/// accumulation * scale[c] * q's scale) into q's integers: a Requantize, and for a zero
/// point other than 0 an int32 Add of it and a Cast.
void requantize_into(Graph& graph, Node& q, Value& accumulation, std::vector<double> scale, std::int64_t axis) {
  const Quantization out = *per_tensor(q);
  const double lo = lowest(out.type) - static_cast<double>(out.zero_point);
  const double hi = highest(out.type) - static_cast<double>(out.zero_point);
  if (out.zero_point == 0) {
    graph.replace_node(q, "Requantize", {&accumulation},
                       requantize_attributes(std::move(scale), axis, lo, hi, out.type));
    return;
  }
  Value& centred = add_node(graph, "Requantize", {&accumulation}, q.output()->name() + "_centred",
                            requantize_attributes(std::move(scale), axis, lo, hi, DataType::Int32));
  Value& zero = integer_constant(graph, q.output()->name() + "_zero_point", Shape{}, {out.zero_point}, DataType::Int32);
  Value& shifted = add_node(graph, "Add", {&centred, &zero}, q.output()->name() + "_int32");
  Attributes cast;
  cast.set("to", std::string(name(out.type)));
  graph.replace_node(q, "Cast", {&shifted}, std::move(cast));
}

// ---- zero points that only shift the type ------------------------------------------------

/// int8 with zero point -128 means what uint8 with 0 means (q + 128), and uint8 with 128
/// what int8 with 0 means: the symmetric form Tern's integer kernels take.
std::optional<DataType> symmetric_twin(const Quantization& q) {
  if (q.type == DataType::Int8 && q.zero_point == -128) return DataType::UInt8;
  if (q.type == DataType::UInt8 && q.zero_point == 128) return DataType::Int8;
  return std::nullopt;
}

/// Rewrites a QuantizeLinear of an activation and its DequantizeLinear readers to the
/// symmetric twin of their zero point (when every reader is such a DequantizeLinear).
void drop_shifting_zero_points(Graph& graph) {
  for (Node* q : graph.nodes()) {
    if (q->op_type() != "QuantizeLinear" || q->input(0)->constant() != nullptr) continue;
    const std::optional<Quantization> params = per_tensor(*q);
    const std::optional<DataType> twin = params ? symmetric_twin(*params) : std::nullopt;
    Value* out = q->output();
    if (!twin || graph.is_output(*out)) continue;
    const std::vector<Node*> readers = graph.consumers(*out);
    const bool all_dequantize = std::ranges::all_of(readers, [&](const Node* reader) {
      const std::optional<Quantization> read =
          reader->op_type() == "DequantizeLinear" && reader->input(0) == out ? per_tensor(*reader) : std::nullopt;
      return read && read->zero_point == params->zero_point && read->type == params->type;
    });
    if (readers.empty() || !all_dequantize) continue;
    Value& zero = integer_constant(graph, out->name() + "_zero_point", q->input(2)->shape(), {0}, *twin);
    Attributes attrs = q->attrs();
    graph.replace_node(*q, "QuantizeLinear", {q->input(0), q->input(1), &zero}, std::move(attrs));
    for (Node* reader : readers) {
      Attributes reader_attrs = reader->attrs();
      graph.replace_node(*reader, "DequantizeLinear", {out, reader->input(1), &zero}, std::move(reader_attrs));
    }
  }
  graph.infer_shapes();
}

// ---- Conv, Gemm, MatMul ------------------------------------------------------------------

/// int8 weights with zero point 0 and one scale per output channel (along `axis` of W).
struct Weights {
  Value* values = nullptr;
  std::vector<double> scale;
};

std::optional<Weights> dequantized_weights(const Value* value, std::size_t axis) {
  const Node* dq = value == nullptr ? nullptr : value->producer();
  if (dq == nullptr || dq->op_type() != "DequantizeLinear") return std::nullopt;
  Value* w = dq->input(0);
  const Value* scale = dq->input(1);
  const Value* zero = dq->input(2);
  if (w->constant() == nullptr || w->dtype() != DataType::Int8 || scale->constant() == nullptr) return std::nullopt;
  if (zero != nullptr && (zero->constant() == nullptr ||
                          std::ranges::any_of(zero->constant()->to_int64s(), [](std::int64_t z) { return z != 0; })))
    return std::nullopt;
  const Shape& shape = w->constant()->shape();
  const auto channels = static_cast<std::size_t>(shape[axis]);
  std::vector<double> scales = scale->constant()->to_doubles();
  if (scales.size() == 1) return Weights{w, std::vector<double>(channels, scales[0])};
  const auto rank = static_cast<std::int64_t>(shape.rank());
  std::int64_t dq_axis = dq->attr<std::int64_t>("axis");
  if (dq_axis < 0) dq_axis += rank;
  if (scales.size() != channels || dq_axis != static_cast<std::int64_t>(axis)) return std::nullopt;
  return Weights{w, std::move(scales)};
}

/// Sum of W's values per slice along `axis`.
Ints sums_along(const Tensor& w, std::size_t axis) {
  const Shape& shape = w.shape();
  std::int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= shape[d];
  for (std::size_t d = axis + 1; d < shape.rank(); ++d) inner *= shape[d];
  const std::int64_t channels = shape[axis];
  Ints sums(static_cast<std::size_t>(channels), 0);
  const std::int8_t* values = w.data<std::int8_t>();
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t c = 0; c < channels; ++c)
      for (std::int64_t i = 0; i < inner; ++i)
        sums[static_cast<std::size_t>(c)] += values[(o * channels + c) * inner + i];
  return sums;
}

/// The bias in accumulator units (scale s_x * s_w[c]) when `value` is a DequantizeLinear of
/// int32 on that scale (zeros when absent), or nullopt.
std::optional<Ints> accumulator_bias(const Value* value, double x_scale, const std::vector<double>& w_scale) {
  if (value == nullptr) return Ints(w_scale.size(), 0);
  const Node* dq = value->producer();
  if (dq == nullptr || dq->op_type() != "DequantizeLinear") return std::nullopt;
  const Value* b = dq->input(0);
  const Value* scale = dq->input(1);
  const Value* zero = dq->input(2);
  if (b->constant() == nullptr || b->dtype() != DataType::Int32 || scale->constant() == nullptr ||
      b->constant()->numel() != static_cast<std::int64_t>(w_scale.size()))
    return std::nullopt;
  if (zero != nullptr && (zero->constant() == nullptr ||
                          std::ranges::any_of(zero->constant()->to_int64s(), [](std::int64_t z) { return z != 0; })))
    return std::nullopt;
  const std::vector<double> scales = scale->constant()->to_doubles();
  if (scales.size() != 1 && scales.size() != w_scale.size()) return std::nullopt;
  for (std::size_t c = 0; c < w_scale.size(); ++c)
    if (std::abs(scales[scales.size() == 1 ? 0 : c] / (x_scale * w_scale[c]) - 1.0) > 1e-4) return std::nullopt;
  return b->constant()->to_int64s();
}

/// X's zero point made explicit in its padding: Conv pads with zeros, which are z_x here.
std::optional<Value*> padded_input(Graph& graph, Node& conv, const Activation& x, Attributes& attrs) {
  if (x.quantization.zero_point == 0) return x.values;
  const std::string auto_pad = conv.attrs().has("auto_pad") ? conv.attr<std::string>("auto_pad") : "NOTSET";
  if (auto_pad != "NOTSET" && auto_pad != "VALID") return std::nullopt;
  const Ints pads = auto_pad == "NOTSET" && conv.attrs().has("pads") ? conv.attr<Ints>("pads") : Ints{};
  if (std::ranges::all_of(pads, [](std::int64_t p) { return p == 0; })) return x.values;
  const std::size_t spatial = pads.size() / 2;
  Ints onnx_pads(2 * (spatial + 2), 0); // N and C unpadded, then begins and ends
  for (std::size_t d = 0; d < spatial; ++d) {
    onnx_pads[2 + d] = pads[d];
    onnx_pads[spatial + 4 + d] = pads[spatial + d];
  }
  Value& pads_value =
      graph.add_constant(graph.unique_name(conv.name() + "_pads"),
                         Tensor::from(Shape{static_cast<std::int64_t>(onnx_pads.size())}, DataType::Int64, onnx_pads));
  Value& fill =
      integer_constant(graph, conv.name() + "_pad_value", Shape{}, {x.quantization.zero_point}, x.values->dtype());
  attrs.set("pads", Ints(pads.size(), 0));
  return &add_node(graph, "Pad", {x.values, &pads_value, &fill}, x.values->name() + "_padded");
}

bool lower_affine(Graph& graph, Node& node) {
  const std::string op = node.op_type();
  const std::optional<Activation> x = dequantized(node.input(0));
  Node* q = sole_quantizer(graph, node);
  const Value* w_value = node.input(1);
  if (!x || q == nullptr || w_value == nullptr || w_value->shape().rank() < 2) return false;
  if (op == "Gemm" &&
      (node.attr<std::int64_t>("transA") != 0 || node.attr<double>("alpha") != 1.0 || node.attr<double>("beta") != 1.0))
    return false;
  if (op == "MatMul" && w_value->shape().rank() != 2) return false;
  // The axis of W along output channels, and of the output along them.
  const std::size_t w_axis = op == "Conv" || (op == "Gemm" && node.attr<std::int64_t>("transB") != 0) ? 0 : 1;
  const std::int64_t out_axis = op == "Conv" ? 1 : -1;
  const std::optional<Weights> w = dequantized_weights(w_value, w_axis);
  if (!w) return false;
  const double x_scale = x->quantization.scale;
  std::optional<Ints> bias = accumulator_bias(node.input(2), x_scale, w->scale);
  if (!bias) return false;
  Attributes attrs = node.attrs();
  const std::optional<Value*> input = op == "Conv" ? padded_input(graph, node, *x, attrs) : x->values;
  if (!input) return false;
  const Ints sums = sums_along(*w->values->constant(), w_axis);
  for (std::size_t c = 0; c < bias->size(); ++c) {
    (*bias)[c] -= x->quantization.zero_point * sums[c];
    if (std::abs(static_cast<double>((*bias)[c])) > int32_top) return false;
  }
  std::vector<Value*> inputs{*input, w->values};
  Value* bias_value = nullptr;
  if (node.input(2) != nullptr || x->quantization.zero_point != 0)
    bias_value = &integer_constant(graph, node.name() + "_bias_int32", Shape{static_cast<std::int64_t>(bias->size())},
                                   *bias, DataType::Int32);
  if (bias_value != nullptr && op != "MatMul") inputs.push_back(bias_value); // MatMul has no bias input
  Node& integer = graph.replace_node(node, op, inputs, std::move(attrs));
  Value* accumulation = integer.output();
  if (bias_value != nullptr && op == "MatMul")
    accumulation = &add_node(graph, "Add", {accumulation, bias_value}, node.name() + "_biased");
  const double y_scale = per_tensor(*q)->scale;
  std::vector<double> factors;
  for (const double s : w->scale) factors.push_back(x_scale * s / y_scale);
  requantize_into(graph, *q, *accumulation, std::move(factors), out_axis);
  return true;
}

// ---- Add, Relu/Clip, operators on the integers as they are -------------------------------

/// Both terms on 2^8 times the output's resolution: a sum of rounded terms off by at most
/// 1.5 / 256 of an output step from the exact one, which the final Requantize rounds once.
constexpr double add_resolution = 256.0;

bool lower_add(Graph& graph, Node& add) {
  const std::optional<Activation> a = dequantized(add.input(0));
  const std::optional<Activation> b = dequantized(add.input(1));
  Node* q = sole_quantizer(graph, add);
  if (!a || !b || q == nullptr) return false;
  const double y_scale = per_tensor(*q)->scale;
  const double ka = a->quantization.scale / y_scale * add_resolution;
  const double kb = b->quantization.scale / y_scale * add_resolution;
  if (255.0 * (ka + kb) > int32_top / 2) return false; // the int32 sum must not wrap
  const auto term = [&](const Activation& x, double factor) -> Value& {
    return add_node(graph, "Requantize", {x.values}, x.values->name() + "_term",
                    requantize_attributes({factor}, 1, -int32_top, int32_top, DataType::Int32));
  };
  Value* sum = &add_node(graph, "Add", {&term(*a, ka), &term(*b, kb)}, add.name() + "_int32");
  const auto offset = static_cast<std::int64_t>(std::nearbyint(-static_cast<double>(a->quantization.zero_point) * ka -
                                                               static_cast<double>(b->quantization.zero_point) * kb));
  if (offset != 0) {
    Value& constant = integer_constant(graph, add.name() + "_zero_points", Shape{}, {offset}, DataType::Int32);
    sum = &add_node(graph, "Add", {sum, &constant}, add.name() + "_centred");
  }
  requantize_into(graph, *q, *sum, {1.0 / add_resolution}, 1);
  graph.remove_node(add);
  return true;
}

/// The bounds of a Relu or a Clip with constant (or absent) bounds.
std::optional<std::pair<double, double>> clamp_bounds(const Node& node) {
  constexpr double infinity = std::numeric_limits<double>::infinity();
  if (node.op_type() == "Relu") return std::pair{0.0, infinity};
  std::pair bounds{-infinity, infinity};
  for (std::size_t i = 1; i <= 2; ++i) {
    const Value* bound = node.input(i);
    if (bound == nullptr) continue;
    if (bound->constant() == nullptr || bound->constant()->numel() != 1) return std::nullopt;
    (i == 1 ? bounds.first : bounds.second) = bound->constant()->to_doubles()[0];
  }
  return bounds;
}

/// GlobalAveragePool over a static plane: a depthwise Conv of ones sums each channel's
/// integers in int32, the zero point's share goes into its bias and 1 / (H*W) into the scale.
bool lower_global_average(Graph& graph, Node& node) {
  const std::optional<Activation> x = dequantized(node.input(0));
  Node* q = sole_quantizer(graph, node);
  if (!x || q == nullptr || x->values->shape().rank() < 3) return false;
  const Shape& shape = x->values->shape();
  const std::int64_t channels = shape[1];
  Ints plane, weights_shape{channels, 1};
  std::int64_t count = 1;
  for (std::size_t d = 2; d < shape.rank(); ++d) {
    if (shape[d] == Shape::dynamic) return false;
    plane.push_back(shape[d]);
    weights_shape.push_back(shape[d]);
    count *= shape[d];
  }
  if (channels == Shape::dynamic || 255.0 * static_cast<double>(count) > int32_top) return false;
  Value& ones = integer_constant(graph, node.name() + "_ones", Shape(weights_shape),
                                 Ints(static_cast<std::size_t>(channels * count), 1), DataType::Int8);
  Value& bias =
      integer_constant(graph, node.name() + "_bias_int32", Shape{channels},
                       Ints(static_cast<std::size_t>(channels), -x->quantization.zero_point * count), DataType::Int32);
  Attributes attrs;
  attrs.set("group", channels);
  attrs.set("kernel_shape", plane);
  Node& sum = graph.replace_node(node, "Conv", {x->values, &ones, &bias}, std::move(attrs));
  const double factor = x->quantization.scale / (static_cast<double>(count) * per_tensor(*q)->scale);
  requantize_into(graph, *q, *sum.output(), {factor}, 1);
  return true;
}

/// Relu/Clip between one scale and zero point: clamp(q, round(lo/s) + z, round(hi/s) + z),
/// since rounding the clipped integer-valued real commutes with clipping.
bool lower_clamp(Graph& graph, Node& node) {
  const std::optional<Activation> x = dequantized(node.input(0));
  Node* q = sole_quantizer(graph, node);
  const std::optional<std::pair<double, double>> bounds = clamp_bounds(node);
  if (!x || q == nullptr || !bounds || !(per_tensor(*q) == x->quantization)) return false;
  const Quantization& quantization = x->quantization;
  const auto step = [&](double bound) {
    const double steps = std::clamp(bound / quantization.scale, -1e6, 1e6);
    return std::nearbyint(steps) + static_cast<double>(quantization.zero_point);
  };
  const double lo = std::max(lowest(quantization.type), step(bounds->first));
  const double hi = std::min(highest(quantization.type), step(bounds->second));
  if (lo > hi) return false;
  graph.replace_node(*q, "Requantize", {x->values}, requantize_attributes({1.0}, 1, lo, hi, quantization.type));
  graph.remove_node(node);
  return true;
}

bool lower_pass_through(Graph& graph, Node& node) {
  Node* q = sole_quantizer(graph, node);
  if (q == nullptr) return false;
  const Quantization out = *per_tensor(*q);
  std::vector<Value*> inputs = node.inputs();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i] == nullptr || (i > 0 && node.op_type() != "Concat" && inputs[i]->constant() != nullptr)) continue;
    const std::optional<Activation> x = dequantized(inputs[i]);
    if (!x || !(x->quantization == out) || x->values->dtype() != out.type) return false;
    inputs[i] = x->values;
  }
  Attributes attrs = node.attrs();
  graph.replace_node(node, node.op_type(), inputs, std::move(attrs));
  graph.bypass_node(*q);
  return true;
}

bool lower(Graph& graph, Node& node) {
  static const std::set<std::string> affine{"Conv", "Gemm", "MatMul"};
  static const std::set<std::string> pass_through{"MaxPool",   "Reshape",   "Flatten",  "Squeeze",
                                                  "Unsqueeze", "Transpose", "Identity", "Concat"};
  const std::string& op = node.op_type();
  if (affine.contains(op)) return lower_affine(graph, node);
  if (op == "Add") return lower_add(graph, node);
  if (op == "GlobalAveragePool") return lower_global_average(graph, node);
  if (op == "Relu" || op == "Clip") return lower_clamp(graph, node);
  if (pass_through.contains(op)) return lower_pass_through(graph, node);
  return false;
}

/// Removes DequantizeLinear nodes nothing reads any more.
void remove_unread_dequantizers(Graph& graph) {
  for (Node* node : graph.nodes())
    if (node->op_type() == "DequantizeLinear" && graph.consumers(*node->output()).empty() &&
        !graph.is_output(*node->output()))
      graph.remove_node(*node);
}

} // namespace

void qdq_to_integer(Graph& graph, PassContext& /*context*/, const Options& /*options*/) {
  graph.infer_shapes();
  drop_shifting_zero_points(graph);
  // By name: a lowering removes the QuantizeLinear after its node, which comes later.
  std::vector<std::string> order;
  for (const Node* node : graph.topological_order()) order.push_back(node->name());
  for (const std::string& name : order) {
    Node* node = graph.find_node(name);
    if (node != nullptr && lower(graph, *node)) graph.infer_shapes(); // later matches read the new dtypes
  }
  remove_unread_dequantizers(graph);
  graph.infer_shapes();
}

} // namespace tern::ptq
