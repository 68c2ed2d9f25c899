#include "clipping.hpp"

#include <numeric>

namespace tern::ptq {

double percentile_threshold(const ClipQuery& query) {
  const double total = std::accumulate(query.counts.begin(), query.counts.end(), 0.0);
  const double wanted = total * query.percentile / 100.0;
  double seen = 0;
  for (std::size_t bin = 0; bin < query.counts.size(); ++bin) {
    seen += query.counts[bin];
    if (seen >= wanted) return std::min(query.abs_max, static_cast<double>(bin + 1) * query.bin_width);
  }
  return query.abs_max;
}

} // namespace tern::ptq
