#include "bias_correction.hpp"

#include "column_means.hpp"
#include "quantize_graph.hpp"

#include <tern/error.hpp>
#include <tern/scheduler.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

namespace tern::ptq {
namespace {

/// An operand quantize made as Clip(Round(Mul(source, factor)), lo, hi).
struct QuantizedOperand {
  Value* source = nullptr;    ///< the float constant
  std::vector<double> factor; ///< one, or one per output channel
  double lo = 0.0, hi = 0.0;  ///< the Clip's bounds
};

const Tensor* constant_input(const Node& node, std::size_t index) {
  const Value* value = node.input(index);
  return value == nullptr ? nullptr : value->constant();
}

std::optional<QuantizedOperand> traced(const Value* value) {
  const Node* clip = value == nullptr ? nullptr : value->producer();
  if (clip == nullptr || clip->op_type() != "Clip" || clip->inputs().size() != 3) return std::nullopt;
  const Node* round = clip->input(0)->producer();
  if (round == nullptr || round->op_type() != "Round") return std::nullopt;
  const Node* mul = round->input(0)->producer();
  if (mul == nullptr || mul->op_type() != "Mul") return std::nullopt;
  const Tensor* lo = constant_input(*clip, 1);
  const Tensor* hi = constant_input(*clip, 2);
  const Tensor* factor = constant_input(*mul, 1);
  if (lo == nullptr || hi == nullptr || factor == nullptr || constant_input(*mul, 0) == nullptr) return std::nullopt;
  return QuantizedOperand{mul->input(0), factor->to_doubles(), lo->to_doubles().at(0), hi->to_doubles().at(0)};
}

/// Which output channel and which ColumnMeans column each weight of an affine node connects.
class WeightIndex {
public:
  WeightIndex(const Node& node, const Shape& shape) {
    conv_ = node.op_type() == "Conv";
    transposed_ = !conv_ && node.attr<std::int64_t>("transB") != 0;
    outputs_ = static_cast<std::size_t>(conv_ || transposed_ ? shape[0] : shape[1]);
    fan_in_ = static_cast<std::size_t>(shape.numel()) / outputs_;
    groups_ = conv_ ? static_cast<std::size_t>(node.attr<std::int64_t>("group")) : 1;
  }

  std::size_t outputs() const { return outputs_; }
  std::size_t columns() const { return fan_in_ * groups_; }

  /// (output channel, column) of weight i.
  std::pair<std::size_t, std::size_t> operator()(std::size_t i) const {
    if (conv_) {
      const std::size_t out = i / fan_in_;
      return {out, (out / (outputs_ / groups_)) * fan_in_ + i % fan_in_};
    }
    if (transposed_) return {i / fan_in_, i % fan_in_};
    return {i % outputs_, i / outputs_};
  }

private:
  bool conv_ = false, transposed_ = false;
  std::size_t outputs_ = 0, fan_in_ = 0, groups_ = 1;
};

double per_channel(const std::vector<double>& values, std::size_t channel) {
  return values[values.size() == 1 ? 0 : channel];
}

/// One affine node to correct and what its correction is computed from.
struct Target {
  Node* node = nullptr;
  QuantizedOperand weights, bias;
  std::vector<double> float_bias;    ///< the bias quantize started from
  std::vector<double> float_product; ///< per output channel, E[W x] of the float network
};

std::optional<Target> target_of(Node& node) {
  if (!node.meta().has(input_means_key)) return std::nullopt;
  const std::vector<double> means = node.meta().get<std::vector<double>>(input_means_key);
  node.meta().erase(input_means_key);
  std::optional<QuantizedOperand> weights = traced(node.input(1));
  std::optional<QuantizedOperand> bias = traced(node.input(2));
  if (!weights || !bias) return std::nullopt;
  const Tensor& w = *weights->source->constant();
  const WeightIndex index(node, w.shape());
  if (index.columns() != means.size() || static_cast<std::size_t>(bias->source->constant()->numel()) != index.outputs())
    return std::nullopt;
  Target target{&node, std::move(*weights), std::move(*bias), {}, std::vector<double>(index.outputs(), 0.0)};
  target.float_bias = target.bias.source->constant()->to_doubles();
  const std::vector<double> values = w.to_doubles();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto [out, in] = index(i);
    target.float_product[out] += values[i] * means[in];
  }
  return target;
}

/// E[W̃ x̃] per output channel in real units, from the quantized input's channel means.
std::vector<double> quantized_product(const Target& target, const std::vector<double>& input_means) {
  const Tensor& w = *target.weights.source->constant();
  const WeightIndex index(*target.node, w.shape());
  const std::vector<double> values = w.to_doubles();
  std::vector<double> product(index.outputs(), 0.0);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto [out, in] = index(i);
    const double integer = std::clamp(std::nearbyint(values[i] * per_channel(target.weights.factor, out)),
                                      target.weights.lo, target.weights.hi);
    product[out] += integer * input_means.at(in);
  }
  // The accumulator's units are the bias's integer units: divide by the bias factor.
  for (std::size_t c = 0; c < product.size(); ++c) product[c] /= per_channel(target.bias.factor, c);
  return product;
}

/// The quantized network as it runs on float inputs: the input scaling quantize recorded in
/// the graph's meta (scale, clamp, round), put in front as nodes.
Graph runnable(const Graph& graph) {
  Graph run = graph.clone();
  const auto number = [&](const char* key) { return std::stof(run.meta().get<std::string>(key)); };
  const float scale = number(input_scale_key), limit = number(input_limit_key);
  const bool round = run.meta().get<std::string>(input_round_key) == "1";
  const auto scalar = [&](const std::string& base, float value) -> Value* {
    return &run.add_constant(run.unique_name(base), Tensor::from_floats(Shape{}, {value}));
  };
  for (Value* input : run.inputs()) {
    Value* last = run.insert_after(*input, "Mul", {}, {scalar("input_scale", scale)}).output();
    last = run.insert_after(*last, "Clip", {}, {scalar("input_lo", -limit), scalar("input_hi", limit)}).output();
    if (round) run.insert_after(*last, "Round");
  }
  return run;
}

/// Targets in waves: a wave's nodes read nothing another target of the same or a later wave
/// computes, so one run of the network measures the whole wave after every earlier wave
/// was corrected.
std::vector<std::vector<const Target*>> waves_of(const Graph& graph, const std::vector<Target>& targets) {
  std::map<const Node*, const Target*> target_of_node;
  for (const Target& target : targets) target_of_node[target.node] = &target;
  std::map<const Value*, std::size_t> level; // targets on the longest path to a value
  std::vector<std::vector<const Target*>> waves;
  for (const Node* node : graph.topological_order()) {
    std::size_t depth = 0;
    for (const Value* input : node->inputs())
      if (input != nullptr && level.contains(input)) depth = std::max(depth, level.at(input));
    const auto target = target_of_node.find(node);
    if (target != target_of_node.end()) {
      if (waves.size() <= depth) waves.resize(depth + 1);
      waves[depth].push_back(target->second);
      ++depth;
    }
    for (const Value* output : node->outputs()) level[output] = depth;
  }
  return waves;
}

/// Runs the quantized network over the calibration set; the column means of what each
/// node of `wave` reads.
std::map<std::string, std::vector<double>> measure(const Graph& graph, const std::vector<const Target*>& wave,
                                                   PassContext& context, const Options& options) {
  Graph run = runnable(graph);
  SequentialScheduler scheduler(run, options.backends);
  std::map<std::string, ColumnMeans> means;
  for (const Target* target : wave) {
    const Node& node = *run.find_node(target->node->name());
    ColumnMeans& column_means =
        means.try_emplace(node.name(), node, target->weights.source->constant()->shape()).first->second;
    scheduler.observe(node.input(0)->name(), [&column_means](const Value&, const Tensor& tensor) {
      column_means.add(tensor.backend().host_accessible() ? tensor : tensor.to(host_backend()));
    });
  }
  for (std::size_t batch = 0; batch < context.calibration_batches; ++batch)
    scheduler.forward(context.calibration_batch(batch));
  std::map<std::string, std::vector<double>> result;
  for (const auto& [name, column_means] : means) result[name] = column_means.means();
  return result;
}

} // namespace

void correct_biases(Graph& graph, PassContext& context, const Options& options) {
  std::vector<Target> targets;
  for (Node* node : graph.topological_order())
    if (std::optional<Target> target = target_of(*node)) targets.push_back(std::move(*target));
  if (targets.empty()) return;
  check(context.calibration_batches > 0 && context.calibration_batch != nullptr,
        "bias correction runs the quantized network: it needs the calibration set (got none)");

  const std::vector<std::vector<const Target*>> waves = waves_of(graph, targets);
  for (const std::vector<const Target*>& wave : waves) {
    const std::map<std::string, std::vector<double>> means = measure(graph, wave, context, options);
    for (const Target* target : wave) {
      const std::vector<double> product = quantized_product(*target, means.at(target->node->name()));
      std::vector<double> corrected = target->float_bias;
      for (std::size_t c = 0; c < corrected.size(); ++c) corrected[c] += target->float_product[c] - product[c];
      const Tensor& bias = *target->bias.source->constant();
      graph.set_constant(*target->bias.source,
                         Tensor::from_floats(bias.shape(), std::vector<float>(corrected.begin(), corrected.end())));
    }
  }
  if (context.log)
    context.log("  bias correction: " + std::to_string(targets.size()) + " node(s) in " + std::to_string(waves.size()) +
                " run(s) of the quantized network over the calibration set");
}

} // namespace tern::ptq
