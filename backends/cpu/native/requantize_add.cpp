// RequantizeAdd (the core's fuse_requantize_add): an integer residual Add in one pass,
// y = Requantize(t_a + t_b) with each term t = round(float32(x) * scale[c]) an int32, as the
// four nodes it replaces compute it: both branches read once, the 8-bit sum written once.
#include "native/common.hpp"
#include "native/cpu_features.hpp"
#include "native/native_ops.hpp"
#include "native/requantize.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace tern::cpu {
namespace {

using native::Requantization;

template <class T> constexpr bool eight_bit = std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>;

/// A term round(x) as an int32 (|x| below 2^31, as the recipe ensures), rounding half to even:
/// from 2^23 up x is an integer already; below, adding and taking away 2^23 of its sign rounds
/// it in the default mode. The choice is made with integer masks, which GCC vectorises even
/// for SSE2 (a float select or nearbyint leaves the loop scalar there).
inline std::int32_t round_term(float x) {
  constexpr float integral = 8388608.0f; // 2^23
  const float magic = std::copysign(integral, x);
  const auto rounded = static_cast<std::int32_t>((x + magic) - magic);
  const auto exact = static_cast<std::int32_t>(x);
  const std::int32_t small = -static_cast<std::int32_t>(std::fabs(x) < integral);
  return (rounded & small) | (exact & ~small);
}

/// One row of `count` elements, the scales of element i sa[i], sb[i], s[i] when
/// `per_element` (a channels-last pixel: one channel each), else sa[0], sb[0], s[0] (a row
/// of one channel). Each term is an integer float32, converted to int32 exactly; the recipe
/// fuses only sums within int32, so the int32 sum is exact and float32(sum) rounds as the
/// int32 -> float32 conversion of the unfused Requantize does. Inlined into add_row and
/// add_row_avx2, vectorised for each one's instruction set (four or eight lanes).
template <bool per_element, class A, class B, class Y>
[[gnu::always_inline]] inline void add_row_loop(const A* a, const B* b, Y* y, std::int64_t count, const float* sa,
                                                const float* sb, const float* s, float lo, float hi) {
#pragma omp simd
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t k = per_element ? i : 0;
    const auto ta = round_term(static_cast<float>(a[i]) * sa[k]);
    const auto tb = round_term(static_cast<float>(b[i]) * sb[k]);
    const float v = static_cast<float>(ta + tb) * s[k];
    y[i] = static_cast<Y>(native::round_half_even_small(v >= lo ? (v <= hi ? v : hi) : lo));
  }
}

#if defined(__x86_64__)
template <bool per_element, class A, class B, class Y>
__attribute__((target("avx2"))) void add_row_avx2(const A* a, const B* b, Y* y, std::int64_t count, const float* sa,
                                                  const float* sb, const float* s, float lo, float hi) {
  add_row_loop<per_element>(a, b, y, count, sa, sb, s, lo, hi);
}
#endif

/// add_row_loop on AVX2 where native::use_avx2() says so (no FMA: the products round as
/// the unfused nodes' do), portably elsewhere.
template <bool per_element, class A, class B, class Y> void add_row(const A* a, const B* b, Y* y, std::int64_t count,
                                                                    const float* sa, const float* sb, const float* s,
                                                                    float lo, float hi) {
#if defined(__x86_64__)
  if (native::use_avx2()) return add_row_avx2<per_element>(a, b, y, count, sa, sb, s, lo, hi);
#endif
  add_row_loop<per_element>(a, b, y, count, sa, sb, s, lo, hi);
}

class RequantizeAddKernel final : public Kernel {
public:
  explicit RequantizeAddKernel(const Node& node)
      : node_(node), a_scale_(floats(node, "a_scale")), b_scale_(floats(node, "b_scale")),
        sum_(*native::requantization_of(node, "")), axis_(node.attr<std::int64_t>("axis")) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 2, 2, 1, 1);
    const Tensor& a = inputs[0];
    const Tensor& b = inputs[1];
    Tensor& y = outputs[0];
    for (const Tensor* x : {&a, &b})
      native::require(node_, x->dtype() == DataType::Int8 || x->dtype() == DataType::UInt8,
                      [&] { return "the operands must be int8 or uint8, not " + std::string(name(x->dtype())); });
    native::require_shape(node_, b.shape(), a.shape(), "input 1");
    native::require_dtype(node_, y, sum_.to, "output");
    native::require_shape(node_, y.shape(), a.shape(), "output");
    const Shape& shape = a.shape();
    const auto [channels, inner] =
        native::channel_geometry(node_, shape, axis_, {a_scale_.size(), b_scale_.size(), sum_.scale.size()});
    dispatch(a.dtype(), [&](auto a_tag) {
      dispatch(b.dtype(), [&](auto b_tag) {
        dispatch(y.dtype(), [&](auto y_tag) {
          using A = typename decltype(a_tag)::type;
          using B = typename decltype(b_tag)::type;
          using Y = typename decltype(y_tag)::type;
          if constexpr (eight_bit<A> && eight_bit<B> && eight_bit<Y>)
            add(a.data<A>(), b.data<B>(), y.data<Y>(), shape.numel() / std::max<std::int64_t>(channels * inner, 1),
                channels, inner);
        });
      });
    });
  }

private:
  static std::vector<float> floats(const Node& node, const std::string& key) {
    std::vector<float> values;
    for (const double v : node.attr<std::vector<double>>(key)) values.push_back(static_cast<float>(v));
    return values;
  }

  static const float* of_channel(const std::vector<float>& scale, std::int64_t c) {
    return scale.data() + (scale.size() == 1 ? 0 : c);
  }

  /// One scale per channel (a per-tensor scale repeated).
  static std::vector<float> per_channel(const std::vector<float>& scale, std::int64_t channels) {
    return scale.size() == 1 ? std::vector<float>(static_cast<std::size_t>(channels), scale[0]) : scale;
  }

  /// [outer, channels, inner]: per tensor in chunks, else in rows of one channel (channels
  /// last, inner 1: rows of one pixel's channels), OpenMP over them when there is enough work.
  template <class A, class B, class Y>
  void add(const A* a, const B* b, Y* y, std::int64_t outer, std::int64_t channels, std::int64_t inner) const {
    const auto lo = static_cast<float>(sum_.lo), hi = static_cast<float>(sum_.hi);
    if (inner == 1 && channels > 1) {
      const std::vector<float> sa = per_channel(a_scale_, channels), sb = per_channel(b_scale_, channels),
                               s = per_channel(sum_.scale, channels);
#pragma omp parallel for if (outer * channels > (1 << 15))
      for (std::int64_t pixel = 0; pixel < outer; ++pixel) {
        const std::int64_t first = pixel * channels;
        add_row<true>(a + first, b + first, y + first, channels, sa.data(), sb.data(), s.data(), lo, hi);
      }
      return;
    }
    if (channels == 1) {
      // Per tensor (the PTQ's residual Adds): the whole tensor in chunks, which the threads
      // share (as one row it would run on one of them).
      native::for_each_chunk(outer * inner, 1 << 14, 2, [&](std::int64_t begin, std::int64_t size) {
        add_row<false>(a + begin, b + begin, y + begin, size, a_scale_.data(), b_scale_.data(), sum_.scale.data(), lo,
                       hi);
      });
      return;
    }
#pragma omp parallel for if (outer * channels * inner > (1 << 15))
    for (std::int64_t row = 0; row < outer * channels; ++row) { // one channel each
      const std::int64_t c = row % channels, first = row * inner;
      add_row<false>(a + first, b + first, y + first, inner, of_channel(a_scale_, c), of_channel(b_scale_, c),
                     of_channel(sum_.scale, c), lo, hi);
    }
  }

  const Node& node_;
  const std::vector<float> a_scale_, b_scale_;
  const Requantization sum_;
  const std::int64_t axis_;
};

} // namespace

std::unique_ptr<Kernel> make_requantize_add(const Node& node) { return std::make_unique<RequantizeAddKernel>(node); }

} // namespace tern::cpu
