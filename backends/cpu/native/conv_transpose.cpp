// ConvTranspose (float32, 1-, 2- and 3-D, groups, dilations, output_padding, output_shape,
// auto_pad, bias; and the integer form of quantized networks: int8/uint8 X, int8 W, int32
// bias, the exact int32 sums out) as a gather: output position o of an axis receives input position i
// through tap k when o = i * stride - pad_begin + k * dilation. Per axis, the (i, k) pairs
// of every o are listed once per run; each output element then sums over them and its
// group's input channels, so threads write disjoint outputs (no scatter races).
#include "native/common.hpp"
#include "native/native_ops.hpp"

#include <tern/window.hpp>

#include <array>

namespace tern::cpu {
namespace {

constexpr std::size_t max_spatial = 3;

/// One spatial axis: for each output position, the input positions and kernel taps feeding it.
struct AxisTaps {
  struct Tap {
    std::int64_t input;
    std::int64_t kernel;
  };
  std::vector<std::vector<Tap>> taps; ///< per output position

  AxisTaps(std::int64_t out, std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t dilation,
           std::int64_t pad_begin)
      : taps(static_cast<std::size_t>(out)) {
    for (std::int64_t i = 0; i < in; ++i)
      for (std::int64_t k = 0; k < kernel; ++k) {
        const std::int64_t o = i * stride - pad_begin + k * dilation;
        if (o >= 0 && o < out) taps[static_cast<std::size_t>(o)].push_back({i, k});
      }
  }
  /// A missing axis (1-D and 2-D run as 3-D): one position, one tap.
  AxisTaps() : taps{{{0, 0}}} {}
};

class ConvTransposeKernel final : public Kernel {
public:
  explicit ConvTransposeKernel(const Node& node) : node_(node), group_(node.attr<std::int64_t>("group")) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 2, 3, 1, 1);
    const Tensor& x = inputs[0];
    const Tensor& w = inputs[1];
    const bool integer = x.dtype() == DataType::Int8 || x.dtype() == DataType::UInt8;
    const DataType sums = integer ? DataType::Int32 : DataType::Float32;
    if (!integer) native::require_dtype(node_, x, DataType::Float32, "X");
    native::require_dtype(node_, w, integer ? DataType::Int8 : DataType::Float32, "W");
    native::require_dtype(node_, outputs[0], sums, "Y");
    const Shape& xs = x.shape();
    const Shape& ws = w.shape();
    const std::size_t spatial = xs.rank() - 2;
    native::require(node_, xs.rank() >= 3 && xs.rank() <= 2 + max_spatial && ws.rank() == xs.rank(),
                    "X " + xs.to_string() + " and W " + ws.to_string() + " must both be 3-, 4- or 5-D");
    const std::int64_t channels = xs[1];
    native::require(node_, group_ >= 1 && ws[0] == channels && channels % group_ == 0,
                    "W " + ws.to_string() + " does not fit X " + xs.to_string() + " with group " +
                        std::to_string(group_));
    const std::int64_t group_in = channels / group_, group_out = ws[1];
    const std::int64_t out_channels = group_out * group_;
    const TransposedWindow geometry =
        resolve_transposed_window(node_, xs, std::vector<std::int64_t>(ws.begin() + 2, ws.end()));
    std::vector<std::int64_t> y_dims{xs[0], out_channels};
    y_dims.insert(y_dims.end(), geometry.output_sizes.begin(), geometry.output_sizes.end());
    native::require_shape(node_, outputs[0].shape(), Shape(y_dims), "Y");
    const bool has_bias = inputs.size() > 2 && inputs[2].defined();
    if (has_bias) {
      native::require_dtype(node_, inputs[2], sums, "B");
      native::require_shape(node_, inputs[2].shape(), Shape{out_channels}, "B");
    }

    // Axes padded to three (leading ones of size 1), so one loop nest serves 1-, 2- and 3-D.
    std::array<AxisTaps, max_spatial> axes;
    std::array<std::int64_t, max_spatial> in_size{1, 1, 1}, out_size{1, 1, 1}, kernel{1, 1, 1};
    for (std::size_t a = 0; a < spatial; ++a) {
      const std::size_t d = max_spatial - spatial + a;
      const Window& window = geometry.window;
      in_size[d] = xs[a + 2];
      out_size[d] = geometry.output_sizes[a];
      kernel[d] = ws[a + 2];
      axes[d] =
          AxisTaps(out_size[d], in_size[d], kernel[d], window.strides[a], window.dilations[a], window.pads_begin[a]);
    }
    const Geometry geometry3{axes, in_size, out_size, kernel, group_in, group_out};
    const Tensor* bias = has_bias ? &inputs[2] : nullptr;
    switch (x.dtype()) {
    case DataType::Int8: gather<std::int8_t, std::int8_t, std::int32_t>(x, w, bias, outputs[0], geometry3); break;
    case DataType::UInt8: gather<std::uint8_t, std::int8_t, std::int32_t>(x, w, bias, outputs[0], geometry3); break;
    default: gather<float, float, float>(x, w, bias, outputs[0], geometry3); break;
    }
  }

private:
  /// The three (padded) spatial axes and the channels of one group.
  struct Geometry {
    const std::array<AxisTaps, max_spatial>& axes;
    std::array<std::int64_t, max_spatial> in_size, out_size, kernel;
    std::int64_t group_in, group_out;
  };

  /// Y = the sums over X x W (+ B), in Sum: float, or int32 for 8-bit X and W (exact).
  template <class X, class W, class Sum>
  static void gather(const Tensor& x, const Tensor& w, const Tensor* b, Tensor& y, const Geometry& geometry) {
    const auto& [axes, in_size, out_size, kernel, group_in, group_out] = geometry;
    const std::int64_t in_plane = in_size[0] * in_size[1] * in_size[2];
    const std::int64_t out_plane = out_size[0] * out_size[1] * out_size[2];
    const std::int64_t taps = kernel[0] * kernel[1] * kernel[2];
    const std::int64_t channels = x.shape()[1];
    const std::int64_t out_channels = y.shape()[1];
    const X* xd = x.data<X>();
    const W* wd = w.data<W>();
    const Sum* bias = b != nullptr ? b->data<Sum>() : nullptr;
    Sum* yd = y.data<Sum>();
    const std::int64_t batch = x.shape()[0];
#pragma omp parallel for if (y.numel() * group_in * taps > (1 << 16))
    for (std::int64_t nm = 0; nm < batch * out_channels; ++nm) {
      const std::int64_t n = nm / out_channels, m = nm % out_channels, g = m / group_out, m_in_group = m % group_out;
      // x[n, g * group_in + c, ...] and w[g * group_in + c, m_in_group, ...], c = 0 .. group_in - 1.
      const X* x_group = xd + (n * channels + g * group_in) * in_plane;
      const W* w_group = wd + (g * group_in * group_out + m_in_group) * taps;
      const std::int64_t w_channel_step = group_out * taps;
      Sum* target = yd + nm * out_plane;
      for (std::int64_t o0 = 0; o0 < out_size[0]; ++o0)
        for (std::int64_t o1 = 0; o1 < out_size[1]; ++o1)
          for (std::int64_t o2 = 0; o2 < out_size[2]; ++o2) {
            Sum sum = bias != nullptr ? bias[m] : Sum{0};
            for (const AxisTaps::Tap& t0 : axes[0].taps[static_cast<std::size_t>(o0)])
              for (const AxisTaps::Tap& t1 : axes[1].taps[static_cast<std::size_t>(o1)])
                for (const AxisTaps::Tap& t2 : axes[2].taps[static_cast<std::size_t>(o2)]) {
                  const std::int64_t i = (t0.input * in_size[1] + t1.input) * in_size[2] + t2.input;
                  const std::int64_t k = (t0.kernel * kernel[1] + t1.kernel) * kernel[2] + t2.kernel;
                  for (std::int64_t c = 0; c < group_in; ++c)
                    sum +=
                        static_cast<Sum>(x_group[c * in_plane + i]) * static_cast<Sum>(w_group[c * w_channel_step + k]);
                }
            target[(o0 * out_size[1] + o1) * out_size[2] + o2] = sum;
          }
    }
  }

  const Node& node_;
  std::int64_t group_;
};

} // namespace

std::unique_ptr<Kernel> make_conv_transpose(const Node& node) { return std::make_unique<ConvTransposeKernel>(node); }

} // namespace tern::cpu
