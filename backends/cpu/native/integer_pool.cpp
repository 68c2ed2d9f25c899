// MaxPool on int8 and uint8 in Tern's plain nchw layout, and MaxPoolChannelsLast (nhwc:
// the layout of the int8 Convs around it, see the core's channels_last_ops). oneDNN's int8 pooling is fast only
// in channels-last layouts and its 8-bit reorders to and from nchw cost more than the pool
// itself (LeNet at batch 64: two 0.45 ms reorders around a 0.23 ms pool); on nchw it runs
// its reference loop. Here: SSE2 for the 2x2/2 pool, rows then columns for other 2-D
// pools, a table of window offsets for 3-D ones. 1-, 2- and 3-D (run as 3-D), pads (never part of a maximum), strides,
// dilations; the output size (ceil_mode included) is the one the schema inferred.
#include "native/common.hpp"
#include "native/native_ops.hpp"
#include "native/pool_window.hpp"

#include <tern/channels_last.hpp>
#include <tern/window.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tern::cpu {
namespace {

using native::Dims3;
using native::PoolGeometry;

/// True for the pool of nearly every CNN: 2-D, 2x2 windows, stride 2, no dilation, no
/// window reaching past the input. pool_2x2() handles it with SSE2.
bool is_2x2_stride_2(const PoolGeometry& g) {
  return g.in[0] == 1 && g.kernel == Dims3{1, 2, 2} && g.stride == Dims3{1, 2, 2} && g.dilation == Dims3{1, 1, 1} &&
         g.pad == Dims3{0, 0, 0} && 2 * g.out[1] <= g.in[1] && 2 * g.out[2] <= g.in[2];
}

/// Bytes that order as unsigned: uint8 as it is, int8 with its sign bit flipped (SSE2 has
/// an unsigned byte maximum only).
template <class T> constexpr std::uint8_t order_flip = std::is_signed_v<T> ? 0x80 : 0x00;

/// The 2x2/2 pool of one plane, in two passes that vectorize although rows are short: the
/// maximum of each pair of input rows over the 2 * out_w columns used, into `pairs`
/// (out_h rows laid end to end), then output k = max(pairs[2k], pairs[2k + 1]) over the
/// whole plane at once.
template <class T> void pool_2x2(const PoolGeometry& g, const T* x, T* y, std::uint8_t* pairs) {
  constexpr std::uint8_t flip = order_flip<T>;
  const std::int64_t width = g.in[2], used = 2 * g.out[2], count = g.out[1] * g.out[2];
  const auto* in = reinterpret_cast<const std::uint8_t*>(x);
#if defined(__SSE2__)
  const __m128i low_bytes = _mm_set1_epi16(0x00FF), flip_bytes = _mm_set1_epi8(static_cast<char>(flip));
#endif
  for (std::int64_t oh = 0; oh < g.out[1]; ++oh) {
    const std::uint8_t* top = in + 2 * oh * width;
    const std::uint8_t* bottom = top + width;
    std::uint8_t* out = pairs + oh * used;
    std::int64_t w = 0;
#if defined(__SSE2__)
    // 16 columns at a time; a last partial block overlaps the one before (same values).
    for (; used >= 16 && w < used; w += 16) {
      const std::int64_t at = std::min(w, used - 16);
      const __m128i t = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(top + at)), flip_bytes);
      const __m128i b = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bottom + at)), flip_bytes);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + at), _mm_max_epu8(t, b));
    }
#endif
    for (; w < used; ++w) out[w] = std::max<std::uint8_t>(top[w] ^ flip, bottom[w] ^ flip);
  }
  auto* result = reinterpret_cast<std::uint8_t*>(y);
  std::int64_t k = 0;
#if defined(__SSE2__)
  for (; k + 16 <= count; k += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pairs + 2 * k));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pairs + 2 * k + 16));
    // In each 16-bit lane: max(low byte, high byte) in the low byte, then pack the lanes.
    const __m128i ma = _mm_and_si128(_mm_max_epu8(a, _mm_srli_epi16(a, 8)), low_bytes);
    const __m128i mb = _mm_and_si128(_mm_max_epu8(b, _mm_srli_epi16(b, 8)), low_bytes);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(result + k), _mm_xor_si128(_mm_packus_epi16(ma, mb), flip_bytes));
  }
#endif
  for (; k < count; ++k) result[k] = std::max(pairs[2 * k], pairs[2 * k + 1]) ^ flip;
}

/// Every window has a tap inside the input along each axis (else its maximum is undefined).
void require_windows_reach_the_input(const PoolGeometry& g) {
  for (std::size_t a = 0; a < 3; ++a)
    for (std::int64_t o = 0; o < g.out[a]; ++o) {
      bool inside = false;
      for (std::int64_t k = 0; k < g.kernel[a] && !inside; ++k) {
        const std::int64_t i = o * g.stride[a] + k * g.dilation[a] - g.pad[a];
        inside = i >= 0 && i < g.in[a];
      }
      check(inside, "a MaxPool window lies entirely in the padding");
    }
}

/// The width of a 2-D pool's row buffer: the input row with its pads on both sides, as far
/// as the last window reaches.
std::int64_t padded_row_width(const PoolGeometry& g) {
  return std::max((g.out[2] - 1) * g.stride[2] + (g.kernel[2] - 1) * g.dilation[2] + 1, g.pad[2] + g.in[2]);
}

/// A 2-D pool of one plane in two passes that vectorise: per output row, the maximum of
/// its window's input rows over the whole width (into `row`, whose pads hold T's lowest
/// value, which never wins: every window reaches the input), then each output the maximum
/// of its window's columns of `row`. kernel·kernel loads per output become kernel + kernel.
template <class T> void pool_rows(const PoolGeometry& g, const T* x, T* y, T* row) {
  const std::int64_t width = g.in[2];
  T* inside = row + g.pad[2];
  for (std::int64_t oh = 0; oh < g.out[1]; ++oh) {
    bool first = true;
    for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh) {
      const std::int64_t ih = oh * g.stride[1] + kh * g.dilation[1] - g.pad[1];
      if (ih < 0 || ih >= g.in[1]) continue;
      const T* source = x + ih * width;
      if (first)
        std::copy_n(source, width, inside);
      else
        for (std::int64_t w = 0; w < width; ++w) inside[w] = std::max(inside[w], source[w]);
      first = false;
    }
    T* out = y + oh * g.out[2];
    for (std::int64_t ow = 0; ow < g.out[2]; ++ow) {
      const T* window = row + ow * g.stride[2];
      T best = window[0];
      for (std::int64_t kw = 1; kw < g.kernel[2]; ++kw) best = std::max(best, window[kw * g.dilation[2]]);
      out[ow] = best;
    }
  }
}

/// True for the 2-D pools pool_rows() runs (other than 2x2/2).
bool pools_rows(const PoolGeometry& g) { return !is_2x2_stride_2(g) && g.in[0] == 1 && g.kernel[0] == 1; }

// The common 2x2/2 pool takes pool_2x2(), other 2-D pools pool_rows(); 3-D ones gather
// each output through the offsets table: a few loads and maxima per output, no bounds checks.
template <class T> void max_pool(const PoolGeometry& g, const std::vector<std::int64_t>& offsets, const T* x, T* y) {
  const std::int64_t in_plane = g.in[0] * g.in[1] * g.in[2], out_plane = g.out[0] * g.out[1] * g.out[2];
  if (is_2x2_stride_2(g)) {
#pragma omp parallel if (g.planes * out_plane > (1 << 14))
    {
      std::vector<std::uint8_t> pairs(static_cast<std::size_t>(2 * out_plane));
#pragma omp for
      for (std::int64_t p = 0; p < g.planes; ++p) pool_2x2(g, x + p * in_plane, y + p * out_plane, pairs.data());
    }
    return;
  }
  if (pools_rows(g)) {
#pragma omp parallel if (g.planes * out_plane > (1 << 14))
    {
      std::vector<T> row(static_cast<std::size_t>(padded_row_width(g)), std::numeric_limits<T>::lowest());
#pragma omp for
      for (std::int64_t p = 0; p < g.planes; ++p) pool_rows(g, x + p * in_plane, y + p * out_plane, row.data());
    }
    return;
  }
  const std::int64_t taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
#pragma omp parallel for if (g.planes * out_plane > (1 << 14))
  for (std::int64_t p = 0; p < g.planes; ++p) {
    const T* x_plane = x + p * in_plane;
    T* y_plane = y + p * out_plane;
    const std::int64_t* tap = offsets.data();
    for (std::int64_t o = 0; o < out_plane; ++o, tap += taps) {
      T best = x_plane[tap[0]];
      for (std::int64_t t = 1; t < taps; ++t) best = std::max(best, x_plane[tap[t]]);
      y_plane[o] = best;
    }
  }
}

/// out[c] = max(out[c], pixel[c]) for `count` bytes ordered as T orders them (flip: see
/// order_flip), SSE2 16 at a time (GCC does not vectorise the byte loop: bytes may alias).
template <std::uint8_t flip> void max_bytes(std::uint8_t* out, const std::uint8_t* pixel, std::int64_t count) {
  std::int64_t c = 0;
#if defined(__SSE2__)
  const __m128i flip_bytes = _mm_set1_epi8(static_cast<char>(flip));
  for (; c + 16 <= count; c += 16) {
    const __m128i a = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(out + c)), flip_bytes);
    const __m128i b = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pixel + c)), flip_bytes);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), _mm_xor_si128(_mm_max_epu8(a, b), flip_bytes));
  }
#endif
  for (; c < count; ++c)
    out[c] = static_cast<std::uint8_t>(std::max<std::uint8_t>(out[c] ^ flip, pixel[c] ^ flip) ^ flip);
}

/// MaxPool of channels-last X [N, D..., C]: each output pixel the bytewise maximum of its
/// window's pixels (C contiguous bytes each, found through the tap table), a loop over the
/// channels that vectorises. `g.planes` counts images.
template <class T> void max_pool_channels_last(const PoolGeometry& g, std::int64_t channels,
                                               const std::vector<std::int64_t>& offsets, const T* x, T* y) {
  constexpr std::uint8_t flip = order_flip<T>;
  const std::int64_t taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const std::int64_t out_pixels = g.out[0] * g.out[1] * g.out[2];
  const std::int64_t in_image = g.in[0] * g.in[1] * g.in[2] * channels;
#pragma omp parallel for if (g.planes * out_pixels * channels > (1 << 14))
  for (std::int64_t p = 0; p < g.planes * out_pixels; ++p) {
    const auto* in = reinterpret_cast<const std::uint8_t*>(x + p / out_pixels * in_image);
    auto* out = reinterpret_cast<std::uint8_t*>(y + p * channels);
    const std::int64_t* tap = offsets.data() + p % out_pixels * taps;
    std::copy_n(in + tap[0], channels, out);
    for (std::int64_t t = 1; t < taps; ++t) max_bytes<flip>(out, in + tap[t], channels);
  }
}

/// MaxPool (channels_last: MaxPoolChannelsLast, X and Y [N, D..., C]) of int8 or uint8 X.
/// The geometry and the tap table are made once per input shape (at batch 1 making the
/// table cost more than LeNet's pools).
class IntegerMaxPoolKernel final : public Kernel {
public:
  IntegerMaxPoolKernel(const Node& node, bool channels_last) : node_(node), channels_last_(channels_last) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 1, 1, 1);
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    native::require(node_, x.dtype() == DataType::Int8 || x.dtype() == DataType::UInt8,
                    [&] { return "X is " + x.describe() + ", expected int8 or uint8"; });
    native::require_dtype(node_, y, x.dtype(), "Y");
    if (x.shape() != x_shape_ || y.shape() != y_shape_) plan(x.shape(), y.shape());
    if (channels_last_ && x.dtype() == DataType::Int8)
      max_pool_channels_last(g_, channels_, offsets_, x.data<std::int8_t>(), y.data<std::int8_t>());
    else if (channels_last_)
      max_pool_channels_last(g_, channels_, offsets_, x.data<std::uint8_t>(), y.data<std::uint8_t>());
    else if (x.dtype() == DataType::Int8)
      max_pool(g_, offsets_, x.data<std::int8_t>(), y.data<std::int8_t>());
    else
      max_pool(g_, offsets_, x.data<std::uint8_t>(), y.data<std::uint8_t>());
  }

private:
  void plan(const Shape& x_shape, const Shape& y_shape) {
    native::require(node_, x_shape.rank() >= 3 && x_shape.rank() <= 5 && y_shape.rank() == x_shape.rank(), [&] {
      return "X " + x_shape.to_string() + ", Y " + y_shape.to_string() + ": expected 1-, 2- or 3-D pooling";
    });
    // The geometry of [N, C, D...]; channels last, the same tensors seen so.
    const Shape xs = channels_first_view(x_shape, channels_last_), ys = channels_first_view(y_shape, channels_last_);
    native::require(node_, ys[0] == xs[0] && ys[1] == xs[1], [&] {
      return "X " + x_shape.to_string() + ", Y " + y_shape.to_string() + ": expected as many images and channels";
    });
    const Window window = resolve_window(node_, xs, node_.attr<std::vector<std::int64_t>>("kernel_shape"));
    g_ = PoolGeometry();
    g_.planes = channels_last_ ? xs[0] : xs[0] * xs[1];
    const std::size_t spatial = xs.rank() - 2, skip = 3 - spatial;
    for (std::size_t a = 0; a < spatial; ++a) {
      g_.in[skip + a] = xs[a + 2];
      g_.out[skip + a] = ys[a + 2];
      g_.kernel[skip + a] = window.kernel[a];
      g_.stride[skip + a] = window.strides[a];
      g_.dilation[skip + a] = window.dilations[a];
      g_.pad[skip + a] = window.pads_begin[a];
    }
    channels_ = xs[1];
    const std::int64_t pixel = channels_last_ ? channels_ : 1;
    offsets_.clear();
    if (!channels_last_ && pools_rows(g_))
      require_windows_reach_the_input(g_);
    else if (channels_last_ || !is_2x2_stride_2(g_))
      offsets_ = native::window_offsets(g_, {g_.in[1] * g_.in[2] * pixel, g_.in[2] * pixel, pixel});
    x_shape_ = x_shape;
    y_shape_ = y_shape;
  }

  const Node& node_;
  const bool channels_last_;
  Shape x_shape_, y_shape_; ///< the shapes planned for
  PoolGeometry g_;
  std::int64_t channels_ = 0;
  std::vector<std::int64_t> offsets_; ///< the tap table, where the pool loops over one
};

} // namespace

std::unique_ptr<Kernel> make_integer_max_pool(const Node& node) {
  // The Indices output would need ONNX's flat-index format; the float kernel refuses it too.
  native::require(node, node.outputs().size() == 1, "MaxPool's Indices output is not supported on int8/uint8");
  return std::make_unique<IntegerMaxPoolKernel>(node, false);
}

std::unique_ptr<Kernel> make_integer_max_pool_channels_last(const Node& node) {
  return std::make_unique<IntegerMaxPoolKernel>(node, true);
}

} // namespace tern::cpu
