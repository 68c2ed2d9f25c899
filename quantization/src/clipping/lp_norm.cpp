// MSE and AA clipping (AIDGE's "ME" clipping with exponents 2 and 1): the threshold that
// minimises the expected |x - q(x)|^p over the histogram, q rounding to the nearest of
// `levels` steps in [0, c] and saturating above c.
#include "clipping.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tern::ptq {
namespace {

// 512 candidate thresholds, evenly spaced over (0, max|x|]: at 8 bits a step of the grid
// is far below one quantization step, so a finer search changes nothing measurable.
constexpr int candidates = 512;

/// The non-empty bins as (centre, count), in bin order: the error sums skip empty bins.
struct Mass {
  double x;
  double count;
};

std::vector<Mass> masses(const ClipQuery& query) {
  std::vector<Mass> result;
  for (std::size_t bin = 0; bin < query.counts.size(); ++bin)
    if (query.counts[bin] != 0)
      result.push_back({(static_cast<double>(bin) + 0.5) * query.bin_width, query.counts[bin]});
  return result;
}

template <int exponent> double lp_error(const std::vector<Mass>& bins, std::int64_t levels, double threshold) {
  const double step = threshold / static_cast<double>(levels);
  double error = 0;
  for (const Mass& bin : bins) {
    const double level = std::min(std::nearbyint(bin.x / step), static_cast<double>(levels));
    const double miss = std::abs(bin.x - level * step);
    error += bin.count * (exponent == 2 ? miss * miss : miss);
  }
  return error;
}

template <int exponent> double best_threshold(const ClipQuery& query) {
  const std::vector<Mass> bins = masses(query);
  double best = query.abs_max;
  double best_error = lp_error<exponent>(bins, query.levels, best);
  for (int k = 1; k < candidates; ++k) {
    const double threshold = query.abs_max * k / candidates;
    const double error = lp_error<exponent>(bins, query.levels, threshold);
    if (error < best_error) {
      best_error = error;
      best = threshold;
    }
  }
  return best;
}

} // namespace

double mse_threshold(const ClipQuery& query) { return best_threshold<2>(query); }

double aa_threshold(const ClipQuery& query) { return best_threshold<1>(query); }

} // namespace tern::ptq
