#include <tern/recipes.hpp>

#include <cmath>
#include <optional>

namespace tern {
namespace {

const Tensor* float_constant(const Value* value) {
  return value != nullptr && value->constant() && value->dtype() == DataType::Float32 ? value->constant() : nullptr;
}

/// Per-channel factor scale / sqrt(var + eps) and shift B - mean * factor of a BN node;
/// empty when a parameter is not a float constant.
struct Affine {
  std::vector<double> factor, shift;
};

std::optional<Affine> batchnorm_affine(const Node& bn) {
  const Tensor* scale = float_constant(bn.input(1));
  const Tensor* bias = float_constant(bn.input(2));
  const Tensor* mean = float_constant(bn.input(3));
  const Tensor* var = float_constant(bn.input(4));
  if (!scale || !bias || !mean || !var) return std::nullopt;
  const double eps = bn.attr<double>("epsilon");
  const auto s = scale->to_doubles(), b = bias->to_doubles(), m = mean->to_doubles(), v = var->to_doubles();
  Affine affine;
  for (std::size_t c = 0; c < s.size(); ++c) {
    affine.factor.push_back(s[c] / std::sqrt(v[c] + eps));
    affine.shift.push_back(b[c] - m[c] * affine.factor.back());
  }
  return affine;
}

/// The folded bias: old_bias * factor + shift (old_bias may be absent: zero).
Tensor folded_bias(const Tensor* old_bias, double old_scale, const Affine& bn) {
  const std::size_t channels = bn.factor.size();
  const std::vector<double> old = old_bias ? old_bias->to_doubles() : std::vector<double>(channels, 0.0);
  std::vector<float> bias(channels);
  for (std::size_t c = 0; c < channels; ++c)
    bias[c] = static_cast<float>(old_scale * old[c] * bn.factor[c] + bn.shift[c]);
  return Tensor::from_floats(Shape{static_cast<std::int64_t>(channels)}, bias);
}

/// Scales the weights of output channel o by factor[o]; the channel is the leading axis
/// (Conv's W, Gemm's B with transB) or the trailing one (Gemm's B without transB).
Tensor scaled_weights(const Tensor& weights, const Affine& bn, bool channel_is_row) {
  Tensor result = weights.clone();
  float* w = result.data<float>();
  const auto channels = static_cast<std::int64_t>(bn.factor.size());
  const std::int64_t total = result.numel();
  for (std::int64_t i = 0; i < total; ++i) {
    const std::int64_t channel = channel_is_row ? i / (total / channels) : i % channels;
    w[i] = static_cast<float>(w[i] * bn.factor[static_cast<std::size_t>(channel)]);
  }
  return result;
}

bool fold_into(Graph& graph, Node& producer, Node& bn) {
  const std::optional<Affine> affine = batchnorm_affine(bn);
  const Tensor* weights = float_constant(producer.input(1));
  if (!affine || !weights) return false;
  const auto channels = static_cast<std::int64_t>(affine->factor.size());
  const Tensor* old_bias = float_constant(producer.input(2));
  if (producer.input(2) != nullptr && (!old_bias || old_bias->numel() != channels)) return false;

  Attributes attrs = producer.attrs();
  double old_scale = 1.0;
  bool channel_is_row = true; // Conv W is [Cout, ...]; Gemm B is [N, K] when transB
  if (producer.op_type() == "Gemm") {
    channel_is_row = producer.attr<std::int64_t>("transB") != 0;
    old_scale = producer.attr<double>("beta");
    attrs.set("beta", 1.0); // the folded bias already holds beta * C
  }
  const std::int64_t weight_channels = weights->shape()[channel_is_row ? 0 : weights->shape().rank() - 1];
  if (weight_channels != channels) return false;

  Value& new_weights = graph.add_constant(graph.unique_name(producer.input(1)->name() + "_bnfold"),
                                          scaled_weights(*weights, *affine, channel_is_row));
  Value& new_bias = graph.add_constant(graph.unique_name(producer.name() + "_bias_bnfold"),
                                       folded_bias(old_bias, old_scale, *affine));
  Node& folded =
      graph.replace_node(producer, producer.op_type(), {producer.input(0), &new_weights, &new_bias}, std::move(attrs));
  // The BN's meta describes the value the folded node now produces (e.g. a network
  // output's precision tag): it overrides the producer's.
  for (const auto& [key, value] : bn.meta().all()) folded.meta().set(key, value);
  graph.bypass_node(bn);
  return true;
}

/// The depthwise 1x1 Conv computing `bn` over an input of `rank` dimensions.
void turn_into_conv(Graph& graph, Node& bn, const Affine& affine, std::size_t rank) {
  const auto channels = static_cast<std::int64_t>(affine.factor.size());
  std::vector<std::int64_t> weight_dims(rank, 1);
  weight_dims[0] = channels;
  const std::vector<float> weights(affine.factor.begin(), affine.factor.end());
  const std::vector<float> bias(affine.shift.begin(), affine.shift.end());
  Value& w = graph.add_constant(graph.unique_name(bn.name() + "_w"), Tensor::from_floats(Shape(weight_dims), weights));
  Value& b = graph.add_constant(graph.unique_name(bn.name() + "_b"), Tensor::from_floats(Shape{channels}, bias));
  Attributes attrs;
  attrs.set("group", channels);
  attrs.set("kernel_shape", std::vector<std::int64_t>(rank - 2, 1));
  graph.replace_node(bn, "Conv", {bn.input(0), &w, &b}, std::move(attrs));
}

} // namespace

std::size_t batchnorm_as_conv(Graph& graph) {
  graph.infer_shapes();
  std::size_t turned = 0;
  for (Node* bn : graph.nodes()) {
    if (bn->op_type() != "BatchNormalization" || bn->outputs().size() != 1) continue;
    const Shape& x = bn->input(0)->shape();
    const std::optional<Affine> affine = batchnorm_affine(*bn);
    if (!affine || x.rank() < 3 || x[1] != static_cast<std::int64_t>(affine->factor.size())) continue;
    turn_into_conv(graph, *bn, *affine, x.rank());
    ++turned;
  }
  return turned;
}

std::size_t fold_batchnorm(Graph& graph) {
  graph.infer_shapes();
  std::size_t folded = 0;
  for (Node* bn : graph.nodes()) {
    if (bn->op_type() != "BatchNormalization") continue;
    Value* x = bn->input(0);
    Node* producer = x->producer();
    if (producer == nullptr || (producer->op_type() != "Conv" && producer->op_type() != "Gemm")) continue;
    if (graph.is_output(*x) || graph.consumers(*x).size() != 1) continue;
    if (fold_into(graph, *producer, *bn)) ++folded;
  }
  return folded;
}

} // namespace tern
