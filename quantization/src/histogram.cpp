#include "histogram.hpp"

#include <tern/error.hpp>

#include <algorithm>
#include <cmath>

namespace tern::ptq {
namespace {

struct Extremes {
  float min;
  float max;
  bool has_nan;
};

// Split over the cores for large tensors, like the binning below.
Extremes extremes(const float* data, std::int64_t count) {
  float low = data[0];
  float high = data[0];
  bool has_nan = false;
#pragma omp parallel for reduction(min                                                                                 \
                                   : low) reduction(max                                                                \
                                                    : high) reduction(||                                               \
                                                                      : has_nan) if (count >= (std::int64_t{1} << 18))
  for (std::int64_t i = 0; i < count; ++i) {
    low = data[i] < low ? data[i] : low;
    high = data[i] > high ? data[i] : high;
    has_nan = has_nan || data[i] != data[i];
  }
  return {low, high, has_nan};
}

void check_float32(const Tensor& tensor) {
  check(tensor.dtype() == DataType::Float32,
        [&] { return "calibration observes float32 values, not " + std::string(name(tensor.dtype())); });
}

} // namespace

void ValueStatistics::add_extremes(double min, double max, std::int64_t non_finite) {
  check(non_finite == 0,
        [&] { return "calibration met " + std::to_string(non_finite) + " non-finite value(s) (NaN or infinity)"; });
  min_ = seen_ ? std::min(min_, min) : min;
  max_ = seen_ ? std::max(max_, max) : max;
  abs_max_ = std::max(std::abs(min_), std::abs(max_));
  seen_ = true;
}

void ValueStatistics::add_counts(const std::int64_t* counts) {
  for (std::size_t b = 0; b < counts_.size(); ++b) counts_[b] += static_cast<double>(counts[b]);
}

void ValueStatistics::add_extremes(const Tensor& tensor) {
  check_float32(tensor);
  const std::int64_t count = tensor.numel();
  if (count == 0) return;
  const Extremes seen = extremes(tensor.data<float>(), count);
  check(!seen.has_nan && std::isfinite(seen.min) && std::isfinite(seen.max),
        "calibration met a non-finite value (NaN or infinity)");
  add_extremes(seen.min, seen.max, 0);
}

void ValueStatistics::add_histogram(const Tensor& tensor) {
  check_float32(tensor);
  const std::int64_t count = tensor.numel();
  if (count == 0 || counts_.empty()) return;
  const float* data = tensor.data<float>();
  const std::size_t bins = counts_.size();
  const auto scale = static_cast<float>(static_cast<double>(bins) / range());
  const auto last = static_cast<std::uint32_t>(bins - 1);
  // Binning is the costly part of calibration: split large tensors over the cores, each
  // counting into four interleaved tables so that repeated bins do not serialise stores.
  constexpr std::int64_t lanes = 4;
#pragma omp parallel if (count >= (std::int64_t{1} << 18))
  {
    std::vector<std::uint32_t> local(lanes * bins, 0);
#pragma omp for nowait
    for (std::int64_t i = 0; i < count; ++i)
      ++local[static_cast<std::size_t>(i % lanes) * bins +
              std::min(static_cast<std::uint32_t>(std::abs(data[i]) * scale), last)];
#pragma omp critical
    for (std::size_t b = 0; b < bins; ++b)
      counts_[b] += local[b] + local[bins + b] + local[2 * bins + b] + local[3 * bins + b];
  }
}

} // namespace tern::ptq
