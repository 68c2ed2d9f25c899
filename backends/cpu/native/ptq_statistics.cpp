// The PTQ statistics operators on the CPU (schemas and semantics: the core's
// ops/ptq_statistics.cpp). They are the reference the "cuda" plugin's kernels are compared
// with, so each computes exactly what the PTQ computes: PtqHistogram bins like
// ValueStatistics, PtqFakeQuantize rounds like the graph Mul -> Round -> Clip -> Mul.
#include "native/common.hpp"
#include "native/native_ops.hpp"
#include "native/rounding.hpp"

#include <cmath>
#include <limits>

namespace tern::cpu {
namespace {

/// x seen as [outer, channels, inner] around `axis` (channels = 1 per tensor).
struct ChannelLayout {
  std::int64_t outer = 1;
  std::int64_t channels = 1;
  std::int64_t inner = 1;
};

ChannelLayout layout_of(const Node& node, const Shape& shape, std::optional<std::int64_t> axis) {
  ChannelLayout layout;
  if (!axis) {
    layout.inner = shape.numel();
    return layout;
  }
  const std::size_t a = native::normalize_axis(node, *axis, shape.rank(), "attribute 'axis'");
  for (std::size_t d = 0; d < shape.rank(); ++d)
    (d < a ? layout.outer : d == a ? layout.channels : layout.inner) *= shape[d];
  return layout;
}

struct Extremes {
  float min;
  float max;
  float abs_max;
  std::int64_t non_finite;
};

// NaN joins no extreme (only the non-finite count); infinities join both. A channel without
// values: min +inf, max -inf, max|x| 0.
Extremes channel_extremes(const float* x, const ChannelLayout& l, std::int64_t c) {
  float low = std::numeric_limits<float>::infinity(), high = -low, abs_max = 0.0f;
  std::int64_t non_finite = 0;
#pragma omp parallel for collapse(2) reduction(min : low) reduction(max : high, abs_max) reduction(+ : non_finite) if (l.outer * l.inner > 65536)
  for (std::int64_t o = 0; o < l.outer; ++o)
    for (std::int64_t i = 0; i < l.inner; ++i) {
      const float v = x[(o * l.channels + c) * l.inner + i];
      non_finite += std::isfinite(v) ? 0 : 1;
      if (std::isnan(v)) continue;
      low = v < low ? v : low;
      high = v > high ? v : high;
      abs_max = std::fabs(v) > abs_max ? std::fabs(v) : abs_max;
    }
  return {low, high, abs_max, non_finite};
}

class RangeKernel final : public Kernel {
public:
  explicit RangeKernel(const Node& node)
      : node_(node), axis_(node.attrs().has("axis") ? std::optional(node.attr<std::int64_t>("axis")) : std::nullopt) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 1, 1, 2);
    native::require_dtype(node_, inputs[0], DataType::Float32, "x");
    const ChannelLayout l = layout_of(node_, inputs[0].shape(), axis_);
    native::require_shape(node_, outputs[0].shape(), Shape{l.channels, 3}, "ranges");
    float* ranges = outputs[0].data<float>();
    std::int64_t* non_finite = outputs.size() > 1 ? outputs[1].data<std::int64_t>() : nullptr;
    for (std::int64_t c = 0; c < l.channels; ++c) {
      const Extremes e = channel_extremes(inputs[0].data<float>(), l, c);
      ranges[3 * c] = e.min;
      ranges[3 * c + 1] = e.max;
      ranges[3 * c + 2] = e.abs_max;
      if (non_finite != nullptr) non_finite[c] = e.non_finite;
    }
  }

private:
  const Node& node_;
  const std::optional<std::int64_t> axis_;
};

void histogram(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 2, 2, 1, 1);
  native::require_dtype(node, inputs[0], DataType::Float32, "x");
  native::require_dtype(node, inputs[1], DataType::Float64, "range");
  const double range = inputs[1].data<double>()[0];
  native::require(node, range > 0 && std::isfinite(range),
                  "the range must be positive and finite, got " + std::to_string(range));
  const std::int64_t bins = outputs[0].numel();
  // ValueStatistics' arithmetic: |x| (float32) times bins / range (float64), truncated.
  const double scale = static_cast<double>(bins) / range;
  const float* x = inputs[0].data<float>();
  std::int64_t* counts = outputs[0].data<std::int64_t>();
  std::fill(counts, counts + bins, 0);
  const std::int64_t n = inputs[0].numel();
#pragma omp parallel if (n > 65536)
  {
    std::vector<std::int64_t> local(static_cast<std::size_t>(bins), 0);
#pragma omp for nowait
    for (std::int64_t i = 0; i < n; ++i) {
      if (std::isnan(x[i])) continue;
      const double v = static_cast<double>(std::fabs(x[i])) * scale;
      ++local[static_cast<std::size_t>(v < static_cast<double>(bins - 1) ? static_cast<std::int64_t>(v) : bins - 1)];
    }
#pragma omp critical
    for (std::int64_t b = 0; b < bins; ++b) counts[b] += local[static_cast<std::size_t>(b)];
  }
}

class FakeQuantizeKernel final : public Kernel {
public:
  explicit FakeQuantizeKernel(const Node& node)
      : node_(node), axis_(node.attr<std::int64_t>("axis")), lo_(static_cast<float>(node.attr<double>("lo"))),
        hi_(static_cast<float>(node.attr<double>("hi"))) {
    // float32 like the graph's constants: the products are float32 products.
    for (const double f : node.attr<std::vector<double>>("factor")) factor_.push_back(static_cast<float>(f));
    for (const double s : node.attr<std::vector<double>>("scale")) scale_.push_back(static_cast<float>(s));
  }

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 1, 1, 1);
    native::require_dtype(node_, inputs[0], DataType::Float32, "x");
    native::require_shape(node_, outputs[0].shape(), inputs[0].shape(), "y");
    const ChannelLayout l =
        layout_of(node_, inputs[0].shape(), factor_.size() == 1 ? std::nullopt : std::optional(axis_));
    native::require(node_, static_cast<std::size_t>(l.channels) == factor_.size(),
                    std::to_string(factor_.size()) + " factors for " + std::to_string(l.channels) + " channels");
    const float* x = inputs[0].data<float>();
    float* y = outputs[0].data<float>();
    // Collapsed over (outer, channel, inner): no division per element, threads over all of x.
#pragma omp parallel for collapse(3) if (inputs[0].numel() > 65536)
    for (std::int64_t o = 0; o < l.outer; ++o)
      for (std::int64_t c = 0; c < l.channels; ++c)
        for (std::int64_t i = 0; i < l.inner; ++i) {
          const std::int64_t at = (o * l.channels + c) * l.inner + i;
          y[at] = fake_quantize(x[at], factor_[static_cast<std::size_t>(c)], scale_[static_cast<std::size_t>(c)]);
        }
  }

private:
  float fake_quantize(float x, float factor, float scale) const {
    float q = native::round_half_even(x * factor);
    // Clip as the cpu Clip computes it (oneDNN's max then min): NaN and -0 against 0 give lo.
    q = q > lo_ ? q : lo_;
    q = q < hi_ ? q : hi_;
    return q * scale;
  }

  const Node& node_;
  const std::int64_t axis_;
  const float lo_;
  const float hi_;
  std::vector<float> factor_;
  std::vector<float> scale_;
};

} // namespace

std::unique_ptr<Kernel> make_ptq_range(const Node& node) { return std::make_unique<RangeKernel>(node); }
std::unique_ptr<Kernel> make_ptq_histogram(const Node& node) { return native::stateless_kernel(node, histogram); }
std::unique_ptr<Kernel> make_ptq_fake_quantize(const Node& node) { return std::make_unique<FakeQuantizeKernel>(node); }

} // namespace tern::cpu
