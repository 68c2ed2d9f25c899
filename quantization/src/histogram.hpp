#pragma once
// Streaming statistics of one value over the calibration set: extremes and a histogram of
// |x| whose range grows with the data, so one pass over the batches is enough.

#include <tern/tensor.hpp>

#include <cstddef>
#include <vector>

namespace tern::ptq {

class ValueStatistics {
public:
  /// `bins` bins over [0, range]; 0 bins keeps the extremes only (MAX clipping).
  explicit ValueStatistics(std::size_t bins) : counts_(bins, 0.0) {}

  /// Adds every element of a float32 host tensor.
  void add(const Tensor& tensor);
  /// The same in two steps, for statistics computed elsewhere (the "cuda" backend's
  /// PtqRange and PtqHistogram ops, see calibration.cpp): first the new values' extremes
  /// (throws on non-finite values, like add), then, unless bins are 0, their counts over
  /// [0, range()] in counts().size() bins.
  void add_extremes(double min, double max, std::int64_t non_finite);
  void add_counts(const std::int64_t* counts);
  /// The histogram's current range: counts() covers [0, range()].
  double range() const { return range_; }

  double min() const { return min_; }
  double max() const { return max_; }
  double abs_max() const { return abs_max_; }
  /// counts()[i] holds |x| in [i, i+1) · bin_width(); the last bin includes abs_max().
  const std::vector<double>& counts() const { return counts_; }
  double bin_width() const { return range_ / static_cast<double>(counts_.size()); }

private:
  void grow_to(double abs_max);

  std::vector<double> counts_;
  double range_ = 0;
  double min_ = 0;
  double max_ = 0;
  double abs_max_ = 0;
  bool seen_ = false;
};

/// Streaming mean of a value per channel, where element i belongs to channel
/// (i / inner) % channels: Conv inputs use channel axis 1, Gemm/MatMul inputs their features.
class ChannelMeans {
public:
  void add(const Tensor& tensor, std::int64_t inner, std::int64_t channels);
  std::vector<double> means() const;

private:
  std::vector<double> sums_;
  double per_channel_count_ = 0;
};

} // namespace tern::ptq
