#pragma once
// Requantization, the step from an int32 accumulation back to 8 bits (see the core's
// integer_affine.hpp): y = clamp(round_half_even(float32(x) * float32(scale[c])), lo, hi).
// Shared by the Requantize kernel and every integer Conv/Gemm/MatMul path that does not let
// oneDNN requantize (the native non-VNNI kernels, the s32 fallback of the oneDNN ones).

#include "native/rounding.hpp"

#include <tern/graph.hpp>
#include <tern/tensor.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace tern::cpu::native {

/// One requantization, read from a node's attributes.
struct Requantization {
  std::vector<float> scale; ///< 1 value (per tensor) or one per channel
  double lo = 0.0;
  double hi = 0.0;
  DataType to = DataType::Int8;

  /// One value: the product is a single float32 multiplication, so it matches the float
  /// graph Mul -> Round -> Clip exactly. Compared in double so that int32 bounds are exact;
  /// a NaN (float32 input) becomes lo.
  double apply(float x, std::size_t channel) const {
    const double v = round_half_even(x * scale[scale.size() == 1 ? 0 : channel]);
    return v >= lo ? (v <= hi ? v : hi) : lo;
  }
};

/// y[i] = r.apply(x[i]) for i < count, with channel `channel`'s scale.
template <class X, class Y>
void requantize_values(const Requantization& r, const X* x, Y* y, std::int64_t count, std::int64_t channel) {
  if constexpr (sizeof(Y) == 1) {
    // 8-bit targets: clamping to the (integer) bounds before rounding gives r.apply's result,
    // and then |v| <= 255, so the rounding needs no large-value case: a loop the compiler
    // vectorises (Requantize was half of resnet_tiny's int8 time, and this the native
    // integer Conv's epilogue).
    const float scale = r.scale[r.scale.size() == 1 ? 0 : static_cast<std::size_t>(channel)];
    const auto lo = static_cast<float>(r.lo), hi = static_cast<float>(r.hi);
    // simd: GCC's -O2 cost model would not vectorise it (x and y might alias); they never do.
#pragma omp simd
    for (std::int64_t i = 0; i < count; ++i) {
      const float v = static_cast<float>(x[i]) * scale;
      y[i] = static_cast<Y>(round_half_even_small(v >= lo ? (v <= hi ? v : hi) : lo)); // NaN: lo
    }
  } else {
    for (std::int64_t i = 0; i < count; ++i)
      y[i] = static_cast<Y>(r.apply(static_cast<float>(x[i]), static_cast<std::size_t>(channel)));
  }
}

/// The requantization in attributes `<prefix>scale`, `<prefix>lo`, `<prefix>hi`,
/// `<prefix>to`, or nullopt when `<prefix>scale` is absent (no fused requantization).
std::optional<Requantization> requantization_of(const Node& node, const std::string& prefix);

/// How a tensor is seen by per-channel arithmetic: [outer, channels, inner].
struct ChannelGeometry {
  std::int64_t channels = 1, inner = 1;
};

/// The geometry of a tensor of `shape` whose scales have `counts` values each: one (per
/// tensor) or one per index of `axis` (per channel). Every count 1: channels and inner 1,
/// the elements all outer. Fails (naming the count) where a count is neither.
ChannelGeometry channel_geometry(const Node& node, const Shape& shape, std::int64_t axis,
                                 std::initializer_list<std::size_t> counts);

/// Requantizes `x` (float32, int32, int8 or uint8) into `y` (int8, uint8 or int32, same
/// element count), both seen as [outer, channels, inner] with channel c using scale[c]
/// (channels = 1 per tensor). OpenMP over the outer blocks.
void requantize(const Requantization& r, const Tensor& x, Tensor& y, std::int64_t channels, std::int64_t inner);

} // namespace tern::cpu::native
