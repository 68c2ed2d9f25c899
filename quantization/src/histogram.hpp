#pragma once
// Statistics of one value over the calibration set, in two passes over the batches: first
// the extremes, then a histogram of |x| over [0, max|x|]. Two passes make the histogram
// the same however the set is batched (a range grown from the first batch, doubling, made
// the clip thresholds depend on which images came first and how many per batch).

#include <tern/tensor.hpp>

#include <cstddef>
#include <vector>

namespace tern::ptq {

class ValueStatistics {
public:
  /// `bins` bins over [0, range()]; 0 bins keeps the extremes only (MAX clipping).
  explicit ValueStatistics(std::size_t bins) : counts_(bins, 0.0) {}

  /// First pass: the extremes of every element of a float32 host tensor (throws on a
  /// non-finite value).
  void add_extremes(const Tensor& tensor);
  /// The same for extremes computed elsewhere (the "cuda" backend's PtqRange op).
  void add_extremes(double min, double max, std::int64_t non_finite);
  /// Second pass, once every batch's extremes are in: counts every element of a float32
  /// host tensor over [0, range()].
  void add_histogram(const Tensor& tensor);
  /// The same for counts made elsewhere (the "cuda" backend's PtqHistogram op over [0, range()]).
  void add_counts(const std::int64_t* counts);
  /// Whether a second pass is wanted (bins were asked for).
  bool wants_histogram() const { return !counts_.empty(); }
  /// The histogram's range, max|x| of the first pass (1 for an all-zero value).
  double range() const { return abs_max_ > 0 ? abs_max_ : 1.0; }

  double min() const { return min_; }
  double max() const { return max_; }
  double abs_max() const { return abs_max_; }
  /// counts()[i] holds |x| in [i, i+1) · bin_width(); the last bin includes abs_max().
  const std::vector<double>& counts() const { return counts_; }
  double bin_width() const { return range() / static_cast<double>(counts_.size()); }

private:
  std::vector<double> counts_;
  double min_ = 0;
  double max_ = 0;
  double abs_max_ = 0;
  bool seen_ = false;
};

} // namespace tern::ptq
