#pragma once
// Naive loops for the integer-execution suites (cpu_integer_*_test.cpp): the exact integer
// convolution and matrix product, and Requantize written from its definition. Values are
// carried as int64 so that the expected results never depend on the code under test.

#include <tern/tensor.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace tern::test {

using Values = std::vector<std::int64_t>;

/// A host tensor of `dtype` (float32, int32, int8, uint8) holding `values`.
inline Tensor typed(Shape shape, DataType dtype, const Values& values) {
  switch (dtype) {
  case DataType::Float32:
    return Tensor::from(std::move(shape), dtype, std::vector<float>(values.begin(), values.end()));
  case DataType::Int32:
    return Tensor::from(std::move(shape), dtype, std::vector<std::int32_t>(values.begin(), values.end()));
  case DataType::Int8:
    return Tensor::from(std::move(shape), dtype, std::vector<std::int8_t>(values.begin(), values.end()));
  default: return Tensor::from(std::move(shape), dtype, std::vector<std::uint8_t>(values.begin(), values.end()));
  }
}

/// `count` uniform integers in [low, high], reproducible from `seed`.
inline Values random_values(std::int64_t count, std::int64_t low, std::int64_t high, std::uint32_t seed) {
  std::mt19937 engine(seed);
  std::uniform_int_distribution<std::int64_t> pick(low, high);
  Values values(static_cast<std::size_t>(count));
  for (auto& v : values) v = pick(engine);
  return values;
}

/// The full range of an 8-bit X: [0, 255] for uint8, [-128, 127] for int8.
inline Values random_x(std::int64_t count, DataType dtype, std::uint32_t seed) {
  return dtype == DataType::UInt8 ? random_values(count, 0, 255, seed) : random_values(count, -128, 127, seed);
}

/// Requantize's definition: one float32 product, round half to even (the default
/// floating-point environment's nearbyint), clamp.
inline std::int64_t requantize_value(float x, float scale, std::int64_t lo, std::int64_t hi) {
  const float product = x * scale;
  const auto rounded = static_cast<double>(std::nearbyint(product));
  return static_cast<std::int64_t>(
      std::min<double>(std::max<double>(rounded, static_cast<double>(lo)), static_cast<double>(hi)));
}

/// Requantize over [outer, channels, inner] blocks (one scale, or one per channel).
/// [N, C, H, W] values as [N, H, W, C] (a channels-last tensor's elements).
inline Values nhwc(const Values& nchw, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
  Values result(nchw.size());
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t k = 0; k < c; ++k)
      for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x)
          result[static_cast<std::size_t>(((i * h + y) * w + x) * c + k)] =
              nchw[static_cast<std::size_t>(((i * c + k) * h + y) * w + x)];
  return result;
}

inline Values requantize(const Values& x, const std::vector<float>& scale, std::int64_t channels, std::int64_t inner,
                         std::int64_t lo, std::int64_t hi) {
  Values y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto c = scale.size() == 1 ? 0 : static_cast<std::size_t>((static_cast<std::int64_t>(i) / inner) % channels);
    y[i] = requantize_value(static_cast<float>(x[i]), scale[c], lo, hi);
  }
  return y;
}

/// 2-D convolution geometry.
struct Conv2d {
  std::int64_t n, c, h, w, m, kh, kw, group = 1;
  std::int64_t stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t out_h() const { return (h + pad_top + pad_bottom - dilation_h * (kh - 1) - 1) / stride_h + 1; }
  std::int64_t out_w() const { return (w + pad_left + pad_right - dilation_w * (kw - 1) - 1) / stride_w + 1; }
};

/// sum(x * w) + b over each window, exactly: x [n, c, h, w], w [m, c/group, kh, kw], b [m] or empty.
inline Values conv2d(const Conv2d& g, const Values& x, const Values& w, const Values& b) {
  const std::int64_t oh = g.out_h(), ow = g.out_w(), cg = g.c / g.group, mg = g.m / g.group;
  Values y(static_cast<std::size_t>(g.n * g.m * oh * ow));
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t m = 0; m < g.m; ++m)
      for (std::int64_t i = 0; i < oh; ++i)
        for (std::int64_t j = 0; j < ow; ++j) {
          std::int64_t acc = b.empty() ? 0 : b[static_cast<std::size_t>(m)];
          for (std::int64_t c = 0; c < cg; ++c)
            for (std::int64_t u = 0; u < g.kh; ++u)
              for (std::int64_t v = 0; v < g.kw; ++v) {
                const std::int64_t r = i * g.stride_h - g.pad_top + u * g.dilation_h;
                const std::int64_t s = j * g.stride_w - g.pad_left + v * g.dilation_w;
                if (r < 0 || r >= g.h || s < 0 || s >= g.w) continue;
                const std::int64_t channel = (m / mg) * cg + c;
                acc += x[static_cast<std::size_t>(((n * g.c + channel) * g.h + r) * g.w + s)] *
                       w[static_cast<std::size_t>(((m * cg + c) * g.kh + u) * g.kw + v)];
              }
          y[static_cast<std::size_t>(((n * g.m + m) * oh + i) * ow + j)] = acc;
        }
  return y;
}

/// a [rows, k] x b ([k, cols], or [cols, k] when `trans_b`) + bias [cols] (or empty).
inline Values matmul(const Values& a, const Values& b, const Values& bias, std::int64_t rows, std::int64_t k,
                     std::int64_t cols, bool trans_b = false) {
  Values y(static_cast<std::size_t>(rows * cols));
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) {
      std::int64_t acc = bias.empty() ? 0 : bias[static_cast<std::size_t>(j)];
      for (std::int64_t t = 0; t < k; ++t)
        acc += a[static_cast<std::size_t>(i * k + t)] * b[static_cast<std::size_t>(trans_b ? j * k + t : t * cols + j)];
      y[static_cast<std::size_t>(i * cols + j)] = acc;
    }
  return y;
}

} // namespace tern::test
