// Integer Conv on CPUs whose int8 oneDNN kernels are not exact (no VNNI: they sum u8 x s8
// pairs with a saturating 16-bit instruction). Exact int32 accumulation by direct loops:
// for each output row, every (input channel, kernel tap) adds a scaled input row, the
// valid output range of each tap computed once so the innermost loop has no branch and
// vectorizes. 1-, 2- and 3-D (lower ranks are run as 3-D with unit axes); groups, pads,
// strides, dilations; optional int32 bias; optional fused requantization.
#include "native/common.hpp"
#include "native/native_ops.hpp"
#include "native/requantize.hpp"

#include <tern/window.hpp>

#include <algorithm>
#include <array>
#include <type_traits>

namespace tern::cpu {
namespace {

using Dims3 = std::array<std::int64_t, 3>;

/// Conv geometry with the spatial axes padded to three (leading unit axes).
struct Geometry {
  std::int64_t batch = 0, channels = 0, outputs = 0, group = 1;
  Dims3 in{1, 1, 1}, out{1, 1, 1}, kernel{1, 1, 1}, stride{1, 1, 1}, dilation{1, 1, 1}, pad{0, 0, 0};
};

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

class IntegerConvKernel final : public Kernel {
public:
  explicit IntegerConvKernel(const Node& node)
      : node_(node), requantization_(native::requantization_of(node, "requantize_")) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 2, 3, 1, 1);
    const Tensor& x = inputs[0];
    const Tensor& w = inputs[1];
    native::require(node_, x.dtype() == DataType::Int8 || x.dtype() == DataType::UInt8,
                    "X is " + x.describe() + ", expected int8 or uint8");
    native::require_dtype(node_, w, DataType::Int8, "W");
    const bool has_bias = inputs.size() > 2 && inputs[2].defined();
    if (has_bias) native::require_dtype(node_, inputs[2], DataType::Int32, "B");
    native::require_dtype(node_, outputs[0], requantization_ ? requantization_->to : DataType::Int32, "Y");
    const Geometry g = geometry(x.shape(), w.shape(), outputs[0].shape());
    if (has_bias) native::require_shape(node_, inputs[2].shape(), Shape{g.outputs}, "B");
    const std::int32_t* bias = has_bias ? inputs[2].data<std::int32_t>() : nullptr;
    dispatch(x.dtype(), [&](auto x_tag) {
      using X = typename decltype(x_tag)::type;
      if constexpr (std::is_same_v<X, std::int8_t> || std::is_same_v<X, std::uint8_t>) {
        dispatch(outputs[0].dtype(), [&](auto y_tag) {
          using Y = typename decltype(y_tag)::type;
          if constexpr (std::is_same_v<Y, std::int32_t> || std::is_same_v<Y, std::int8_t> ||
                        std::is_same_v<Y, std::uint8_t>)
            convolve(g, x.data<X>(), w.data<std::int8_t>(), bias, outputs[0].data<Y>());
        });
      }
    });
  }

private:
  Geometry geometry(const Shape& x, const Shape& w, const Shape& y) const {
    native::require(node_, x.rank() >= 3 && x.rank() <= 5 && w.rank() == x.rank() && y.rank() == x.rank(),
                    "X " + x.to_string() + ", W " + w.to_string() + ": expected 1-, 2- or 3-D convolution");
    Geometry g;
    g.batch = x[0];
    g.channels = x[1];
    g.outputs = w[0];
    g.group = node_.attr<std::int64_t>("group");
    native::require(node_, g.group >= 1 && g.outputs % g.group == 0 && w[1] * g.group == g.channels,
                    "W " + w.to_string() + " does not fit X " + x.to_string() + " with group " +
                        std::to_string(g.group));
    const Window window = resolve_window(node_, x, std::vector<std::int64_t>(w.begin() + 2, w.end()));
    const std::size_t spatial = x.rank() - 2, skip = 3 - spatial;
    for (std::size_t a = 0; a < spatial; ++a) {
      g.in[skip + a] = x[a + 2];
      g.out[skip + a] = y[a + 2];
      g.kernel[skip + a] = w[a + 2];
      g.stride[skip + a] = window.strides[a];
      g.dilation[skip + a] = window.dilations[a];
      g.pad[skip + a] = window.pads_begin[a];
    }
    return g;
  }

  template <class X, class Y>
  void convolve(const Geometry& g, const X* x, const std::int8_t* w, const std::int32_t* bias, Y* y) const {
    const std::int64_t per_group_in = g.channels / g.group, per_group_out = g.outputs / g.group;
    const std::int64_t in_plane = g.in[0] * g.in[1] * g.in[2], out_plane = g.out[0] * g.out[1] * g.out[2];
    const std::int64_t taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
    // Per kernel column: the output columns whose input column is inside X.
    std::vector<std::int64_t> first(static_cast<std::size_t>(g.kernel[2])), last(first.size());
    for (std::int64_t k = 0; k < g.kernel[2]; ++k) {
      const std::int64_t offset = k * g.dilation[2] - g.pad[2];
      first[static_cast<std::size_t>(k)] = std::max<std::int64_t>(0, ceil_div(-offset, g.stride[2]));
      last[static_cast<std::size_t>(k)] = std::min(g.out[2], ceil_div(g.in[2] - offset, g.stride[2]));
    }
    const native::Requantization* r = requantization_ ? &*requantization_ : nullptr;
#pragma omp parallel
    {
      std::vector<std::int32_t> row(static_cast<std::size_t>(g.out[2]));
#pragma omp for collapse(2)
      for (std::int64_t n = 0; n < g.batch; ++n) {
        for (std::int64_t m = 0; m < g.outputs; ++m) {
          const std::int64_t group = m / per_group_out;
          const X* x_group = x + (n * g.channels + group * per_group_in) * in_plane;
          const std::int8_t* w_m = w + m * per_group_in * taps;
          Y* y_m = y + (n * g.outputs + m) * out_plane;
          for (std::int64_t od = 0; od < g.out[0]; ++od) {
            for (std::int64_t oh = 0; oh < g.out[1]; ++oh) {
              std::fill(row.begin(), row.end(), bias ? bias[m] : 0);
              for (std::int64_t c = 0; c < per_group_in; ++c) {
                for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd) {
                  const std::int64_t id = od * g.stride[0] + kd * g.dilation[0] - g.pad[0];
                  if (id < 0 || id >= g.in[0]) continue;
                  for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh) {
                    const std::int64_t ih = oh * g.stride[1] + kh * g.dilation[1] - g.pad[1];
                    if (ih < 0 || ih >= g.in[1]) continue;
                    const X* x_row = x_group + c * in_plane + (id * g.in[1] + ih) * g.in[2];
                    const std::int8_t* w_row = w_m + ((c * g.kernel[0] + kd) * g.kernel[1] + kh) * g.kernel[2];
                    for (std::int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                      const std::int32_t weight = w_row[kw];
                      const std::int64_t offset = kw * g.dilation[2] - g.pad[2];
                      const auto k = static_cast<std::size_t>(kw);
                      for (std::int64_t ow = first[k]; ow < last[k]; ++ow)
                        row[static_cast<std::size_t>(ow)] +=
                            static_cast<std::int32_t>(x_row[ow * g.stride[2] + offset]) * weight;
                    }
                  }
                }
              }
              Y* out = y_m + (od * g.out[1] + oh) * g.out[2];
              for (std::int64_t ow = 0; ow < g.out[2]; ++ow) {
                const std::int32_t acc = row[static_cast<std::size_t>(ow)];
                out[ow] = r ? static_cast<Y>(r->apply(static_cast<float>(acc), static_cast<std::size_t>(m)))
                            : static_cast<Y>(acc);
              }
            }
          }
        }
      }
    }
  }

  const Node& node_;
  const std::optional<native::Requantization> requantization_;
};

} // namespace

std::unique_ptr<Kernel> make_native_integer_conv(const Node& node) { return std::make_unique<IntegerConvKernel>(node); }

} // namespace tern::cpu
