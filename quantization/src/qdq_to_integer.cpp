#include "qdq_to_integer.hpp"

#include "op_roles.hpp"
#include "requantize.hpp"
#include "tabulate.hpp"

#include <tern/error.hpp>
#include <tern/recipes.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

namespace tern::ptq {
namespace {

using Ints = std::vector<std::int64_t>;

constexpr double int32_top = 2147483647.0;

/// A bound held as a double (an integer type's lowest or highest, shifted by a zero point).
std::int64_t as_integer(double bound) { return static_cast<std::int64_t>(bound); }

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

/// The integer steps that turn `accumulation` (real value accumulation * scale[c] *
/// out.scale) into `out`'s integers: a Requantize, and for a zero point other than 0 an
/// int32 Add of it and a Cast. The last step takes the place of QuantizeLinear `q` (its
/// output value kept) when one is given, else it is a new value named from `base`.
Value& requantized(Graph& graph, Value& accumulation, std::vector<double> scale, std::int64_t axis,
                   const Quantization& out, Node* q, const std::string& base) {
  const auto last = [&](const std::string& op, Value& input, Attributes attrs) -> Value& {
    if (q == nullptr) return add_node(graph, op, {&input}, base, std::move(attrs));
    return *graph.replace_node(*q, op, {&input}, std::move(attrs)).output();
  };
  const double lo = lowest(out.type) - static_cast<double>(out.zero_point);
  const double hi = highest(out.type) - static_cast<double>(out.zero_point);
  if (out.zero_point == 0)
    return last("Requantize", accumulation,
                requantize_attributes(std::move(scale), axis, as_integer(lo), as_integer(hi), out.type));
  Value& centred =
      add_node(graph, "Requantize", {&accumulation}, base + "_centred",
               requantize_attributes(std::move(scale), axis, as_integer(lo), as_integer(hi), DataType::Int32));
  Value& zero = integer_constant(graph, base + "_zero_point", Shape{}, {out.zero_point}, DataType::Int32);
  Value& shifted = add_node(graph, "Add", {&centred, &zero}, base + "_int32");
  Attributes cast;
  cast.set("to", std::string(name(out.type)));
  return last("Cast", shifted, std::move(cast));
}

/// requantized() into QuantizeLinear `q`'s place.
void requantize_into(Graph& graph, Node& q, Value& accumulation, std::vector<double> scale, std::int64_t axis) {
  requantized(graph, accumulation, std::move(scale), axis, *per_tensor(q), &q, q.output()->name());
}

/// Sums of integers at 2^8 times the output's resolution: each term rounded there is off by
/// at most 1/512 of an output step, and the final Requantize (by 2^-8) rounds once.
constexpr double fine = 256.0;

/// An int32 sum of fine terms and the constants that go with them (zero points' shares,
/// biases), per channel along axis 1 or one for all.
class FineSum {
public:
  FineSum(Graph& graph, std::string base) : graph_(graph), base_(std::move(base)) {}

  /// Whether x's terms times factor[c] stay far from wrapping the int32 sum.
  static bool fits(const Activation& x, const std::vector<double>& factor) {
    return std::ranges::all_of(
        factor, [&](double f) { return 255.0 * std::abs(f * x.quantization.scale * fine) <= int32_top / 8; });
  }

  /// Adds x's real values times factor[c] (one, or one per channel along axis 1), in fine
  /// units of the output's step; fits() must hold.
  void add(const Activation& x, const std::vector<double>& factor) {
    std::vector<double> scale;
    for (const double f : factor) scale.push_back(f * x.quantization.scale * fine);
    std::vector<double> zero_share;
    for (const double f : scale) zero_share.push_back(-static_cast<double>(x.quantization.zero_point) * f);
    add_constant(zero_share);
    Value& term =
        add_node(graph_, "Requantize", {x.values}, x.values->name() + "_fine",
                 requantize_attributes(scale, 1, as_integer(-int32_top), as_integer(int32_top), DataType::Int32));
    sum_ = sum_ == nullptr ? &term : &add_node(graph_, "Add", {sum_, &term}, base_ + "_sum");
  }

  /// Adds `values` (fine units; one per channel, or one for all) to the sum's constant.
  void add_constant(const std::vector<double>& values) {
    if (values.size() > constant_.size()) constant_.resize(values.size(), constant_.empty() ? 0.0 : constant_[0]);
    for (std::size_t c = 0; c < constant_.size(); ++c) constant_[c] += values[values.size() == 1 ? 0 : c];
  }

  /// The sum with its constants, ready for requantized(..., {1 / fine}, 1, ...); `rank` is
  /// the sum's, for the per-channel constant's shape.
  Value& finish(std::size_t rank) {
    Ints rounded;
    for (const double v : constant_) rounded.push_back(static_cast<std::int64_t>(std::nearbyint(v)));
    if (std::ranges::all_of(rounded, [](std::int64_t v) { return v == 0; })) return *sum_;
    Ints shape(rank, 1);
    if (rounded.size() > 1) shape[1] = static_cast<std::int64_t>(rounded.size());
    Value& constant = integer_constant(graph_, base_ + "_offset", rounded.size() > 1 ? Shape(shape) : Shape{}, rounded,
                                       DataType::Int32);
    return add_node(graph_, "Add", {sum_, &constant}, base_ + "_offset_sum");
  }

private:
  Graph& graph_;
  std::string base_;
  Value* sum_ = nullptr;
  std::vector<double> constant_;
};

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

/// `value` read through Identity nodes (exporters share a constant between nodes that way).
const Value* through_identities(const Value* value) {
  while (value != nullptr && value->constant() == nullptr && value->producer() != nullptr &&
         value->producer()->op_type() == "Identity")
    value = value->producer()->input(0);
  return value;
}

/// The DequantizeLinear of a 1-D (or scalar) integer constant: its integers, zero points and
/// scales (one each, or one per element).
struct QuantizedConstant {
  Ints values, zero_points;
  std::vector<double> scales;
  DataType type;

  double real(std::size_t i) const {
    const auto at = [&](const auto& v) { return v[v.size() == 1 ? 0 : i]; };
    return static_cast<double>(values[i] - at(zero_points)) * at(scales);
  }
};

std::optional<std::vector<double>> constant_values(const Value* value);

/// The integers of a 1-D constant, or of a per-tensor QuantizeLinear of constant values
/// (quantizers leave those for parameters that nodes share), computed as ONNX defines it.
std::optional<Ints> constant_integers(const Value* value) {
  if (value->constant() != nullptr)
    return value->constant()->shape().rank() <= 1 ? std::optional(value->constant()->to_int64s()) : std::nullopt;
  const Node* q = value->producer();
  if (q == nullptr || q->op_type() != "QuantizeLinear" || !per_tensor(*q)) return std::nullopt;
  const std::optional<std::vector<double>> real = constant_values(q->input(0));
  if (!real) return std::nullopt;
  const Quantization quantization = *per_tensor(*q);
  const auto scale = static_cast<float>(quantization.scale);
  Ints values;
  for (const double x : *real) {
    const double rounded = std::nearbyint(static_cast<double>(static_cast<float>(x) / scale));
    values.push_back(static_cast<std::int64_t>(std::clamp(rounded + static_cast<double>(quantization.zero_point),
                                                          lowest(quantization.type), highest(quantization.type))));
  }
  return values;
}

std::optional<QuantizedConstant> quantized_constant(const Value* value) {
  const Node* dq = value == nullptr ? nullptr : value->producer();
  if (dq == nullptr || dq->op_type() != "DequantizeLinear") return std::nullopt;
  const std::optional<Ints> q = constant_integers(through_identities(dq->input(0)));
  const Tensor* scale = through_identities(dq->input(1))->constant();
  const Value* zero = through_identities(dq->input(2));
  if (!q || scale == nullptr || (zero != nullptr && zero->constant() == nullptr)) return std::nullopt;
  QuantizedConstant c{*q, zero != nullptr ? zero->constant()->to_int64s() : Ints{0}, scale->to_doubles(),
                      dq->input(0)->dtype()};
  if ((c.scales.size() != 1 && c.scales.size() != c.values.size()) ||
      (c.zero_points.size() != 1 && c.zero_points.size() != c.values.size()))
    return std::nullopt;
  return c;
}

/// The real values of a 1-D float constant or of a DequantizeLinear of constant integers,
/// read through Identity nodes; nullopt for anything computed.
std::optional<std::vector<double>> constant_values(const Value* value) {
  value = through_identities(value);
  if (value == nullptr) return std::nullopt;
  if (const Tensor* constant = value->constant(); constant != nullptr && constant->dtype() == DataType::Float32)
    return constant->shape().rank() <= 1 ? std::optional(constant->to_doubles()) : std::nullopt;
  const std::optional<QuantizedConstant> q = quantized_constant(value);
  if (!q) return std::nullopt;
  std::vector<double> real;
  for (std::size_t i = 0; i < q->values.size(); ++i) real.push_back(q->real(i));
  return real;
}

/// The bias in accumulator units (scale s_x * s_w[c]), zeros when absent: a DequantizeLinear
/// of int32 on that scale gives its integers as they are; a float constant, or a
/// DequantizeLinear on another scale (a bias two Convs share through an Identity), is
/// rounded to the unit, off by half of s_x * s_w at most, far below an output step.
std::optional<Ints> accumulator_bias(const Value* value, double x_scale, const std::vector<double>& w_scale) {
  const std::size_t channels = w_scale.size();
  if (value == nullptr) return Ints(channels, 0);
  if (const std::optional<QuantizedConstant> q = quantized_constant(through_identities(value));
      q && q->type == DataType::Int32 && q->values.size() == channels) {
    bool on_unit = std::ranges::all_of(q->zero_points, [](std::int64_t z) { return z == 0; });
    for (std::size_t c = 0; c < channels; ++c)
      on_unit = on_unit && std::abs(q->scales[q->scales.size() == 1 ? 0 : c] / (x_scale * w_scale[c]) - 1.0) <= 1e-6;
    if (on_unit) return q->values;
  }
  const std::optional<std::vector<double>> real = constant_values(value);
  if (!real || real->size() != channels) return std::nullopt;
  Ints units;
  for (std::size_t c = 0; c < channels; ++c) {
    const double unit = (*real)[c] / (x_scale * w_scale[c]);
    if (!(std::abs(unit) < int32_top)) return std::nullopt;
    units.push_back(static_cast<std::int64_t>(std::nearbyint(unit)));
  }
  return units;
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
  if (!x || w_value == nullptr || w_value->shape().rank() < 2) return false;
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
  const Ints sums = sums_along(*w->values->constant(), w_axis);
  for (std::size_t c = 0; c < bias->size(); ++c) {
    (*bias)[c] -= x->quantization.zero_point * sums[c];
    if (std::abs(static_cast<double>((*bias)[c])) > int32_top) return false;
  }
  Attributes attrs = node.attrs();
  const std::optional<Value*> input = op == "Conv" ? padded_input(graph, node, *x, attrs) : x->values;
  if (!input) return false;
  std::vector<Value*> inputs{*input, w->values};
  Value* bias_value = nullptr;
  if (node.input(2) != nullptr || x->quantization.zero_point != 0)
    bias_value = &integer_constant(graph, node.name() + "_bias_int32", Shape{static_cast<std::int64_t>(bias->size())},
                                   *bias, DataType::Int32);
  if (bias_value != nullptr && op != "MatMul") inputs.push_back(bias_value); // MatMul has no bias input
  // Quantized after: the node itself computes the accumulation. A float result (the
  // network's logits, say) is the accumulation dequantized by s_x * s_w[c] in its place.
  Value* accumulation = q != nullptr ? graph.replace_node(node, op, inputs, std::move(attrs)).output()
                                     : &add_node(graph, op, inputs, node.output()->name() + "_int32", std::move(attrs));
  if (bias_value != nullptr && op == "MatMul")
    accumulation = &add_node(graph, "Add", {accumulation, bias_value}, node.name() + "_biased");
  std::vector<double> unit;
  for (const double s : w->scale) unit.push_back(x_scale * s);
  if (q == nullptr) {
    std::vector<float> scale(unit.begin(), unit.end());
    Value& scale_value = graph.add_constant(graph.unique_name(node.name() + "_unit"),
                                            Tensor::from_floats(Shape{static_cast<std::int64_t>(scale.size())}, scale));
    Attributes axis;
    axis.set("axis", out_axis);
    graph.replace_node(node, "DequantizeLinear", {accumulation, &scale_value}, std::move(axis));
    return true;
  }
  const double y_scale = per_tensor(*q)->scale;
  for (double& factor : unit) factor /= y_scale;
  requantize_into(graph, *q, *accumulation, std::move(unit), out_axis);
  return true;
}

// ---- Add, Relu/Clip, operators on the integers as they are -------------------------------

bool lower_add(Graph& graph, Node& add) {
  const std::optional<Activation> a = dequantized(add.input(0));
  const std::optional<Activation> b = dequantized(add.input(1));
  Node* q = sole_quantizer(graph, add);
  if (!a || !b || q == nullptr) return false;
  const double to_output = 1.0 / per_tensor(*q)->scale;
  if (!FineSum::fits(*a, {to_output}) || !FineSum::fits(*b, {to_output})) return false;
  FineSum sum(graph, add.name());
  sum.add(*a, {to_output});
  sum.add(*b, {to_output});
  requantize_into(graph, *q, sum.finish(add.output()->shape().rank()), {1.0 / fine}, 1);
  graph.remove_node(add);
  return true;
}

/// The window an average pool averages: the whole (static) plane for GlobalAveragePool and
/// a ReduceMean over every spatial axis;
/// AveragePool's kernel when it pads nothing (padding would change the count per window).
std::optional<Ints> pool_window(const Node& node, const Shape& x) {
  if (node.op_type() == "GlobalAveragePool" || is_global_mean(node)) {
    Ints plane;
    for (std::size_t d = 2; d < x.rank(); ++d) {
      if (x[d] == Shape::dynamic) return std::nullopt;
      plane.push_back(x[d]);
    }
    return plane;
  }
  const auto& attrs = node.attrs();
  const bool padded =
      attrs.has("pads") && std::ranges::any_of(node.attr<Ints>("pads"), [](std::int64_t p) { return p != 0; });
  const bool same = attrs.has("auto_pad") && node.attr<std::string>("auto_pad").starts_with("SAME");
  const bool dilated = attrs.has("dilations") &&
                       std::ranges::any_of(node.attr<Ints>("dilations"), [](std::int64_t d) { return d != 1; });
  if (padded || same || dilated || (attrs.has("ceil_mode") && node.attr<std::int64_t>("ceil_mode") != 0))
    return std::nullopt;
  return node.attr<Ints>("kernel_shape");
}

/// GlobalAveragePool / AveragePool: a depthwise Conv of ones sums each window's integers in
/// int32, the zero point's share goes into its bias and 1 / (window size) into the scale.
bool lower_average_pool(Graph& graph, Node& node) {
  const std::optional<Activation> x = dequantized(node.input(0));
  Node* q = sole_quantizer(graph, node);
  if (!x || q == nullptr || x->values->shape().rank() < 3) return false;
  const std::int64_t channels = x->values->shape()[1];
  const std::optional<Ints> window = pool_window(node, x->values->shape());
  if (!window || channels == Shape::dynamic) return false;
  Ints weights_shape{channels, 1};
  std::int64_t count = 1;
  for (const std::int64_t extent : *window) {
    weights_shape.push_back(extent);
    count *= extent;
  }
  if (255.0 * static_cast<double>(count) > int32_top) return false;
  Value& ones = integer_constant(graph, node.name() + "_ones", Shape(weights_shape),
                                 Ints(static_cast<std::size_t>(channels * count), 1), DataType::Int8);
  Value& bias =
      integer_constant(graph, node.name() + "_bias_int32", Shape{channels},
                       Ints(static_cast<std::size_t>(channels), -x->quantization.zero_point * count), DataType::Int32);
  Attributes attrs;
  attrs.set("group", channels);
  attrs.set("kernel_shape", *window);
  if (node.attrs().has("strides")) attrs.set("strides", node.attr<Ints>("strides"));
  // A ReduceMean without keepdims drops the plane's 1s: a Flatten of the averages does.
  const bool flatten = node.op_type() == "ReduceMean" && node.attrs().get_or<std::int64_t>("keepdims", 1) == 0;
  Node& sum = graph.replace_node(node, "Conv", {x->values, &ones, &bias}, std::move(attrs));
  const double factor = x->quantization.scale / (static_cast<double>(count) * per_tensor(*q)->scale);
  if (!flatten) {
    requantize_into(graph, *q, *sum.output(), {factor}, 1);
    return true;
  }
  const std::string base = q->output()->name() + "_averages";
  Value& averages = requantized(graph, *sum.output(), {factor}, 1, *per_tensor(*q), nullptr, base);
  Attributes axis;
  axis.set("axis", std::int64_t{1});
  graph.replace_node(*q, "Flatten", {&averages}, std::move(axis));
  return true;
}

/// Pad on one scale and zero point: the integers padded with the constant's integer (the
/// zero point for 0, what QuantizeLinear makes of it otherwise); edge and reflect modes copy
/// values, so they take the integers as they are.
bool lower_pad(Graph& graph, Node& pad) {
  const std::optional<Activation> x = dequantized(pad.input(0));
  Node* q = sole_quantizer(graph, pad);
  if (!x || q == nullptr || !(per_tensor(*q) == x->quantization) || x->values->dtype() != x->quantization.type ||
      pad.input(1) == nullptr || pad.input(1)->constant() == nullptr)
    return false;
  std::vector<Value*> inputs = pad.inputs();
  inputs[0] = x->values;
  const std::string mode = pad.attrs().has("mode") ? pad.attr<std::string>("mode") : "constant";
  if (mode == "constant") {
    const Value* fill = pad.input(2);
    if (fill != nullptr && (fill->constant() == nullptr || fill->constant()->numel() != 1)) return false;
    const double real = fill == nullptr ? 0.0 : fill->constant()->to_doubles()[0];
    const Quantization& quantization = x->quantization;
    const double integer = std::clamp(
        std::nearbyint(static_cast<double>(static_cast<float>(real) / static_cast<float>(quantization.scale))) +
            static_cast<double>(quantization.zero_point),
        lowest(quantization.type), highest(quantization.type));
    Value& value = integer_constant(graph, pad.name() + "_value", Shape{}, {static_cast<std::int64_t>(integer)},
                                    quantization.type);
    inputs.resize(std::max<std::size_t>(inputs.size(), 3));
    inputs[2] = &value;
  }
  Attributes attrs = pad.attrs();
  graph.replace_node(pad, "Pad", inputs, std::move(attrs));
  graph.bypass_node(*q);
  return true;
}

/// x's integers as int32 minus its zero point.
Value& centred_int32(Graph& graph, const Activation& x) {
  Attributes to;
  to.set("to", std::string("int32"));
  Value& wide = add_node(graph, "Cast", {x.values}, x.values->name() + "_int32", std::move(to));
  if (x.quantization.zero_point == 0) return wide;
  Value& zero = integer_constant(graph, x.values->name() + "_minus_zero_point", Shape{}, {-x.quantization.zero_point},
                                 DataType::Int32);
  return add_node(graph, "Add", {&wide, &zero}, x.values->name() + "_centred");
}

/// Mul of two activations (squeeze-excitation, x * HardSigmoid(x)): the int32 product of
/// the centred integers, requantized by s_a * s_b / s_y.
bool lower_product(Graph& graph, Node& mul) {
  const std::optional<Activation> a = dequantized(mul.input(0));
  const std::optional<Activation> b = dequantized(mul.input(1));
  Node* q = sole_quantizer(graph, mul);
  if (!a || !b || q == nullptr) return false;
  Value& product =
      add_node(graph, "Mul", {&centred_int32(graph, *a), &centred_int32(graph, *b)}, mul.name() + "_int32");
  requantize_into(graph, *q, product, {a->quantization.scale * b->quantization.scale / per_tensor(*q)->scale}, 1);
  graph.remove_node(mul);
  return true;
}

/// A BatchNormalization no Conv absorbed (inference: a[c] * x + b[c]): a fine sum of x by
/// a[c] plus b[c], requantized once.
bool lower_batch_norm(Graph& graph, Node& bn) {
  const std::optional<Activation> x = dequantized(bn.input(0));
  Node* q = bn.outputs().size() == 1 ? sole_quantizer(graph, bn) : nullptr;
  if (!x || q == nullptr || x->values->shape().rank() < 2) return false;
  const auto channels = static_cast<std::size_t>(x->values->shape()[1]);
  std::vector<std::vector<double>> parameters; // scale, bias, mean, variance
  for (std::size_t i = 1; i <= 4; ++i) {
    std::optional<std::vector<double>> values = constant_values(bn.input(i));
    if (!values || values->size() != channels) return false;
    parameters.push_back(std::move(*values));
  }
  const double epsilon = bn.attr<double>("epsilon");
  const double to_output = 1.0 / per_tensor(*q)->scale;
  std::vector<double> factor, bias;
  for (std::size_t c = 0; c < parameters[0].size(); ++c) {
    const double a = parameters[0][c] / std::sqrt(parameters[3][c] + epsilon);
    factor.push_back(a * to_output);
    bias.push_back((parameters[1][c] - parameters[2][c] * a) * to_output * fine);
  }
  if (!FineSum::fits(*x, factor)) return false;
  FineSum sum(graph, bn.name());
  sum.add(*x, factor);
  sum.add_constant(bias);
  requantize_into(graph, *q, sum.finish(x->values->shape().rank()), {1.0 / fine}, 1);
  graph.remove_node(bn);
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
  graph.replace_node(*q, "Requantize", {x->values},
                     requantize_attributes({1.0}, 1, as_integer(lo), as_integer(hi), quantization.type));
  graph.remove_node(node);
  return true;
}

/// An elementwise function of one activation (function_operand: Sigmoid, HardSwish, Tanh,
/// x * 0.5, ...): a TableLookup of the 256 results of DequantizeLinear -> the function ->
/// QuantizeLinear, the file's own nodes, so it is exact.
bool lower_function(Graph& graph, Node& node, const std::vector<std::string>& backends) {
  const std::optional<std::size_t> operand = function_operand(node);
  if (!operand) return false;
  const std::optional<Activation> x = dequantized(node.input(*operand));
  Node* q = sole_quantizer(graph, node);
  if (!x || q == nullptr) return false;
  const auto through = [](const Node& step) {
    return [&step](Graph& table, const std::string& from) {
      std::vector<std::string> inputs{from};
      for (std::size_t i = 1; i < step.inputs().size(); ++i) {
        inputs.push_back(step.input(i)->name());
        if (table.find_value(inputs.back()) == nullptr) table.add_constant(inputs.back(), *step.input(i)->constant());
      }
      const std::string to = table.unique_name(step.op_type());
      table.add_node(step.op_type(), inputs, {to}, step.attrs());
      return to;
    };
  };
  const DataType type = x->values->dtype();
  const auto dequantize = [&](Graph& table, const std::string& from) {
    Attributes to;
    to.set("to", std::string(name(type)));
    table.add_node("Cast", {from}, {"integers"}, std::move(to)); // tabulate's values are float32
    return through(*node.input(*operand)->producer())(table, "integers");
  };
  const Tensor table = tabulate(node, *operand, type, backends, dequantize, through(*q));
  Value& constant = graph.add_constant(graph.unique_name(node.name() + "_table"), table);
  graph.replace_node(*q, "TableLookup", {x->values, &constant});
  graph.remove_node(node);
  return true;
}

bool lower_pass_through(Graph& graph, Node& node) {
  Node* q = sole_quantizer(graph, node);
  if (q == nullptr) return false;
  const Quantization out = *per_tensor(*q);
  const bool concat = node.op_type() == "Concat";
  std::vector<Value*> inputs = node.inputs();
  std::vector<std::optional<Activation>> rescale(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    // Shapes, axes and indices (int64, constant or computed) are not quantized values.
    if (inputs[i] == nullptr || (i > 0 && !concat && inputs[i]->dtype() != DataType::Float32)) continue;
    const std::optional<Activation> x = dequantized(inputs[i]);
    if (!x) return false;
    if (x->quantization == out && x->values->dtype() == out.type) {
      inputs[i] = x->values;
      continue;
    }
    // Concat's inputs on other scales are requantized to its output's first.
    if (!concat || !FineSum::fits(*x, {1.0 / out.scale})) return false;
    rescale[i] = x;
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!rescale[i]) continue;
    FineSum sum(graph, rescale[i]->values->name() + "_rescaled");
    sum.add(*rescale[i], {1.0 / out.scale});
    inputs[i] = &requantized(graph, sum.finish(inputs[i]->shape().rank()), {1.0 / fine}, 1, out, nullptr,
                             rescale[i]->values->name() + "_rescaled");
  }
  Attributes attrs = node.attrs();
  graph.replace_node(node, node.op_type(), inputs, std::move(attrs));
  graph.bypass_node(*q);
  return true;
}

bool lower(Graph& graph, Node& node, const std::vector<std::string>& backends) {
  static const std::set<std::string> affine{"Conv", "Gemm", "MatMul"};
  static const std::set<std::string> pass_through{"MaxPool",   "Reshape",  "Flatten", "Squeeze", "Unsqueeze",
                                                  "Transpose", "Identity", "Concat",  "Slice"};
  const std::string& op = node.op_type();
  if (affine.contains(op)) return lower_affine(graph, node);
  if (op == "Add" && lower_add(graph, node)) return true;
  if (op == "Mul" && lower_product(graph, node)) return true;
  if (op == "BatchNormalization") return lower_batch_norm(graph, node);
  if (op == "GlobalAveragePool" || op == "AveragePool" || is_global_mean(node)) return lower_average_pool(graph, node);
  if (op == "Pad") return lower_pad(graph, node);
  if (op == "Relu" || op == "Clip") return lower_clamp(graph, node);
  if (pass_through.contains(op)) return lower_pass_through(graph, node);
  return lower_function(graph, node, backends);
}

} // namespace

void qdq_to_integer(Graph& graph, PassContext& /*context*/, const Options& options) {
  graph.infer_shapes();
  drop_shifting_zero_points(graph);
  // By name: a lowering removes the QuantizeLinear after its node, which comes later.
  std::vector<std::string> order;
  for (const Node* node : graph.topological_order()) order.push_back(node->name());
  for (const std::string& name : order) {
    Node* node = graph.find_node(name);
    if (node != nullptr && lower(graph, *node, options.backends))
      graph.infer_shapes(); // later matches read the new dtypes
  }
  remove_dead_nodes(graph); // the DequantizeLinear nodes (and their Identity readers) left unread
  graph.infer_shapes();
}

} // namespace tern::ptq
