#include "histogram.hpp"

#include <tern/error.hpp>

#include <algorithm>
#include <cmath>

namespace tern::ptq {
namespace {

struct Extremes {
  float min;
  float max;
  int non_finite;
};

Extremes extremes(const float* data, std::int64_t count) {
  float low = data[0];
  float high = data[0];
  int non_finite = 0;
#pragma omp parallel for reduction(min : low) reduction(max : high) reduction(+ : non_finite) if (count > 65536)
  for (std::int64_t i = 0; i < count; ++i) {
    low = std::min(low, data[i]);
    high = std::max(high, data[i]);
    non_finite += std::isfinite(data[i]) ? 0 : 1;
  }
  return {low, high, non_finite};
}

} // namespace

void ValueStatistics::grow_to(double abs_max) {
  if (range_ == 0) {
    range_ = abs_max > 0 ? abs_max : 1.0;
    return;
  }
  // Doubling the range merges bin pairs exactly: earlier counts need no re-reading.
  const std::size_t bins = counts_.size();
  while (range_ < abs_max) {
    for (std::size_t i = 0; i < bins / 2; ++i) counts_[i] = counts_[2 * i] + counts_[2 * i + 1];
    std::fill(counts_.begin() + static_cast<std::ptrdiff_t>(bins / 2), counts_.end(), 0.0);
    range_ *= 2;
  }
}

void ValueStatistics::add_extremes(double min, double max, std::int64_t non_finite) {
  check(non_finite == 0, "calibration met " + std::to_string(non_finite) + " non-finite value(s) (NaN or infinity)");
  min_ = seen_ ? std::min(min_, min) : min;
  max_ = seen_ ? std::max(max_, max) : max;
  abs_max_ = std::max(std::abs(min_), std::abs(max_));
  seen_ = true;
  if (!counts_.empty()) grow_to(abs_max_);
}

void ValueStatistics::add_counts(const std::int64_t* counts) {
  for (std::size_t b = 0; b < counts_.size(); ++b) counts_[b] += static_cast<double>(counts[b]);
}

void ValueStatistics::add(const Tensor& tensor) {
  check(tensor.dtype() == DataType::Float32, "calibration observes float32 values, not " + std::string(name(tensor.dtype())));
  const std::int64_t count = tensor.numel();
  if (count == 0) return;
  const float* data = tensor.data<float>();
  const Extremes seen = extremes(data, count);
  add_extremes(seen.min, seen.max, seen.non_finite);
  if (counts_.empty()) return;

  const std::size_t bins = counts_.size();
  const double scale = static_cast<double>(bins) / range_;
  const auto last = static_cast<std::int64_t>(bins - 1);
#pragma omp parallel if (count > 65536)
  {
    std::vector<double> local(bins, 0.0);
#pragma omp for nowait
    for (std::int64_t i = 0; i < count; ++i) {
      const auto bin = static_cast<std::int64_t>(std::abs(data[i]) * scale);
      local[static_cast<std::size_t>(std::min(bin, last))] += 1.0;
    }
#pragma omp critical
    for (std::size_t b = 0; b < bins; ++b) counts_[b] += local[b];
  }
}

void ChannelMeans::add(const Tensor& tensor, std::int64_t inner, std::int64_t channels) {
  check(tensor.dtype() == DataType::Float32 && inner > 0 && channels > 0 && tensor.numel() % (inner * channels) == 0,
        "channel means: " + tensor.describe() + " does not split into " + std::to_string(channels) + " channels");
  if (sums_.empty()) sums_.assign(static_cast<std::size_t>(channels), 0.0);
  const float* data = tensor.data<float>();
  const std::int64_t outer = tensor.numel() / (inner * channels);
  for (std::int64_t n = 0; n < outer; ++n)
    for (std::int64_t c = 0; c < channels; ++c) {
      const float* slice = data + (n * channels + c) * inner;
      double sum = 0;
      for (std::int64_t i = 0; i < inner; ++i) sum += slice[i];
      sums_[static_cast<std::size_t>(c)] += sum;
    }
  per_channel_count_ += static_cast<double>(outer * inner);
}

std::vector<double> ChannelMeans::means() const {
  std::vector<double> result = sums_;
  for (double& value : result) value /= per_channel_count_;
  return result;
}

} // namespace tern::ptq
