// Requantize (float32/int32/int8/uint8 -> int8/uint8/int32), per tensor or per channel
// along "axis"; the helpers the integer Conv/Gemm/MatMul paths share (requantize.hpp).
#include "native/requantize.hpp"

#include "native/common.hpp"
#include "native/native_ops.hpp"

#include <algorithm>
#include <type_traits>
#include <vector>

namespace tern::cpu {
namespace native {

std::optional<Requantization> requantization_of(const Node& node, const std::string& prefix) {
  if (!node.attrs().has(prefix + "scale")) return std::nullopt;
  Requantization r;
  for (const double s : node.attr<std::vector<double>>(prefix + "scale")) r.scale.push_back(static_cast<float>(s));
  r.lo = static_cast<double>(node.attr<std::int64_t>(prefix + "lo"));
  r.hi = static_cast<double>(node.attr<std::int64_t>(prefix + "hi"));
  const std::string to = node.attr<std::string>(prefix + "to");
  const std::optional<DataType> type = parse_data_type(to);
  require(node, type == DataType::Int8 || type == DataType::UInt8 || type == DataType::Int32,
          "attribute '" + prefix + "to' is '" + to + "'; expected int8, uint8 or int32");
  r.to = *type;
  return r;
}

ChannelGeometry channel_geometry(const Node& node, const Shape& shape, std::int64_t axis,
                                 std::initializer_list<std::size_t> counts) {
  ChannelGeometry geometry;
  if (std::ranges::all_of(counts, [](std::size_t count) { return count == 1; })) return geometry;
  const std::size_t a = normalize_axis(node, axis, shape.rank(), "attribute 'axis'");
  geometry.channels = shape[a];
  for (std::size_t d = a + 1; d < shape.rank(); ++d) geometry.inner *= shape[d];
  for (const std::size_t count : counts)
    require(node, count == 1 || static_cast<std::int64_t>(count) == geometry.channels, [&] {
      return "a scale has " + std::to_string(count) + " values, but axis " + std::to_string(a) + " of " +
             shape.to_string() + " has " + std::to_string(geometry.channels);
    });
  return geometry;
}

namespace {

/// An 8-bit x takes 256 values: each channel's results, tabulated once with r.apply (the
/// same arithmetic), are then looked up. For int32 targets (the terms of an integer residual
/// Add) the exact per-element path does not vectorise and was 60% of resnet_tiny's int8 time.
template <class X, class Y> void requantize_by_table(const Requantization& r, const X* x, Y* y, std::int64_t outer,
                                                     std::int64_t channels, std::int64_t inner) {
  std::vector<Y> table(static_cast<std::size_t>(channels) * 256);
  for (std::size_t c = 0; c < static_cast<std::size_t>(channels); ++c)
    for (std::size_t bits = 0; bits < 256; ++bits) // every value of X, by its bit pattern
      table[c * 256 + bits] = static_cast<Y>(r.apply(static_cast<float>(static_cast<X>(bits)), c));
  const std::int64_t block = channels * inner;
#pragma omp parallel for if (outer * block > (1 << 15))
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t c = 0; c < channels; ++c) {
      const Y* row = table.data() + c * 256;
      for (std::int64_t i = o * block + c * inner; i < o * block + (c + 1) * inner; ++i)
        y[i] = row[static_cast<std::uint8_t>(x[i])];
    }
}

template <class X, class Y> void requantize_typed(const Requantization& r, const X* x, Y* y, std::int64_t outer,
                                                  std::int64_t channels, std::int64_t inner) {
  const std::int64_t block = channels * inner;
  if constexpr (sizeof(X) == 1 && sizeof(Y) == 4) {
    if (outer * block >= channels * 256 * 4) return requantize_by_table(r, x, y, outer, channels, inner);
  }
  if (channels == 1) {
    // Per tensor: one flat loop in chunks (a chunk per element would defeat vectorisation).
    for_each_chunk(outer * block, 1 << 14, 2,
                   [&](std::int64_t begin, std::int64_t size) { requantize_values(r, x + begin, y + begin, size, 0); });
    return;
  }
#pragma omp parallel for if (outer * block > (1 << 15))
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t c = 0; c < channels; ++c)
      requantize_values(r, x + o * block + c * inner, y + o * block + c * inner, inner, c);
}

} // namespace

void requantize(const Requantization& r, const Tensor& x, Tensor& y, std::int64_t channels, std::int64_t inner) {
  const std::int64_t outer = x.numel() / std::max<std::int64_t>(channels * inner, 1);
  dispatch(x.dtype(), [&](auto in_tag) {
    using X = typename decltype(in_tag)::type;
    if constexpr (std::is_same_v<X, float> || std::is_same_v<X, std::int32_t> || std::is_same_v<X, std::int8_t> ||
                  std::is_same_v<X, std::uint8_t>) {
      dispatch(y.dtype(), [&](auto out_tag) {
        using Y = typename decltype(out_tag)::type;
        if constexpr (std::is_same_v<Y, std::int32_t> || std::is_same_v<Y, std::int8_t> ||
                      std::is_same_v<Y, std::uint8_t>)
          requantize_typed(r, x.data<X>(), y.data<Y>(), outer, channels, inner);
      });
    }
  });
}

} // namespace native

namespace {

class RequantizeKernel final : public Kernel {
public:
  explicit RequantizeKernel(const Node& node)
      : node_(node), requantization_(*native::requantization_of(node, "")), axis_(node.attr<std::int64_t>("axis")) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 1, 1, 1);
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    const DataType in = x.dtype();
    native::require(node_,
                    in == DataType::Float32 || in == DataType::Int32 || in == DataType::Int8 || in == DataType::UInt8,
                    [&] { return "x is " + std::string(name(in)) + ", expected float32, int32, int8 or uint8"; });
    native::require_dtype(node_, y, requantization_.to, "output");
    native::require_shape(node_, y.shape(), x.shape(), "output");
    const auto [channels, inner] = native::channel_geometry(node_, x.shape(), axis_, {requantization_.scale.size()});
    native::requantize(requantization_, x, y, channels, inner);
  }

private:
  const Node& node_;
  const native::Requantization requantization_;
  const std::int64_t axis_;
};

} // namespace

std::unique_ptr<Kernel> make_requantize(const Node& node) { return std::make_unique<RequantizeKernel>(node); }

} // namespace tern::cpu
