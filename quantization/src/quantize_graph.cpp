#include "quantize_graph.hpp"

#include "bias_correction.hpp"
#include "op_roles.hpp"
#include "ranges.hpp"
#include "value_format.hpp"

#include <tern/error.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace tern::ptq {
namespace {

std::string number(double value, int digits = 6) {
  std::ostringstream text;
  text.precision(digits);
  text << value;
  return text.str();
}

/// The weights grouped by output channel along `axis` (one group when not per channel).
std::vector<std::vector<double>> weight_groups(const Tensor& weights, int axis, bool per_channel) {
  const std::vector<double> values = weights.to_doubles();
  const Shape& shape = weights.shape();
  const std::int64_t channels = shape[axis];
  std::int64_t inner = 1;
  for (std::size_t d = static_cast<std::size_t>(axis) + 1; d < shape.rank(); ++d) inner *= shape[d];
  std::vector<std::vector<double>> groups(per_channel ? static_cast<std::size_t>(channels) : 1);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto channel = static_cast<std::size_t>((static_cast<std::int64_t>(i) / inner) % channels);
    groups[per_channel ? channel : 0].push_back(values[i]);
  }
  return groups;
}

/// The clipping threshold of a weight group with the least squared rounding error on
/// `levels` steps per side: below 8 bits clipping the few largest weights pays off a lot;
/// at 8 bits it measured no better than keeping them (so it is not done there). Candidates
/// from half the largest |w| up to it. Clipping mode "max" clips nothing, weights included.
double weight_threshold(const std::vector<double>& group, std::int64_t levels, bool search) {
  double maximum = 0;
  for (const double w : group) maximum = std::max(maximum, std::abs(w));
  if (!search || maximum == 0) return maximum;
  constexpr int candidates = 64;
  double best = maximum;
  double best_error = INFINITY;
  for (int k = candidates; k >= candidates / 2; --k) {
    const double threshold = maximum * k / candidates;
    const double step = threshold / static_cast<double>(levels);
    double error = 0;
    for (const double w : group) {
      const double q =
          std::clamp(std::nearbyint(w / step), -static_cast<double>(levels), static_cast<double>(levels)) * step;
      error += (w - q) * (w - q);
    }
    if (error < best_error) {
      best_error = error;
      best = threshold;
    }
  }
  return best;
}

class GraphQuantizer {
public:
  GraphQuantizer(Graph& graph, PassContext& context, const Options& options)
      : graph_(graph), context_(context), options_(options) {}

  void run() {
    graph_.infer_shapes();
    check_float_nodes(graph_, options_.keep_float);
    for (Value* input : graph_.inputs()) quantize_input(*input);
    // Roles are read off the graph as it came: the rewrites below leave new values untyped
    // until the end, and some roles depend on shapes.
    std::vector<std::pair<Node*, Role>> roles;
    for (Node* node : graph_.topological_order()) roles.emplace_back(node, role_of(graph_, *node));
    for (const auto& [node, role] : roles) {
      if (removed_.contains(node)) continue;
      switch (role) {
      case Role::Affine: affine(*node); break;
      case Role::Merge: merge(*node); break;
      case Role::Concat: concat(*node); break;
      case Role::Average: average(*node); break;
      case Role::PassThrough: pass_through(*node); break;
      case Role::Interpolate: interpolate(*node); break;
      case Role::Activation: activation(*node); break;
      case Role::Lookup: lookup(*node); break;
      case Role::Product: product(*node); break;
      case Role::Scale: scale(*node); break;
      case Role::Shape: break;
      case Role::FloatIsland:
      case Role::Float: float_node(*node); break;
      }
    }
    dequantize_outputs();
    clear_statistics(graph_);
    graph_.infer_shapes();
  }

private:
  struct Quantized {
    double scale = 1; ///< real value = integer · scale
    IntRange range;
  };

  // ---- building blocks -------------------------------------------------------------

  Value& constant(const std::string& base, const std::vector<double>& values, Shape shape) {
    std::vector<float> data(values.begin(), values.end());
    return graph_.add_constant(graph_.unique_name(base), Tensor::from_floats(std::move(shape), data));
  }

  Value& scalar(const std::string& base, double value) { return constant(base, {value}, Shape{}); }

  /// Factors along `axis` of a tensor of rank `rank` (a scalar when there is one factor).
  Value& factors(const std::string& base, const std::vector<double>& values, std::size_t rank, std::size_t axis) {
    if (std::all_of(values.begin(), values.end(), [&](double v) { return v == values[0]; }))
      return scalar(base, values[0]);
    std::vector<std::int64_t> dims(rank, 1);
    dims[axis] = static_cast<std::int64_t>(values.size());
    return constant(base, values, Shape(dims));
  }

  /// A new node reading `inputs`, its output a fresh value; other readers are untouched.
  Value& add(const std::string& op, const std::vector<Value*>& inputs, const std::string& base) {
    std::vector<std::string> names;
    for (const Value* input : inputs) names.push_back(input->name());
    return *graph_.add_node(op, names, {graph_.unique_name(base)}).output();
  }

  Value& round_clip(Value& value, IntRange range, const std::string& base) {
    if (options_.no_quant) return value;
    Value& rounded = add("Round", {&value}, base + "_round");
    return add("Clip",
               {&rounded, &scalar(base + "_lo", static_cast<double>(range.lo)),
                &scalar(base + "_hi", static_cast<double>(range.hi))},
               base + "_q");
  }

  void set_input(Node& node, std::size_t index, Value& value) {
    std::vector<Value*> inputs = node.inputs();
    if (inputs.size() <= index) inputs.resize(index + 1, nullptr);
    inputs[index] = &value;
    Attributes attrs = node.attrs();
    graph_.replace_node(node, node.op_type(), inputs, std::move(attrs));
  }

  /// Puts [Mul(factor) →] Round → Clip behind `value` for every reader; returns the last value.
  Value& requantize_in_place(Value& value, Value* factor, IntRange range) {
    Value* last = &value;
    if (factor != nullptr) last = graph_.insert_after(*last, "Mul", {}, {factor}).output();
    if (options_.no_quant) return *last;
    last = graph_.insert_after(*last, "Round").output();
    const std::string base = value.name();
    return *graph_
                .insert_after(*last, "Clip", {},
                              {&scalar(base + "_lo", static_cast<double>(range.lo)),
                               &scalar(base + "_hi", static_cast<double>(range.hi))})
                .output();
  }

  // ---- formats -----------------------------------------------------------------------

  /// The format of value `point`, recorded on `owner` (the node whose output it quantizes;
  /// point may be a later activation's output) when there is one.
  Quantized output_format(const Value& point, Node* owner) {
    const ValueFormat format = value_format(graph_, point, options_);
    const ValueRange range = stored_range(graph_, point);
    const double clip = range.clip > 0 ? range.clip : 1.0;
    const Quantized quantized{clip / static_cast<double>(format.range.hi), format.range};
    if (owner) record_output_facts(*owner, range, clip, quantized.scale);
    return quantized;
  }

  /// The facts behind a node's output format, kept on the node (strings, like its precision
  /// tags) for whoever looks at the quantized graph: `tern explore`, `tern quantize --explore`.
  void record_output_facts(Node& node, const ValueRange& range, double clip, double scale) {
    node.meta().set("quantization.ptq.range", "[" + number(range.min) + ", " + number(range.max) + "]");
    node.meta().set("quantization.ptq.clip", number(clip));
    node.meta().set("quantization.ptq.clipping", options_.clipping_mode);
    node.meta().set("quantization.ptq.scale", number(scale));
  }

  /// The quantized form of `node`'s input `index`: requantizes a float value first.
  Quantized quantized_input(Node& node, std::size_t index) {
    Value& value = *node.input(index);
    if (const auto found = quantized_.find(&value); found != quantized_.end()) return found->second;
    auto twin = requantized_.find(&value);
    if (twin == requantized_.end()) {
      const Quantized format = output_format(value, value.producer());
      Value& scaled =
          add("Mul", {&value, &scalar(value.name() + "_inv_scale", 1.0 / format.scale)}, value.name() + "_scaled");
      Value& integer = round_clip(scaled, format.range, value.name());
      record(integer, format);
      twin = requantized_.emplace(&value, &integer).first;
    }
    set_input(node, index, *twin->second);
    return quantized_.at(twin->second);
  }

  /// Folds a Relu/Clip tail into the range just set on `value` (quantized mode only).
  void absorb_tail(Node* tail, Value& value, Quantized& format) {
    if (tail == nullptr || options_.no_quant) return;
    const ActivationBounds bounds = activation_bounds(*tail);
    if (bounds.min) format.range.lo = std::max<std::int64_t>(format.range.lo, std::llround(*bounds.min / format.scale));
    if (bounds.max) format.range.hi = std::min<std::int64_t>(format.range.hi, std::llround(*bounds.max / format.scale));
    format.range.hi = std::max(format.range.hi, format.range.lo);
    Node& clip = *value.producer();
    set_input(clip, 1, scalar(value.name() + "_lo", static_cast<double>(format.range.lo)));
    set_input(clip, 2, scalar(value.name() + "_hi", static_cast<double>(format.range.hi)));
    graph_.bypass_node(*tail);
    removed_.insert(tail);
  }

  /// `integer`, a quantizer's output, has `format`; its Clip keeps the step (step_key).
  void record(Value& integer, const Quantized& format) {
    quantized_[&integer] = format;
    Node* clip = integer.producer();
    if (clip != nullptr && clip->op_type() == "Clip") clip->meta().set(step_key, number(format.scale, 17));
  }

  void report(const Node& node, const Quantized& format, const std::string& detail) {
    if (!context_.log) return;
    context_.log("  " + node.name() + " (" + node.op_type() + "): scale " + number(format.scale) + ", integers [" +
                 std::to_string(format.range.lo) + ", " + std::to_string(format.range.hi) + "]" + detail);
  }

  // ---- the roles ---------------------------------------------------------------------

  void quantize_input(Value& input) {
    const ValueFormat format = value_format(graph_, input, options_);
    const double limit = static_cast<double>(format.range.hi);
    // The seed's convention: inputs in [-1, 1] times 2^(n-1)-1. Wider inputs are divided
    // by their calibrated range as well, so that they still fit.
    const double range = std::max(1.0, stored_range(graph_, input).abs_max);
    quantized_[&input] = {range / limit, format.range};
    graph_.meta().set(input_scale_key, number(limit / range, 17));
    graph_.meta().set(input_limit_key, number(limit, 17));
    graph_.meta().set(input_round_key, std::string(options_.no_quant ? "0" : "1"));
    if (context_.log)
      context_.log("  input " + input.name() + ": multiply by " + number(limit / range) +
                   (options_.no_quant ? "" : ", round") + " (tern::ptq::scale_input does it)");
  }

  void affine(Node& node) {
    const Quantized input = quantized_input(node, 0);
    const Tensor weights = *node.input(1)->constant();
    // Output channels: W's axis 0 for Conv and Gemm(transB), 1 for ConvTranspose ([C, M, k...])
    // and Gemm; Y's axis 1 for the convolutions.
    const bool conv = node.op_type() == "Conv" || node.op_type() == "ConvTranspose";
    const bool transposed = node.op_type() == "Gemm" && node.attr<std::int64_t>("transB") != 0;
    const int axis = node.op_type() == "Conv" || transposed ? 0 : 1;
    // A grouped ConvTranspose's W axis 1 holds the channels of one group only: one scale.
    const bool per_channel =
        options_.per_channel && !(node.op_type() == "ConvTranspose" && node.attr<std::int64_t>("group") > 1);
    const unsigned weight_bits = info(tagged_precision(node, weight_precision_key)).bits;
    const IntRange weight_range = int_range(options_.reduce_range && weight_bits == 8 ? 7 : weight_bits, false);
    std::vector<double> maxima;
    for (const auto& group : weight_groups(weights, axis, per_channel))
      maxima.push_back(weight_threshold(
          group, weight_range.hi, !options_.no_quant && options_.clipping_mode != "max" && weight_range.hi < 127));
    if (!per_channel) maxima.resize(static_cast<std::size_t>(weights.shape()[axis]), maxima[0]);
    const IntRange bias_range = int_range(info(tagged_precision(node, accumulation_precision_key)).bits, false);

    Node* tail = options_.no_quant ? nullptr : activation_tail(graph_, *node.output());
    Quantized output = output_format(quantization_point(graph_, node), &node);
    // A network output tagged at the accumulation precision is the accumulator itself: it
    // is only dequantized (no rescale to round, no clipping).
    const bool accumulator_output =
        graph_.is_output(*node.output()) &&
        tagged_precision(node, precision_key) == tagged_precision(node, accumulation_precision_key);
    std::vector<double> weight_factor;
    std::vector<double> bias_factor;
    std::vector<double> multiplier;
    for (const double maximum : maxima) {
      const double weight_scale = maximum > 0 ? maximum / static_cast<double>(weight_range.hi) : 1.0;
      double rescale = input.scale * weight_scale / (accumulator_output ? 1.0 : output.scale);
      double compensation = 1.0;
      if (options_.single_shift && !options_.no_quant && !accumulator_output) {
        // Round the rescale up to a power of two; the weights absorb the ratio (≤ 1, so
        // they stay in range) and the rescale becomes a plain shift.
        const double shift = std::exp2(std::ceil(std::log2(rescale)));
        compensation = rescale / shift;
        rescale = shift;
      }
      weight_factor.push_back(compensation / weight_scale);
      bias_factor.push_back(compensation / (input.scale * weight_scale));
      multiplier.push_back(rescale);
    }

    const std::string base = node.name().empty() ? node.output()->name() : node.name();
    Value& weight_scaled = add("Mul",
                               {node.input(1), &factors(base + "_wscale", weight_factor, weights.shape().rank(),
                                                        static_cast<std::size_t>(axis))},
                               base + "_w_scaled");
    set_input(node, 1, round_clip(weight_scaled, weight_range, base + "_w"));
    Value* bias = node.input(2);
    const auto means = stored_means(graph_, node.name());
    // Below 8 bits of resolution only: at 8 bits the mean shift is smaller than what the
    // calibration set measures it to (mobilenet_tiny W8A8 on 10,000 images moved by ±0.15
    // point either way). A signed 8-bit input that a ReLU clamps at 0 has 128 steps, 7 bits:
    // it is corrected (resnet_tiny W8A8 with single_shift loses 0.7 point otherwise).
    const bool below_eight_bits = weight_range.hi < 127 || input.range.hi - input.range.lo < 254;
    if (means && below_eight_bits && options_.bias_correction && !options_.no_quant && node.op_type() != "MatMul") {
      // correct_biases shifts the bias after running the quantized network: give it one.
      if (bias == nullptr)
        bias = &constant(base + "_bias", std::vector<double>(maxima.size(), 0.0),
                         Shape{static_cast<std::int64_t>(maxima.size())});
      node.meta().set(input_means_key, *means);
    }
    if (bias != nullptr) {
      Value& bias_scaled = add("Mul", {bias, &factors(base + "_bscale", bias_factor, 1, 0)}, base + "_b_scaled");
      set_input(node, 2, round_clip(bias_scaled, bias_range, base + "_b"));
    }
    Value& out = *node.output();
    const std::size_t rank = out.shape().rank();
    Value& rescale = factors(base + "_rescale", multiplier, rank, conv ? 1 : rank - 1);
    if (accumulator_output) {
      graph_.insert_after(out, "Mul", {}, {&rescale});
      if (context_.log)
        context_.log("  " + node.name() + " (" + node.op_type() + "): network output, the accumulator dequantized (x" +
                     number(multiplier.front()) + (per_channel ? " per channel)" : ")"));
      return;
    }
    Value& quantized = requantize_in_place(out, &rescale, output.range);
    absorb_tail(tail, quantized, output);
    record(quantized, output);
    const auto [low, high] = std::minmax_element(multiplier.begin(), multiplier.end());
    report(node, output,
           ", weights ±" + std::to_string(weight_range.hi) + (per_channel ? " per channel" : "") + ", rescale " +
               number(*low) + (*low == *high ? "" : ".." + number(*high)));
  }

  void merge(Node& node) {
    Node* tail = options_.no_quant ? nullptr : activation_tail(graph_, *node.output());
    Quantized output = output_format(quantization_point(graph_, node), &node);
    for (std::size_t i = 0; i < 2; ++i) {
      const Quantized input = quantized_input(node, i);
      Value& operand = *node.input(i);
      set_input(node, i,
                add("Mul", {&operand, &scalar(operand.name() + "_to_sum", input.scale / output.scale)},
                    operand.name() + "_aligned"));
    }
    Value& quantized = requantize_in_place(*node.output(), nullptr, output.range);
    absorb_tail(tail, quantized, output);
    record(quantized, output);
    report(node, output, "");
  }

  void concat(Node& node) {
    const Quantized output = output_format(*node.output(), &node);
    for (std::size_t i = 0; i < node.inputs().size(); ++i) {
      const Quantized input = quantized_input(node, i);
      Value& operand = *node.input(i);
      Value& aligned = add("Mul", {&operand, &scalar(operand.name() + "_to_concat", input.scale / output.scale)},
                           operand.name() + "_aligned");
      Value& integer = round_clip(aligned, output.range, operand.name() + "_aligned");
      record(integer, output);
      set_input(node, i, integer);
    }
    quantized_[node.output()] = output;
    report(node, output, "");
  }

  /// Puts the output quantizer (with `factor` from the integers computed to the output's)
  /// behind `node`, folding its Relu/Clip tail in.
  void quantize_output(Node& node, double factor, const std::string& detail) {
    Node* tail = options_.no_quant ? nullptr : activation_tail(graph_, *node.output());
    Quantized output = output_format(quantization_point(graph_, node), &node);
    Value& quantized = requantize_in_place(
        *node.output(), &scalar(node.output()->name() + "_rescale", factor / output.scale), output.range);
    absorb_tail(tail, quantized, output);
    record(quantized, output);
    report(node, output, detail);
  }

  void average(Node& node) { quantize_output(node, quantized_input(node, 0).scale, ""); }

  /// Mul of two activations: the product of their integers, rescaled to the output's.
  void product(Node& node) {
    const double a = quantized_input(node, 0).scale;
    quantize_output(node, a * quantized_input(node, 1).scale, "");
  }

  /// Mul or Div by a constant along at most one axis: the constant joins the output's
  /// rescale, so the integer graph requantizes (per channel) instead of multiplying.
  void scale(Node& node) {
    const std::size_t operand = node.input(0)->constant() == nullptr ? 0 : 1;
    const Quantized input = quantized_input(node, operand);
    Value& x = *node.input(operand);
    const Tensor& constant = *node.input(1 - operand)->constant();
    Node* tail = options_.no_quant ? nullptr : activation_tail(graph_, *node.output());
    Quantized output = output_format(quantization_point(graph_, node), &node);
    std::vector<double> factor = constant.to_doubles();
    for (double& f : factor) f = (node.op_type() == "Div" ? 1.0 / f : f) * input.scale / output.scale;
    // The axis the constant varies along, counted in the output's dimensions (aligned on the
    // right; x's own value may be a new, untyped one).
    const Shape& shape = constant.shape();
    const std::size_t rank = node.output()->shape().rank();
    std::size_t axis = 0;
    for (std::size_t d = 0; d < shape.rank(); ++d)
      if (shape[d] != 1) axis = rank - shape.rank() + d;
    Value& rescale = factors(node.output()->name() + "_rescale", factor, rank, axis);
    graph_.replace_node(node, "Mul", {&x, &rescale});
    Value& quantized = requantize_in_place(*node.output(), nullptr, output.range);
    absorb_tail(tail, quantized, output);
    record(quantized, output);
    report(node, output, ", a rescale");
  }

  /// An elementwise function of one activation computes on its dequantized integers, and
  /// its result is quantized: cast_to_integer makes the three steps one table.
  void lookup(Node& node) {
    dequantize_inputs(node);
    quantize_output(node, 1.0, ", a table of " + node.op_type());
  }

  /// A linear Resize of integers: its blends rounded back to integers of the input's scale
  /// (the cpu backend's 8-bit Resize rounds alike).
  void interpolate(Node& node) {
    const Quantized input = quantized_input(node, 0);
    record(requantize_in_place(*node.output(), nullptr, input.range), input);
    report(node, input, ", blends rounded");
  }

  void pass_through(Node& node) {
    const Quantized input = quantized_input(node, 0);
    for (Value* output : node.outputs())
      if (output->dtype() == DataType::Float32) quantized_[output] = input;
  }

  /// A Relu or Clip on integers: its bounds move to integer units.
  void activation(Node& node) {
    Quantized format = quantized_input(node, 0);
    const ActivationBounds bounds = activation_bounds(node);
    const auto to_units = [&](double bound) {
      return options_.no_quant ? bound / format.scale : std::round(bound / format.scale);
    };
    if (node.op_type() == "Clip") {
      const std::string base = node.output()->name();
      if (bounds.min) set_input(node, 1, scalar(base + "_lo", to_units(*bounds.min)));
      if (bounds.max) set_input(node, 2, scalar(base + "_hi", to_units(*bounds.max)));
    }
    if (bounds.min) format.range.lo = std::max(format.range.lo, static_cast<std::int64_t>(to_units(*bounds.min)));
    if (bounds.max) format.range.hi = std::min(format.range.hi, static_cast<std::int64_t>(to_units(*bounds.max)));
    quantized_[node.output()] = format;
  }

  /// Each quantized input of `node` scaled back to real values.
  void dequantize_inputs(Node& node) {
    for (std::size_t i = 0; i < node.inputs().size(); ++i) {
      Value* operand = node.input(i);
      const auto found = operand ? quantized_.find(operand) : quantized_.end();
      if (found == quantized_.end()) continue;
      set_input(
          node, i,
          add("Mul", {operand, &scalar(operand->name() + "_scale", found->second.scale)}, operand->name() + "_real"));
    }
  }

  /// keep_float, and LayerNormalization always: the node computes on real values; its
  /// quantized inputs are scaled back, and its readers quantize its output.
  void float_node(Node& node) {
    dequantize_inputs(node);
    if (context_.log) context_.log("  " + node.name() + " (" + node.op_type() + "): kept in float");
  }

  void dequantize_outputs() {
    for (Value* output : std::vector<Value*>(graph_.outputs())) {
      const auto found = quantized_.find(output);
      if (found == quantized_.end()) continue;
      graph_.insert_after(*output, "Mul", {}, {&scalar(output->name() + "_scale", found->second.scale)});
    }
  }

  Graph& graph_;
  PassContext& context_;
  const Options& options_;
  std::map<const Value*, Quantized> quantized_;
  std::map<const Value*, Value*> requantized_;
  std::set<const Node*> removed_;
};

} // namespace

void quantize_normalized_network(Graph& graph, PassContext& context, const Options& options) {
  GraphQuantizer(graph, context, options).run();
}

} // namespace tern::ptq
