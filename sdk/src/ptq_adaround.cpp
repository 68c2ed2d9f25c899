// AdaRound (Nagel et al. 2020, "Up or Down? Adaptive Rounding for Post-Training
// Quantization") as a pass over the fake-quantized graph: for each affine layer, whether each
// integer weight rounds up or down is learnt by minimising the layer's output error on the
// calibration set, ||W X − W̃ X̃||², plus a regulariser that drives every choice to 0 or 1.
// X̃ is what the layer reads in the quantized network and X in the float one: the paper's
// asymmetric reconstruction, which lets the rounding make up for the error of the layers
// before (at 4-bit activations, the larger one).
//
// With δ = w̃ − w and e = x − x̃, one output channel's error is E[(w·e − δ·x̃)²] =
// δ H δᵀ − 2 δ·g + const with H = E[x̃ x̃ᵀ] and g = E[x̃ (w·e)] over the layer's im2col
// columns, so both are gathered once and each Adam step costs one K×K matrix-vector product
// per row, independent of the calibration set's size.
#include "ptq_graph_facts.hpp"

#include <tern/error.hpp>
#include <tern/ptq.hpp>
#include <tern/scheduler.hpp>
#include <tern/window.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace tern::ptq {
namespace {

using detail::meta_number;
using detail::quantizer_after;
using detail::scale_key;
using detail::step_of;

constexpr std::size_t batch_size = 50;
constexpr std::size_t max_columns = 20000; ///< input columns sampled per layer
constexpr double zeta = 1.1, gamma = -0.1; ///< the rectified sigmoid's stretch

/// One affine layer to re-round and what its rounding is measured on.
struct Layer {
  Node* node = nullptr;        ///< in the quantized graph
  std::string input;           ///< its input's name in the prepared (float) graph
  std::string quantized_input; ///< and in the quantized graph (integers of step input_step)
  double input_step = 1.0;
  bool conv = false;                ///< Conv (im2col columns) or Gemm/MatMul (rows of the input)
  bool rows = true;                 ///< W's output channels are its first axis (else its last)
  std::size_t channels = 0;         ///< output channels M
  std::size_t depth = 0;            ///< K: weights per output channel
  std::size_t groups = 1;           ///< Conv groups (one H per group)
  std::vector<std::int64_t> kernel; ///< Conv kernel sizes
  std::vector<double> weights;      ///< W, the float weights, as stored
  std::vector<double> integers;     ///< W_q, as stored
  std::vector<double> step;         ///< s_w per output channel
  std::vector<double> bias_unit;    ///< real value of one bias integer per output channel
  std::vector<double> float_bias;   ///< the float network's bias (zeros when it has none)
  double lo = 0.0, hi = 0.0;        ///< the integer range of the weights
  bool centred = false;             ///< bias corrected: measure about the mean, shift the bias
  // Statistics over the sampled columns (x̃ quantized, x float).
  std::vector<std::vector<double>> gram;      ///< per group, K×K, Σ x̃ x̃ᵀ
  std::vector<std::vector<double>> sum;       ///< per group, K, Σ x̃
  std::vector<std::vector<double>> float_sum; ///< per group, K, Σ x
  std::vector<double> cross;                  ///< per output channel, K, Σ x̃ (w·(x − x̃))
  std::size_t columns = 0;
  /// Few columns against K (a classifier over a small calibration set): the columns
  /// themselves (per group, each column's K values in a row) stand for H = X̃ X̃ᵀ / n.
  bool data = false;
  std::vector<std::vector<double>> kept;
  std::vector<std::vector<float>> fast; ///< H (or the columns) in float32 for the Adam steps
  std::mt19937 random;
  double keep = 1.0; ///< probability of sampling a column

  std::size_t index(std::size_t channel, std::size_t k) const {
    return rows ? channel * depth + k : k * channels + channel;
  }
};

std::optional<Layer> describe(const Graph& prepared, const Graph& quantized, Node& node,
                              const QuantizeOptions& options) {
  const std::string& op = node.op_type();
  if (op != "Conv" && op != "Gemm" && op != "MatMul") return std::nullopt;
  if (!node.meta().has(scale_key)) return std::nullopt;
  const Node* reference = prepared.find_node(node.name());
  if (reference == nullptr || reference->input(1) == nullptr || reference->input(1)->constant() == nullptr ||
      node.input(1) == nullptr || node.input(1)->constant() == nullptr)
    return std::nullopt;
  const double scale = meta_number(node, scale_key);
  const std::optional<detail::Quantizer> q = quantizer_after(quantized, node, scale);
  if (!q) return std::nullopt;
  const Tensor& w = *reference->input(1)->constant();
  const Tensor& w_q = *node.input(1)->constant();
  if (w.shape() != w_q.shape()) return std::nullopt;

  Layer layer;
  layer.node = &node;
  layer.input = reference->input(0)->name();
  layer.quantized_input = node.input(0)->name();
  const Shape& shape = w.shape();
  if (op == "Conv") {
    if (shape.rank() < 3) return std::nullopt;
    layer.conv = true;
    layer.channels = static_cast<std::size_t>(shape[0]);
    layer.groups = static_cast<std::size_t>(node.attr<std::int64_t>("group"));
    layer.depth = static_cast<std::size_t>(w.numel()) / layer.channels;
    layer.kernel.assign(shape.dims().begin() + 2, shape.dims().end());
    if (layer.groups == 0 || layer.channels % layer.groups != 0) return std::nullopt;
  } else {
    if (shape.rank() != 2) return std::nullopt;
    if (op == "Gemm" && node.attr<std::int64_t>("transA") != 0) return std::nullopt;
    layer.rows = op == "Gemm" && node.attr<std::int64_t>("transB") != 0;
    layer.channels = static_cast<std::size_t>(shape[layer.rows ? 0 : 1]);
    layer.depth = static_cast<std::size_t>(shape[layer.rows ? 1 : 0]);
  }
  if (q->rescale.size() != 1 && q->rescale.size() != layer.channels) return std::nullopt;

  // Quantized: y = (conv(x / s_in, W_q) + b_q) · rescale · s_out, so W = W_q · rescale · s_out / s_in
  // (an output left unrounded is in real units already: s_out = 1).
  const double s_in = step_of(quantized, node.input(0));
  layer.input_step = s_in;
  const double s_out = q->rounds ? scale : 1.0;
  for (std::size_t c = 0; c < layer.channels; ++c) {
    const double rescale = q->rescale[q->rescale.size() == 1 ? 0 : c];
    layer.step.push_back(rescale * s_out / s_in);
    layer.bias_unit.push_back(rescale * s_out);
  }
  layer.weights = w.to_doubles();
  const Value* float_bias = reference->input(2);
  layer.float_bias = float_bias != nullptr && float_bias->constant() != nullptr ? float_bias->constant()->to_doubles()
                                                                                : std::vector<double>{};
  if (layer.float_bias.size() != layer.channels) layer.float_bias.assign(layer.channels, 0.0);
  layer.integers = w_q.to_doubles();

  // The integer range: the symmetric one of the weight precision the PTQ used.
  const std::string precision = node.meta().get_or<std::string>(detail::weight_precision_key, "");
  const std::optional<DataType> type = parse_data_type(precision);
  const auto [low, high] = std::minmax_element(layer.integers.begin(), layer.integers.end());
  if (type) {
    // reduce_range keeps 8-bit weights within ±63, as quantize_graph.cpp's affine() does.
    const unsigned bits = options.reduce_range && info(*type).bits == 8 ? 7 : info(*type).bits;
    layer.hi = std::exp2(static_cast<double>(bits) - 1.0) - 1.0;
    layer.lo = -layer.hi;
  } else {
    layer.lo = *low;
    layer.hi = *high;
  }
  if (*low < layer.lo || *high > layer.hi) return std::nullopt; // not the range we think

  // The weights must be what was rounded: round-to-nearest of W / s_w gives W_q (a few
  // exact halves and float32 rescales aside).
  std::size_t differ = 0;
  for (std::size_t c = 0; c < layer.channels; ++c)
    for (std::size_t k = 0; k < layer.depth; ++k) {
      const std::size_t i = layer.index(c, k);
      const double nearest = std::clamp(std::round(layer.weights[i] / layer.step[c]), layer.lo, layer.hi);
      differ += nearest != layer.integers[i];
    }
  if (static_cast<double>(differ) > 0.01 * static_cast<double>(layer.weights.size())) return std::nullopt;

  layer.centred = options.bias_correction && op != "MatMul" && node.input(2) != nullptr &&
                  node.input(2)->constant() != nullptr &&
                  static_cast<std::size_t>(node.input(2)->constant()->numel()) == layer.channels;
  const std::size_t k = layer.depth;
  layer.gram.assign(layer.groups, std::vector<double>(k * k, 0.0));
  layer.sum.assign(layer.groups, std::vector<double>(k, 0.0));
  layer.float_sum.assign(layer.groups, std::vector<double>(k, 0.0));
  layer.cross.assign(layer.channels * k, 0.0);
  return layer;
}

/// Adds Σ x̃ (w·(x − x̃)) of the columns to each output channel's cross term, and Σ x.
void accumulate_cross(Layer& layer, const std::vector<std::vector<double>>& float_buffer,
                      const std::vector<std::vector<double>>& buffer, std::size_t count) {
  const std::size_t depth = layer.depth, per_group = layer.channels / layer.groups;
  std::vector<double> projection(count);
  for (std::size_t c = 0; c < layer.channels; ++c) {
    const std::size_t g = c / per_group;
    std::fill(projection.begin(), projection.end(), 0.0);
    for (std::size_t k = 0; k < depth; ++k) {
      const double w = layer.weights[layer.index(c, k)];
      const double* x = float_buffer[g].data() + k * count;
      const double* x_q = buffer[g].data() + k * count;
      for (std::size_t n = 0; n < count; ++n) projection[n] += w * (x[n] - x_q[n]);
    }
    double* cross = layer.cross.data() + c * depth;
    for (std::size_t k = 0; k < depth; ++k) {
      const double* x_q = buffer[g].data() + k * count;
      double total = 0.0;
      for (std::size_t n = 0; n < count; ++n) total += x_q[n] * projection[n];
      cross[k] += total;
    }
  }
  for (std::size_t g = 0; g < layer.groups; ++g)
    for (std::size_t k = 0; k < depth; ++k)
      for (std::size_t n = 0; n < count; ++n) layer.float_sum[g][k] += float_buffer[g][k * count + n];
}

/// Adds the columns of buffer (per group: K rows of `count` values) to the layer's sums.
void accumulate(Layer& layer, const std::vector<std::vector<double>>& buffer, std::size_t count) {
  const std::size_t depth = layer.depth;
  if (layer.data) {
    for (std::size_t g = 0; g < layer.groups; ++g)
      for (std::size_t n = 0; n < count; ++n)
        for (std::size_t i = 0; i < depth; ++i) {
          layer.kept[g].push_back(buffer[g][i * count + n]);
          layer.sum[g][i] += buffer[g][i * count + n];
        }
    layer.columns += count;
    return;
  }
  for (std::size_t g = 0; g < layer.groups; ++g) {
    const double* x = buffer[g].data();
    std::vector<double>& gram = layer.gram[g];
    for (std::size_t i = 0; i < depth; ++i) {
      const double* xi = x + i * count;
      double total = 0.0;
      for (std::size_t n = 0; n < count; ++n) total += xi[n];
      layer.sum[g][i] += total;
      for (std::size_t j = i; j < depth; ++j) {
        const double* xj = x + j * count;
        double dot = 0.0;
        for (std::size_t n = 0; n < count; ++n) dot += xi[n] * xj[n];
        gram[i * depth + j] += dot;
      }
    }
  }
  layer.columns += count;
}

/// Σ a[i]·b[i] in eight interleaved partial sums (a fixed order: deterministic), which the
/// compiler keeps in vector registers.
double dot(const float* a, const float* b, std::size_t n) {
  float partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (std::size_t j = 0; j < 8; ++j) partial[j] += a[i + j] * b[i + j];
  double total = 0.0;
  for (; i < n; ++i) total += static_cast<double>(a[i] * b[i]);
  for (const float p : partial) total += static_cast<double>(p);
  return total;
}

/// H costs K² a row and step, the columns 2·K·n: keeps the cheaper.
void choose_form(Layer& layer, double total) {
  const double expected = std::min(total, static_cast<double>(max_columns));
  layer.data = 2.0 * expected < static_cast<double>(layer.depth);
  if (layer.data) {
    layer.gram.assign(layer.groups, {});
    layer.kept.assign(layer.groups, {});
  }
}

/// Samples the same columns of one batch of the layer's float input and of its quantized
/// input (in real units) into its statistics.
void gather(Layer& layer, const Tensor& float_input, const Tensor& quantized_input, std::size_t samples_total) {
  const Shape& shape = float_input.shape();
  check(quantized_input.shape() == shape, [&] {
    return "adaround: " + layer.node->name() + " reads " + quantized_input.describe() +
           " in the quantized network but " + float_input.describe() + " in the float one";
  });
  const std::vector<double> x = float_input.to_doubles();
  std::vector<double> x_q = quantized_input.to_doubles();
  for (double& value : x_q) value *= layer.input_step;
  std::bernoulli_distribution pick(layer.keep);
  const auto start_sampling = [&](double total) {
    if (layer.columns != 0 || layer.keep < 1.0) return;
    layer.keep = std::min(1.0, static_cast<double>(max_columns) / total);
    pick = std::bernoulli_distribution(layer.keep);
    choose_form(layer, total);
  };
  std::vector<std::vector<double>> float_buffer(layer.groups), buffer(layer.groups);
  if (!layer.conv) {
    const auto rows = x.size() / layer.depth;
    start_sampling(static_cast<double>(samples_total) * static_cast<double>(rows) /
                   static_cast<double>(std::max<std::int64_t>(shape[0], 1)));
    std::vector<std::size_t> chosen;
    for (std::size_t r = 0; r < rows; ++r)
      if (layer.keep >= 1.0 || pick(layer.random)) chosen.push_back(r);
    const auto fill = [&](const std::vector<double>& source, std::vector<double>& target) {
      target.assign(layer.depth * chosen.size(), 0.0);
      for (std::size_t n = 0; n < chosen.size(); ++n)
        for (std::size_t k = 0; k < layer.depth; ++k)
          target[k * chosen.size() + n] = source[chosen[n] * layer.depth + k];
    };
    fill(x, float_buffer[0]);
    fill(x_q, buffer[0]);
    accumulate_cross(layer, float_buffer, buffer, chosen.size());
    accumulate(layer, buffer, chosen.size());
    return;
  }
  const Node& node = *layer.node;
  const Window window = resolve_window(node, shape, layer.kernel);
  const std::vector<std::int64_t> out = window_output_sizes(node, window, shape);
  const std::size_t spatial = out.size();
  const auto batch = static_cast<std::size_t>(shape[0]);
  const auto in_channels = static_cast<std::size_t>(shape[1]);
  const std::size_t per_group = in_channels / layer.groups;
  std::size_t positions = 1, in_size = 1, taps = 1;
  for (std::size_t d = 0; d < spatial; ++d) {
    positions *= static_cast<std::size_t>(out[d]);
    in_size *= static_cast<std::size_t>(shape[2 + d]);
    taps *= static_cast<std::size_t>(layer.kernel[d]);
  }
  check(per_group * taps == layer.depth,
        [&] { return "adaround: " + node.name() + ": weights do not match its input"; });
  start_sampling(static_cast<double>(samples_total) * static_cast<double>(positions));
  std::vector<std::pair<std::size_t, std::size_t>> chosen; // (sample, output position)
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t p = 0; p < positions; ++p)
      if (layer.keep >= 1.0 || pick(layer.random)) chosen.emplace_back(n, p);
  const std::size_t count = chosen.size();
  for (std::size_t g = 0; g < layer.groups; ++g) {
    float_buffer[g].assign(layer.depth * count, 0.0);
    buffer[g].assign(layer.depth * count, 0.0);
  }
  std::vector<std::int64_t> position(spatial), tap(spatial);
  for (std::size_t col = 0; col < count; ++col) {
    const auto [n, p] = chosen[col];
    std::size_t rest = p;
    for (std::size_t d = spatial; d-- > 0;) {
      position[d] = static_cast<std::int64_t>(rest % static_cast<std::size_t>(out[d]));
      rest /= static_cast<std::size_t>(out[d]);
    }
    for (std::size_t t = 0; t < taps; ++t) {
      std::size_t left = t, offset = 0;
      bool inside = true;
      for (std::size_t d = spatial; d-- > 0;) {
        tap[d] = static_cast<std::int64_t>(left % static_cast<std::size_t>(layer.kernel[d]));
        left /= static_cast<std::size_t>(layer.kernel[d]);
      }
      std::size_t stride = 1;
      for (std::size_t d = spatial; d-- > 0;) {
        const std::int64_t at = position[d] * window.strides[d] - window.pads_begin[d] + tap[d] * window.dilations[d];
        if (at < 0 || at >= shape[2 + d]) inside = false;
        offset += static_cast<std::size_t>(std::max<std::int64_t>(at, 0)) * stride;
        stride *= static_cast<std::size_t>(shape[2 + d]);
      }
      if (!inside) continue;
      for (std::size_t g = 0; g < layer.groups; ++g)
        for (std::size_t ci = 0; ci < per_group; ++ci) {
          const std::size_t from = (n * in_channels + g * per_group + ci) * in_size + offset;
          const std::size_t to = (ci * taps + t) * count + col;
          float_buffer[g][to] = x[from];
          buffer[g][to] = x_q[from];
        }
    }
  }
  accumulate_cross(layer, float_buffer, buffer, count);
  accumulate(layer, buffer, count);
}

/// The learnt rounding of one output channel's row. Returns its new integers.
/// `target` is g, the row's E[x̃ (w·e)] (about the means when the layer is centred).
std::vector<double> optimise_row(const Layer& layer, std::size_t channel, std::size_t group,
                                 const std::vector<double>& target, const AdaRoundOptions& ada) {
  const std::size_t depth = layer.depth;
  const double s = layer.step[channel];
  std::vector<double> w(depth), floor_part(depth), v(depth), m(depth, 0.0), second(depth, 0.0), delta(depth), h(depth),
      hd(depth);
  const std::size_t count = layer.data ? layer.fast[group].size() / depth : 0;
  std::vector<float> delta_f(depth), hd_f(depth);
  std::vector<bool> fixed(depth, false);
  std::vector<double> result(depth);
  for (std::size_t k = 0; k < depth; ++k) {
    w[k] = layer.weights[layer.index(channel, k)];
    const double units = w[k] / s;
    floor_part[k] = std::floor(units);
    // Outside the range (clipped weights), or on its edge: no choice to make.
    if (floor_part[k] < layer.lo || floor_part[k] + 1.0 > layer.hi) {
      fixed[k] = true;
      result[k] = std::clamp(std::round(units), layer.lo, layer.hi);
      continue;
    }
    const double rest = units - floor_part[k];
    v[k] = -std::log((zeta - gamma) / (rest - gamma) - 1.0); // h(V) = rest
  }
  const auto rectified = [](double value) {
    return std::clamp(1.0 / (1.0 + std::exp(-value)) * (zeta - gamma) + gamma, 0.0, 1.0);
  };
  const int iterations = std::max(ada.iterations, 0);
  const int warm = static_cast<int>(std::floor(ada.warmup * static_cast<double>(iterations)));
  constexpr double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  double power1 = 1.0, power2 = 1.0;
  for (int t = 0; t < iterations; ++t) {
    for (std::size_t k = 0; k < depth; ++k) {
      h[k] = fixed[k] ? 0.0 : rectified(v[k]);
      delta[k] = s * (fixed[k] ? result[k] : floor_part[k] + h[k]) - w[k];
    }
    const bool regularise = t >= warm;
    double beta = 0.0;
    if (regularise) {
      const double progress = static_cast<double>(t - warm) / static_cast<double>(std::max(iterations - warm, 1));
      beta = ada.beta_end + (ada.beta_start - ada.beta_end) * std::max(0.0, 1.0 - progress);
    }
    power1 *= beta1;
    power2 *= beta2;
    for (std::size_t k = 0; k < depth; ++k) delta_f[k] = static_cast<float>(delta[k]);
    if (layer.data) { // H Δ = X (Xᵀ Δ)
      const float* x = layer.fast[group].data();
      std::fill(hd_f.begin(), hd_f.end(), 0.0f);
      for (std::size_t n = 0; n < count; ++n) {
        const float* column = x + n * depth;
        const auto projection = static_cast<float>(dot(column, delta_f.data(), depth));
        for (std::size_t k = 0; k < depth; ++k) hd_f[k] += column[k] * projection;
      }
      for (std::size_t k = 0; k < depth; ++k) hd[k] = static_cast<double>(hd_f[k]);
    } else {
      for (std::size_t k = 0; k < depth; ++k) hd[k] = dot(layer.fast[group].data() + k * depth, delta_f.data(), depth);
    }
    for (std::size_t k = 0; k < depth; ++k) {
      if (fixed[k]) continue;
      double gradient = 2.0 * (hd[k] - target[k]) * s; // ∂/∂h of δ H δᵀ − 2 δ·g
      if (regularise) {
        const double centred = 2.0 * h[k] - 1.0;
        const double magnitude = std::abs(centred);
        if (magnitude > 0.0)
          gradient -= ada.regularization * beta * std::pow(magnitude, beta - 1.0) * (centred > 0 ? 2.0 : -2.0);
      }
      const double sigma = 1.0 / (1.0 + std::exp(-v[k]));
      const double stretched = sigma * (zeta - gamma) + gamma;
      gradient *= stretched > 0.0 && stretched < 1.0 ? (zeta - gamma) * sigma * (1.0 - sigma) : 0.0;
      m[k] = beta1 * m[k] + (1.0 - beta1) * gradient;
      second[k] = beta2 * second[k] + (1.0 - beta2) * gradient * gradient;
      v[k] -= ada.learning_rate * (m[k] / (1.0 - power1)) / (std::sqrt(second[k] / (1.0 - power2)) + epsilon);
    }
  }
  for (std::size_t k = 0; k < depth; ++k)
    if (!fixed[k]) result[k] = std::clamp(floor_part[k] + (rectified(v[k]) >= 0.5 ? 1.0 : 0.0), layer.lo, layer.hi);
  return result;
}

/// Re-rounds one layer from its statistics and writes its weights (and bias) back.
void optimise(Graph& quantized, Layer& layer, const AdaRoundOptions& ada) {
  const std::size_t depth = layer.depth;
  const auto n = static_cast<double>(std::max<std::size_t>(layer.columns, 1));
  std::vector<std::vector<double>> means(layer.groups, std::vector<double>(depth));
  for (std::size_t g = 0; g < layer.groups; ++g) {
    for (std::size_t i = 0; i < depth; ++i) means[g][i] = layer.sum[g][i] / n;
    if (layer.data) { // H = Σ (x − μ)(x − μ)ᵀ / n: columns centred (when centred) and scaled by 1/√n
      const double root = std::sqrt(n);
      std::vector<double>& kept = layer.kept[g];
      for (std::size_t i = 0; i < kept.size(); ++i)
        kept[i] = (kept[i] - (layer.centred ? means[g][i % depth] : 0.0)) / root;
      continue;
    }
    std::vector<double>& gram = layer.gram[g];
    for (std::size_t i = 0; i < depth; ++i)
      for (std::size_t j = i; j < depth; ++j) {
        double value = gram[i * depth + j] / n;
        if (layer.centred) value -= means[g][i] * means[g][j];
        gram[i * depth + j] = gram[j * depth + i] = value;
      }
  }
  layer.fast.clear();
  for (std::size_t g = 0; g < layer.groups; ++g) {
    const std::vector<double>& source = layer.data ? layer.kept[g] : layer.gram[g];
    layer.fast.emplace_back(source.begin(), source.end());
  }
  std::vector<double> integers = layer.integers;
  std::vector<double> bias;
  if (layer.centred) bias = layer.node->input(2)->constant()->to_doubles();
  const std::size_t per_group = layer.channels / layer.groups;
  for (std::size_t c = 0; c < layer.channels; ++c) {
    const std::size_t g = c / per_group;
    // g about the means: E[x̃ (w·e)] − μ̃ (w·(μ − μ̃)).
    std::vector<double> target(depth);
    double mean_error = 0.0;
    for (std::size_t k = 0; k < depth; ++k)
      mean_error += layer.weights[layer.index(c, k)] * (layer.float_sum[g][k] / n - means[g][k]);
    for (std::size_t k = 0; k < depth; ++k)
      target[k] = layer.cross[c * depth + k] / n - (layer.centred ? means[g][k] * mean_error : 0.0);
    const std::vector<double> row = optimise_row(layer, c, g, target, ada);
    // Bias correction, as the PTQ makes it, for the new rounding: the output's mean per
    // channel, E[w̃·x̃] + b̃, back to the float network's E[w·x] + b.
    double mean_difference = layer.float_bias[c];
    for (std::size_t k = 0; k < depth; ++k) {
      const std::size_t i = layer.index(c, k);
      mean_difference += layer.weights[i] * layer.float_sum[g][k] / n - layer.step[c] * row[k] * means[g][k];
      integers[i] = row[k];
    }
    if (layer.centred) bias[c] = std::round(mean_difference / layer.bias_unit[c]);
  }
  const Tensor& w_q = *layer.node->input(1)->constant();
  quantized.set_constant(*layer.node->input(1), Tensor::from_floats(w_q.shape(), {integers.begin(), integers.end()}));
  if (layer.centred) {
    const Tensor& b_q = *layer.node->input(2)->constant();
    const std::string precision = layer.node->meta().get_or<std::string>(detail::accumulation_precision_key, "");
    if (const std::optional<DataType> type = parse_data_type(precision)) {
      const double limit = std::exp2(static_cast<double>(info(*type).bits) - 1.0) - 1.0;
      for (double& b : bias) b = std::clamp(b, -limit, limit);
    }
    quantized.set_constant(*layer.node->input(2), Tensor::from_floats(b_q.shape(), {bias.begin(), bias.end()}));
  }
}

/// Runs a copy of a graph with the given values as extra outputs; forward returns them.
class Probes {
public:
  Probes(const Graph& graph, const std::vector<std::string>& names, const std::vector<std::string>& backends)
      : graph_(graph.clone()) {
    for (const std::string& name : names) {
      Value& value = graph_.value(name);
      if (graph_.is_input(value)) {
        index_.push_back(the_input);
        continue;
      }
      if (!graph_.is_output(value)) graph_.add_output(name);
      const auto& outputs = graph_.outputs();
      index_.push_back(static_cast<std::size_t>(
          std::find_if(outputs.begin(), outputs.end(), [&](const Value* output) { return output->name() == name; }) -
          outputs.begin()));
    }
    run_.emplace(graph_, backends);
  }

  std::vector<Tensor> forward(const Tensor& batch) {
    const std::vector<Tensor> values = run_->forward({batch});
    std::vector<Tensor> result;
    for (const std::size_t at : index_) result.push_back(at == the_input ? batch : values[at]);
    return result;
  }

private:
  static constexpr std::size_t the_input = static_cast<std::size_t>(-1);
  Graph graph_; // outlives run_
  std::vector<std::size_t> index_;
  std::optional<SequentialScheduler> run_;
};

} // namespace

std::size_t adaround(const Graph& float_model, Graph& quantized, const Dataset& calibration,
                     const QuantizeOptions& options, const AdaRoundOptions& ada) {
  check(is_quantized(quantized), "adaround: the second graph is not quantized");
  check(!options.no_quant, "adaround: the graph was not quantized (no_quant)");
  check(calibration.size() > 0, "adaround: the calibration set is empty");
  Graph prepared = float_model.clone();
  prepare_network(prepared, options);
  prepared.infer_shapes();

  std::vector<Layer> layers;
  for (Node* node : quantized.topological_order())
    if (std::optional<Layer> layer = describe(prepared, quantized, *node, options)) {
      layer->random.seed(ada.seed + static_cast<unsigned>(layers.size()));
      layers.push_back(std::move(*layer));
    }
  check(!layers.empty(), "adaround: no quantized Conv/Gemm/MatMul with integer weights: pass the fake-quantized, "
                         "folded form (QuantizeOptions::fake_quantize, fold_graph)");

  // Layer by layer, what it reads in both networks over the calibration set: the quantized
  // inputs come from the network whose earlier layers were already re-rounded, as in the
  // paper (with the inputs of the network rounded to nearest, each layer would make up for
  // errors that the layers before it have since reduced).
  for (std::size_t l = 0; l < layers.size(); ++l) {
    Layer& layer = layers[l];
    Probes float_run(prepared, {layer.input}, options.backends);
    Probes quantized_run(quantized, {layer.quantized_input}, options.backends);
    for (std::size_t begin = 0; begin < calibration.size(); begin += batch_size) {
      const Tensor batch = calibration.batch(begin, std::min(batch_size, calibration.size() - begin));
      gather(layer, float_run.forward(batch).front(), quantized_run.forward(scale_input(quantized, batch)).front(),
             calibration.size());
    }
    optimise(quantized, layer, ada);
    layer = Layer{}; // its statistics are large
    if (ada.progress) ada.progress(l + 1, layers.size());
  }
  return layers.size();
}

} // namespace tern::ptq
