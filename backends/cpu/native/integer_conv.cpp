// Integer Conv on CPUs whose int8 oneDNN kernels are not exact (no VNNI: they sum u8 x s8
// pairs with a saturating 16-bit instruction). Exact int32 accumulation: im2col of 16
// output positions at a time, multiplied by the packed weights in int16 pairs (int8_gemm).
// 1-, 2- and 3-D (lower ranks are run as 3-D with unit axes); groups, pads, strides,
// dilations; optional int32 bias; optional fused requantization.
#include "native/common.hpp"
#include "native/int8_gemm.hpp"
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

  /// The im2col columns of one block: column c is output position block * 16 + c, depth
  /// index k runs over (input channel of the group, kd, kh, kw); padding reads 0.
  template <class X> static void pack_columns(const Geometry& g, std::int64_t per_group_in, const X* x_group,
                                              std::int64_t block, std::int16_t* columns) {
    std::array<Dims3, native::block_columns> origin{}; // input coordinates of tap (0, 0, 0)
    std::int64_t valid = 0;
    for (std::int64_t c = 0; c < native::block_columns; ++c) {
      const std::int64_t p = block * native::block_columns + c;
      if (p >= g.out[0] * g.out[1] * g.out[2]) break;
      const Dims3 out{p / (g.out[1] * g.out[2]), p / g.out[2] % g.out[1], p % g.out[2]};
      for (std::size_t a = 0; a < 3; ++a) origin[static_cast<std::size_t>(c)][a] = out[a] * g.stride[a] - g.pad[a];
      valid = c + 1;
    }
    const std::int64_t in_plane = g.in[0] * g.in[1] * g.in[2];
    std::int64_t k = 0;
    for (std::int64_t channel = 0; channel < per_group_in; ++channel)
      for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd)
        for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh)
          for (std::int64_t kw = 0; kw < g.kernel[2]; ++kw, ++k)
            for (std::int64_t c = 0; c < valid; ++c) {
              const Dims3& o = origin[static_cast<std::size_t>(c)];
              const std::int64_t id = o[0] + kd * g.dilation[0], ih = o[1] + kh * g.dilation[1],
                                 iw = o[2] + kw * g.dilation[2];
              if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1] || iw < 0 || iw >= g.in[2]) continue;
              native::set_column_value(columns, k, c, x_group[channel * in_plane + (id * g.in[1] + ih) * g.in[2] + iw]);
            }
  }

  /// Per (image, group, block of 16 output positions): im2col, then the exact int8 product
  /// with the group's packed weights, then bias and requantization.
  template <class X, class Y>
  void convolve(const Geometry& g, const X* x, const std::int8_t* w, const std::int32_t* bias, Y* y) {
    const std::int64_t per_group_in = g.channels / g.group, per_group_out = g.outputs / g.group;
    const std::int64_t in_plane = g.in[0] * g.in[1] * g.in[2], out_plane = g.out[0] * g.out[1] * g.out[2];
    const std::int64_t depth = per_group_in * g.kernel[0] * g.kernel[1] * g.kernel[2];
    // Constant weights are packed once; computed ones on every run.
    const bool constant = node_.input(1) != nullptr && node_.input(1)->constant() != nullptr;
    if (!constant || packed_.empty()) {
      packed_.clear();
      for (std::int64_t group = 0; group < g.group; ++group)
        packed_.emplace_back(w + group * per_group_out * depth, per_group_out, depth, depth, 1);
    }
    const std::vector<native::PackedWeights>& weights = packed_;
    const std::int64_t blocks = ceil_div(out_plane, native::block_columns);
    const native::Requantization* r = requantization_ ? &*requantization_ : nullptr;
#pragma omp parallel
    {
      std::vector<std::int16_t> columns(native::column_block_size(weights[0].pairs()));
      std::vector<std::int32_t> tile(static_cast<std::size_t>(weights[0].padded_rows() * native::block_columns));
#pragma omp for collapse(3) schedule(static)
      for (std::int64_t n = 0; n < g.batch; ++n) {
        for (std::int64_t group = 0; group < g.group; ++group) {
          for (std::int64_t block = 0; block < blocks; ++block) {
            std::fill(columns.begin(), columns.end(), std::int16_t{0});
            pack_columns(g, per_group_in, x + (n * g.channels + group * per_group_in) * in_plane, block,
                         columns.data());
            weights[static_cast<std::size_t>(group)].multiply(columns.data(), tile.data());
            const std::int64_t first = block * native::block_columns;
            const std::int64_t count = std::min(native::block_columns, out_plane - first);
            for (std::int64_t m = 0; m < per_group_out; ++m) {
              const std::int64_t channel = group * per_group_out + m;
              Y* out = y + (n * g.outputs + channel) * out_plane + first;
              std::int32_t* sums = tile.data() + m * native::block_columns;
              if (bias)
                for (std::int64_t c = 0; c < count; ++c) sums[c] += bias[channel];
              if (r)
                native::requantize_values(*r, sums, out, count, channel);
              else
                for (std::int64_t c = 0; c < count; ++c) out[c] = static_cast<Y>(sums[c]);
            }
          }
        }
      }
    }
  }

  const Node& node_;
  const std::optional<native::Requantization> requantization_;
  std::vector<native::PackedWeights> packed_; ///< per group
};

} // namespace

std::unique_ptr<Kernel> make_native_integer_conv(const Node& node) { return std::make_unique<IntegerConvKernel>(node); }

} // namespace tern::cpu
