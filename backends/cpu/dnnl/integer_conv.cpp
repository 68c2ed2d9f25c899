// Integer Conv (int8/uint8 X, int8 W, optional int32 bias; see the core's
// integer_affine.hpp) as one oneDNN int8 convolution, on CPUs where those are exact
// (integer_support.hpp). Without requantization dst is the int32 accumulation. With it,
// oneDNN requantizes in the primitive (scales fixed at creation: 2.6 has no runtime scales
// for int8 convolution) when its float32 bias addition is provably exact; otherwise it
// writes int32 into a kernel-owned tensor that the native requantization then reads.
// Layouts as for float Conv (layout.hpp): oneDNN picks (nhwc for int8), Tern's plain
// tensors are reordered in and out (8-bit ones by byte_relayout.hpp's transposes),
// constant weights packed once; ConvChannelsLast's X and Y are nhwc already and are read
// and written in place. Without VNNI an int8 X runs shifted to uint8
// (integer_support.hpp's shifted_int8_x), its bias compensated, and padded by the kernel
// itself with 128 (the shifted zero) where the Conv pads: oneDNN would pad with 0. A
// strided 1x1 Conv has the kernel gather the pixels it reads, and the primitive runs
// unstrided.
#include "byte_relayout.hpp"
#include "context.hpp"
#include "dnnl_ops.hpp"
#include "integer_support.hpp"
#include "layout.hpp"

#include <tern/channels_last.hpp>
#include <tern/window.hpp>

#include <array>
#include <unordered_map>

namespace tern::cpu {
namespace {

using namespace onednn;
using dnnl::memory;

/// An 8-bit tensor [N, C, D...] as planes of [D, H, W] pixels (spatial axes right-aligned,
/// a missing one of size 1) of `pixel` bytes each: channels first, one plane per image and
/// channel, 1-byte pixels; channels last, one plane per image, C-byte pixels.
struct PixelPlanes {
  std::int64_t planes = 1, pixel = 1;
  std::array<std::int64_t, 3> dims{1, 1, 1};
};

/// Per-axis `values` (one per spatial axis) right-aligned into [D, H, W], `fill` where missing.
std::array<std::int64_t, 3> right_aligned(std::span<const std::int64_t> values, std::int64_t fill) {
  std::array<std::int64_t, 3> aligned{fill, fill, fill};
  std::ranges::copy(values, aligned.end() - static_cast<std::ptrdiff_t>(values.size()));
  return aligned;
}

PixelPlanes pixel_planes(const Shape& first, bool channels_last) {
  return {channels_last ? first[0] : first[0] * first[1], channels_last ? first[1] : 1,
          right_aligned(std::span(first.begin() + 2, first.end()), 1)};
}

class IntegerConvKernel final : public DnnlKernel {
public:
  IntegerConvKernel(const Node& node, bool channels_last)
      : DnnlKernel(node, {DataType::Int8, DataType::UInt8, DataType::Int32}), channels_last_(channels_last),
        weights_(constant_input(node, 1) != nullptr), requantization_(native::requantization_of(node, "requantize_")) {}

private:
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    const Shape x = channels_first_view(inputs[0].shape(), channels_last_);
    const Shape& w = inputs[1].shape();
    const Shape y = channels_first_view(outputs[0].shape(), channels_last_);
    require(inputs[0].dtype() != DataType::Int32 && inputs[1].dtype() == DataType::Int8, [&] {
      return "expected int8/uint8 X and int8 W, got " + inputs[0].describe() + " and " + inputs[1].describe();
    });
    require(x.rank() >= 3 && x.rank() <= 5,
            [&] { return "X is " + x.to_string() + "; oneDNN convolves 1-, 2- and 3-D inputs"; });
    require(w.rank() == x.rank(), [&] { return "W " + w.to_string() + " must have the rank of X " + x.to_string(); });
    const auto group = node().attr<std::int64_t>("group");
    require(group >= 1 && w[0] % group == 0 && w[1] * group == x[1], [&] {
      return "W " + w.to_string() + " does not fit X " + x.to_string() + " with group " + std::to_string(group);
    });
    const bool given_bias = inputs.size() > 2 && inputs[2].defined();
    if (given_bias)
      require(inputs[2].dtype() == DataType::Int32 && inputs[2].shape() == Shape{w[0]},
              [&] { return "B is " + inputs[2].describe() + "; expected int32[" + std::to_string(w[0]) + "]"; });
    const std::int64_t taps = w.numel() / std::max<std::int64_t>(w[0], 1);
    Window window = resolve_window(node(), x, std::vector<std::int64_t>(w.begin() + 2, w.end()));
    shift_ = shifted_int8_x(node());
    // A strided 1x1 Conv reads only every stride-th pixel: the kernel gathers them (shifting
    // them too when it shifts) and the primitive runs unstrided. oneDNN's own gathering for
    // it gave wrong int8 sums about once in eight runs on two threads (AVX2, oneDNN 2.6).
    const bool gathers = taps == w[1] && std::ranges::any_of(window.strides, [](std::int64_t s) { return s > 1; }) &&
                         std::ranges::all_of(window.pads_begin, [](std::int64_t p) { return p == 0; }) &&
                         std::ranges::all_of(window.pads_end, [](std::int64_t p) { return p == 0; });
    staging_ = gathers ? Staging::Gather : shift_ ? Staging::ShiftAndPad : Staging::None;
    staged_ = gathers  ? gather_buffer(x, y, shift_ ? DataType::UInt8 : inputs[0].dtype())
               : shift_ ? padded_shift_buffer(x, window)
                       : Tensor();
    x_planes_ = pixel_planes(x, channels_last_);
    if (staged_.defined()) staged_planes_ = pixel_planes(staged_.shape(), channels_last_);
    shifted_bias_ = shift_ ? compensated_bias(inputs[1], given_bias ? &inputs[2] : nullptr, taps) : Tensor();
    const bool has_bias = given_bias || shift_;
    const Tensor* bias_values = shift_ ? &shifted_bias_ : constant_input(node(), 2);
    const DataType y_type = requantization_ ? requantization_->to : DataType::Int32;
    require(outputs[0].dtype() == y_type,
            [&] { return "Y is " + outputs[0].describe() + ", expected " + std::string(name(y_type)); });

    strides_ = window.strides;
    pads_begin_ = window.pads_begin;
    if (staged_.defined()) { // the buffer holds the pads and the strides: the primitive reads no more
      std::ranges::fill(window.pads_begin, 0);
      std::ranges::fill(window.pads_end, 0);
      if (gathers) std::ranges::fill(window.strides, 1);
    }
    const Shape& src = staged_.defined() ? staged_.shape() : x;
    Dims dilations;
    for (const std::int64_t d : window.dilations) dilations.push_back(d - 1); // oneDNN counts the gaps
    Dims weight_dims = dims_of(w);
    if (group > 1) { // [G, M/G, C/G, k...]: the same bytes as ONNX's [M, C/G, k...]
      weight_dims[0] = w[0] / group;
      weight_dims.insert(weight_dims.begin(), group);
    }

    // Requantize in the primitive unless a bias makes its float32 sum unprovable.
    const std::int64_t x_max = inputs[0].dtype() == DataType::UInt8 || shift_ ? 255 : 128;
    in_primitive_ = requantization_ &&
                    (!has_bias || bias_sum_exact(constant_input(node(), 1), bias_values, w[0], taps, taps, 1, x_max));
    const memory::data_type src_type = dnnl_type(shift_ ? DataType::UInt8 : inputs[0].dtype());
    const memory::data_type s8 = memory::data_type::s8;
    const memory::data_type dst_type = in_primitive_ ? dnnl_type(y_type) : memory::data_type::s32;
    const dnnl::primitive_attr attr =
        user_scratchpad(in_primitive_ ? requantize_attr(*requantization_, 1) : dnnl::primitive_attr());
    const memory::desc bias = has_bias ? plain_desc({w[0]}, memory::data_type::s32) : memory::desc();
    // oneDNN's int8 kernels take channels last (nhwc) only: a plain or channel-blocked dst
    // gets its reference loop (checked in 2.6), so "any" it is, reordered to Tern's nchw.
    const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                               any(dims_of(src), src_type), any(weight_dims, s8), bias,
                                               any(dims_of(y), dst_type), window.strides, dilations, window.pads_begin,
                                               window.pads_end);
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine(), /*allow_empty=*/true);
    require(static_cast<bool>(pd), [&] {
      return "oneDNN has no int8 convolution for X " + x.to_string() + ", W " + w.to_string() + " and these attributes";
    });
    conv_ = Primitive(pd);
    src_.prepare(tensor_desc(dims_of(src), channels_last_, src_type), pd.src_desc(), ScratchSlot::Source);
    weights_.prepare(plain_desc(weight_dims, s8), pd.weights_desc());
    dst_.prepare(tensor_desc(dims_of(y), channels_last_, dst_type), pd.dst_desc(), ScratchSlot::Destination);
    accumulators_ = requantization_ && !in_primitive_ ? Tensor(outputs[0].shape(), DataType::Int32) : Tensor();
    // The requantization's channels: Y's second axis, or its last (a pixel's values).
    requantized_channels_ = y[1];
    requantized_inner_ = channels_last_ ? 1 : y.numel() / std::max<std::int64_t>(y[0] * y[1], 1);
    args_.clear();
    if (has_bias) args_[DNNL_ARG_BIAS] = unbound(bias);
  }

  std::int64_t multiply_adds(std::span<const Tensor> inputs, std::span<Tensor> outputs) const override {
    return affine_multiply_adds(inputs[1], outputs[0].numel(), inputs[1].shape()[0]);
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    Tensor& target = accumulators_.defined() ? accumulators_ : outputs[0];
    if (staging_ == Staging::ShiftAndPad) shift_to_uint8(inputs[0], x_planes_, staged_, staged_planes_, pads_begin_);
    if (staging_ == Staging::Gather) gather(inputs[0], x_planes_, staged_, staged_planes_, strides_, shift_);
    args_[DNNL_ARG_SRC] = src_.read(staged_.defined() ? staged_ : inputs[0]);
    args_[DNNL_ARG_WEIGHTS] = weights_.read(inputs[1]);
    args_[DNNL_ARG_DST] = dst_.write(target);
    if (const auto bias = args_.find(DNNL_ARG_BIAS); bias != args_.end())
      bind(bias->second, shift_ ? shifted_bias_ : inputs[2]);
    conv_.execute(args_);
    dst_.written();
    if (!accumulators_.defined()) return;
    native::requantize(*requantization_, accumulators_, outputs[0], requantized_channels_, requantized_inner_);
  }

  /// b - 128 · sum(W) per output channel (b absent: 0), for X shifted by 128.
  static Tensor compensated_bias(const Tensor& weights, const Tensor* bias, std::int64_t taps) {
    const std::int64_t channels = weights.shape()[0];
    Tensor result(Shape{channels}, DataType::Int32);
    const std::int8_t* w = weights.data<std::int8_t>();
    for (std::int64_t c = 0; c < channels; ++c) {
      std::int64_t sum = 0;
      for (std::int64_t t = 0; t < taps; ++t) sum += w[c * taps + t];
      const std::int64_t b = bias != nullptr ? bias->data<std::int32_t>()[c] : 0;
      result.data<std::int32_t>()[c] = static_cast<std::int32_t>(b - 128 * sum);
    }
    return result;
  }

  /// The uint8 buffer of X shifted and padded as `window` pads it, its pads 128 (0 shifted)
  /// once and for all: execute writes only the inside.
  static Tensor padded_shift_buffer(const Shape& x, const Window& window) {
    std::vector<std::int64_t> dims{x[0], x[1]};
    for (std::size_t d = 0; d + 2 < x.rank(); ++d) dims.push_back(x[d + 2] + window.pads_begin[d] + window.pads_end[d]);
    Tensor buffer{Shape(dims), DataType::UInt8};
    std::fill_n(buffer.data<std::uint8_t>(), buffer.numel(), std::uint8_t{0x80});
    return buffer;
  }

  /// x + 128 as uint8 (the top bit of each byte flipped) into the inside of `shifted`, which
  /// is x padded by `pads_begin` before each spatial axis (and as much as fits after).
  static void shift_to_uint8(const Tensor& x, const PixelPlanes& in, Tensor& shifted, const PixelPlanes& out,
                             const std::vector<std::int64_t>& pads_begin) {
    const std::array<std::int64_t, 3> pad = right_aligned(pads_begin, 0);
    const std::int64_t rows = in.dims[0] * in.dims[1], row_bytes = in.dims[2] * in.pixel;
    const std::int8_t* from_x = x.data<std::int8_t>();
    std::uint8_t* to_shifted = shifted.data<std::uint8_t>();
#pragma omp parallel for if (x.numel() > (1 << 16))
    for (std::int64_t row = 0; row < in.planes * rows; ++row) {
      const std::int64_t plane = row / rows, d = row % rows / in.dims[1], h = row % in.dims[1];
      const std::int8_t* from = from_x + row * row_bytes;
      std::uint8_t* to =
          to_shifted +
          (((plane * out.dims[0] + d + pad[0]) * out.dims[1] + h + pad[1]) * out.dims[2] + pad[2]) * out.pixel;
      for (std::int64_t i = 0; i < row_bytes; ++i)
        to[i] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(from[i]) ^ 0x80U);
    }
  }

  /// The 8-bit buffer of the pixels a strided 1x1 Conv reads: X's batch and channels, Y's
  /// spatial sizes.
  static Tensor gather_buffer(const Shape& x, const Shape& y, DataType type) {
    std::vector<std::int64_t> dims(y.begin(), y.end());
    dims[1] = x[1];
    return Tensor(Shape(dims), type);
  }

  /// Every strides-th pixel of x (8-bit, no pads) into `gathered`, its top bit flipped when
  /// `flip` (the int8 shift).
  static void gather(const Tensor& x, const PixelPlanes& in, Tensor& gathered, const PixelPlanes& out,
                     const std::vector<std::int64_t>& strides, bool flip) {
    const std::array<std::int64_t, 3> step = right_aligned(strides, 1);
    const std::int64_t rows = out.dims[0] * out.dims[1], width = out.dims[2], pixel = in.pixel;
    const std::uint8_t mask = flip ? 0x80U : 0U;
    const auto* from_x = static_cast<const std::uint8_t*>(x.raw());
    auto* to_gathered = static_cast<std::uint8_t*>(gathered.raw());
#pragma omp parallel for if (gathered.numel() > (1 << 16))
    for (std::int64_t row = 0; row < out.planes * rows; ++row) {
      const std::int64_t plane = row / rows, d = row % rows / out.dims[1], h = row % out.dims[1];
      const std::uint8_t* from =
          from_x + ((plane * in.dims[0] + d * step[0]) * in.dims[1] + h * step[1]) * in.dims[2] * pixel;
      std::uint8_t* to = to_gathered + row * width * pixel;
      for (std::int64_t i = 0; i < width; ++i)
        for (std::int64_t c = 0; c < pixel; ++c)
          to[i * pixel + c] = static_cast<std::uint8_t>(from[i * step[2] * pixel + c] ^ mask);
    }
  }

  const bool channels_last_; ///< ConvChannelsLast: X and Y are [N, D..., C]
  Primitive conv_;
  ByteRelayout src_, dst_;
  WeightsOperand weights_;
  const std::optional<native::Requantization> requantization_;
  bool in_primitive_ = false;
  Tensor accumulators_; ///< int32 Y when requantizing after the primitive, else undefined
  /// What the kernel does to X before the primitive reads it.
  enum class Staging {
    None,
    ShiftAndPad, ///< X + 128 as uint8 (shifted_int8_x), padded with 128 (the shifted zero)
    Gather,      ///< a strided 1x1 Conv's pixels, shifted when shift_
  };
  Staging staging_ = Staging::None;
  bool shift_ = false;                   ///< X is int8 run as X + 128 (shifted_int8_x)
  Tensor staged_;                        ///< X as staging_ says (undefined for None)
  std::vector<std::int64_t> strides_;    ///< the Conv's strides (Gather)
  std::vector<std::int64_t> pads_begin_; ///< where X starts inside staged_ along each spatial axis (ShiftAndPad)
  PixelPlanes x_planes_, staged_planes_; ///< X's and staged_'s pixels (staged_ shares X's layout)
  std::int64_t requantized_channels_ = 0, requantized_inner_ = 0; ///< Y's geometry for native::requantize
  Tensor shifted_bias_;                                           ///< the bias that compensates the shift
  std::unordered_map<int, memory> args_;
};

} // namespace

std::unique_ptr<Kernel> make_integer_conv(const Node& node) { return std::make_unique<IntegerConvKernel>(node, false); }

std::unique_ptr<Kernel> make_integer_conv_channels_last(const Node& node) {
  return std::make_unique<IntegerConvKernel>(node, true);
}

} // namespace tern::cpu
