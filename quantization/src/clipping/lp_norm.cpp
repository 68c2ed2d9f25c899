// MSE and AA clipping (AIDGE's "ME" clipping with exponents 2 and 1): the threshold that
// minimises the expected |x - q(x)|^p over the histogram, q rounding to the nearest of
// `levels` steps in [0, c] and saturating above c.
#include "clipping.hpp"

#include <algorithm>
#include <cmath>

namespace tern::ptq {
namespace {

// 512 candidate thresholds, evenly spaced over (0, max|x|]: at 8 bits a step of the grid
// is far below one quantization step, so a finer search changes nothing measurable.
constexpr int candidates = 512;

template <int exponent> double lp_error(const ClipQuery& query, double threshold) {
  const double step = threshold / static_cast<double>(query.levels);
  double error = 0;
  for (std::size_t bin = 0; bin < query.counts.size(); ++bin) {
    const double count = query.counts[bin];
    if (count == 0) continue;
    const double x = (static_cast<double>(bin) + 0.5) * query.bin_width;
    const double level = std::min(std::nearbyint(x / step), static_cast<double>(query.levels));
    const double miss = std::abs(x - level * step);
    error += count * (exponent == 2 ? miss * miss : miss);
  }
  return error;
}

template <int exponent> double best_threshold(const ClipQuery& query) {
  double best = query.abs_max;
  double best_error = lp_error<exponent>(query, best);
  for (int k = 1; k < candidates; ++k) {
    const double threshold = query.abs_max * k / candidates;
    const double error = lp_error<exponent>(query, threshold);
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
