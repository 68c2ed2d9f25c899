// QuantizeLinear (float32 -> int8/uint8) and DequantizeLinear (int8/uint8/int32 -> float32),
// per tensor (a scalar or one-element scale) or per slice along attribute "axis" (a 1-D
// scale with one value per slice). Both walk x as [outer, channels, inner] blocks, so one
// scale and zero point serve a contiguous run of elements.
#include "native/common.hpp"
#include "native/native_ops.hpp"
#include "native/rounding.hpp"

namespace tern::cpu {
namespace {

constexpr std::size_t scale_input = 1;
constexpr std::size_t zero_point_input = 2;

/// x seen as [outer, channels, inner]: channels is 1 per tensor.
struct Blocks {
  std::int64_t outer = 1;
  std::int64_t channels = 1;
  std::int64_t inner = 1;
};

/// Checks scale and zero point against x and splits x into blocks that share one of each.
Blocks blocks_of(const Node& node, std::span<const Tensor> inputs, std::int64_t axis_attr) {
  const Tensor& x = inputs[0];
  const Tensor& scale = inputs[scale_input];
  native::require_dtype(node, scale, DataType::Float32, "the scale");
  native::require(node, scale.shape().rank() <= 1,
                  "the scale " + scale.shape().to_string() + " must be a scalar or 1-D");
  if (inputs.size() > zero_point_input && inputs[zero_point_input].defined() &&
      (scale.numel() != 1 || inputs[zero_point_input].numel() != 1)) // one value each: per tensor
    native::require_shape(node, inputs[zero_point_input].shape(), scale.shape(), "the zero point");
  Blocks blocks;
  blocks.inner = x.numel();
  if (scale.numel() == 1) return blocks; // per tensor, whatever the axis
  const std::size_t axis = native::normalize_axis(node, axis_attr, x.shape().rank(), "attribute 'axis'");
  const Shape& shape = x.shape();
  native::require(node, scale.numel() == shape[axis],
                  "the scale has " + std::to_string(scale.numel()) + " values, but axis " + std::to_string(axis) +
                      " of x " + shape.to_string() + " has " + std::to_string(shape[axis]));
  blocks.channels = shape[axis];
  blocks.inner = 1;
  blocks.outer = 1;
  for (std::size_t d = 0; d < axis; ++d) blocks.outer *= shape[d];
  for (std::size_t d = axis + 1; d < shape.rank(); ++d) blocks.inner *= shape[d];
  return blocks;
}

/// Calls fn(channel, first element, element count) for every block, in parallel when large.
template <class Fn> void for_each_block(const Blocks& blocks, Fn&& fn) {
  const std::int64_t count = blocks.outer * blocks.channels;
#pragma omp parallel for if (count * blocks.inner > (1 << 16))
  for (std::int64_t b = 0; b < count; ++b) fn(b % blocks.channels, b * blocks.inner, blocks.inner);
}

/// The zero point of every channel as int64 (0 when absent).
std::vector<std::int64_t> zero_points(std::span<const Tensor> inputs, std::int64_t channels) {
  if (inputs.size() > zero_point_input && inputs[zero_point_input].defined())
    return inputs[zero_point_input].to_int64s();
  return std::vector<std::int64_t>(static_cast<std::size_t>(channels), 0);
}

class QuantizeKernel final : public Kernel {
public:
  explicit QuantizeKernel(const Node& node) : node_(node), axis_(node.attr<std::int64_t>("axis")) {}

  // y = saturate(round_half_even(x / scale) + zero_point), ONNX's formula.
  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 2, 3, 1, 1);
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    native::require_dtype(node_, x, DataType::Float32, "x");
    const bool has_zero_point = inputs.size() > zero_point_input && inputs[zero_point_input].defined();
    const DataType type = has_zero_point ? inputs[zero_point_input].dtype() : DataType::UInt8;
    native::require(node_, type == DataType::Int8 || type == DataType::UInt8,
                    "the zero point is " + std::string(name(type)) + ", expected int8 or uint8");
    native::require_dtype(node_, y, type, "output");
    native::require_shape(node_, y.shape(), x.shape(), "output");
    const Blocks blocks = blocks_of(node_, inputs, axis_);
    const float* scale = inputs[scale_input].data<float>();
    const std::vector<std::int64_t> zero = zero_points(inputs, blocks.channels);
    const float* in = x.data<float>();
    dispatch(type, [&](auto tag) {
      using Q = typename decltype(tag)::type;
      if constexpr (std::is_same_v<Q, std::int8_t> || std::is_same_v<Q, std::uint8_t>) {
        Q* out = y.data<Q>();
        for_each_block(blocks, [&](std::int64_t c, std::int64_t first, std::int64_t count) {
          const float s = scale[c];
          const auto z = static_cast<float>(zero[static_cast<std::size_t>(c)]);
          for (std::int64_t i = first; i < first + count; ++i)
            out[i] = static_cast<Q>(saturate(native::round_half_even(in[i] / s) + z, type));
        });
      }
    });
  }

private:
  const Node& node_;
  std::int64_t axis_;
};

class DequantizeKernel final : public Kernel {
public:
  explicit DequantizeKernel(const Node& node) : node_(node), axis_(node.attr<std::int64_t>("axis")) {}

  // y = (x - zero_point) * scale; the difference is exact in int64 before it becomes float.
  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 2, 3, 1, 1);
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    const DataType type = x.dtype();
    native::require(node_, type == DataType::Int8 || type == DataType::UInt8 || type == DataType::Int32,
                    "x is " + std::string(name(type)) + ", expected int8, uint8 or int32");
    if (inputs.size() > zero_point_input && inputs[zero_point_input].defined())
      native::require_dtype(node_, inputs[zero_point_input], type, "the zero point");
    native::require_dtype(node_, y, DataType::Float32, "output");
    native::require_shape(node_, y.shape(), x.shape(), "output");
    const Blocks blocks = blocks_of(node_, inputs, axis_);
    const float* scale = inputs[scale_input].data<float>();
    const std::vector<std::int64_t> zero = zero_points(inputs, blocks.channels);
    float* out = y.data<float>();
    dispatch(type, [&](auto tag) {
      using Q = typename decltype(tag)::type;
      if constexpr (std::is_same_v<Q, std::int8_t> || std::is_same_v<Q, std::uint8_t> ||
                    std::is_same_v<Q, std::int32_t>) {
        const Q* in = x.data<Q>();
        for_each_block(blocks, [&](std::int64_t c, std::int64_t first, std::int64_t count) {
          const float s = scale[c];
          const std::int64_t z = zero[static_cast<std::size_t>(c)];
          for (std::int64_t i = first; i < first + count; ++i)
            out[i] = static_cast<float>(static_cast<std::int64_t>(in[i]) - z) * s;
        });
      }
    });
  }

private:
  const Node& node_;
  std::int64_t axis_;
};

} // namespace

std::unique_ptr<Kernel> make_quantize_linear(const Node& node) { return std::make_unique<QuantizeKernel>(node); }
std::unique_ptr<Kernel> make_dequantize_linear(const Node& node) { return std::make_unique<DequantizeKernel>(node); }

} // namespace tern::cpu
