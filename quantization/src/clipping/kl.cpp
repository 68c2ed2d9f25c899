// KL clipping as in TensorRT's entropy calibration: for each candidate threshold, the
// histogram below it (outliers folded into its last bin) is compared with its image after
// quantization to `levels` steps; the threshold with the least KL divergence wins.
#include "clipping.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tern::ptq {
namespace {

double kl_divergence(const std::vector<double>& reference, const std::vector<double>& quantized) {
  double p_total = 0;
  double q_total = 0;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    p_total += reference[i];
    q_total += quantized[i];
  }
  double divergence = 0;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    if (reference[i] == 0) continue;
    const double p = reference[i] / p_total;
    const double q = quantized[i] / q_total;
    divergence += q > 0 ? p * std::log(p / q) : p * 20.0; // an empty q bin where p has mass: a large penalty
  }
  return divergence;
}

/// The histogram slice squeezed into `levels` buckets and spread back evenly over the
/// non-empty bins of each bucket.
std::vector<double> quantized_image(const std::vector<double>& reference, std::size_t levels) {
  const std::size_t edge = reference.size();
  std::vector<double> image(edge, 0.0);
  for (std::size_t level = 0; level < levels; ++level) {
    const std::size_t begin = level * edge / levels;
    const std::size_t end = (level + 1) * edge / levels;
    double mass = 0;
    std::size_t occupied = 0;
    for (std::size_t i = begin; i < end; ++i) {
      mass += reference[i];
      occupied += reference[i] > 0 ? 1 : 0;
    }
    for (std::size_t i = begin; i < end; ++i)
      if (reference[i] > 0) image[i] = mass / static_cast<double>(occupied);
  }
  return image;
}

/// The histogram with its point masses flattened to the level of their neighbours. A bin far
/// above both neighbours holds one value repeated: every exact zero (half a ReLU's outputs)
/// in bin 0, or a constant that zero padding or a blank image background produces
/// throughout a feature map. Any threshold above such a value represents it within half a
/// step, but the divergence, which spreads each quantization bucket's mass evenly over its
/// bins, sees a spike smeared: left in, spikes drive it to thresholds a tenth of the range
/// (resnet_tiny lost 40 points at 8 bits from the zero spike alone; NVIDIA's
/// pytorch-quantization flattens bin 0 the same way). A spike above the threshold (ReLU6's
/// saturated 6) is clipped, not kept: the caller counts it in full there.
std::vector<double> without_point_masses(const std::vector<double>& counts) {
  std::vector<double> flattened = counts;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double left = i > 0 ? counts[i - 1] : 0;
    const double right = i + 1 < counts.size() ? counts[i + 1] : 0;
    const double neighbours = i == 0 ? right : std::max(left, right);
    if (counts[i] > 4 * neighbours && neighbours > 0) flattened[i] = neighbours;
  }
  return flattened;
}

} // namespace

double kl_threshold(const ClipQuery& query) {
  const std::vector<double>& counts = query.counts;
  // Point masses flattened where the threshold keeps them; what it clips counts in full.
  const std::vector<double> kept = without_point_masses(counts);
  const std::size_t bins = counts.size();
  const auto levels = static_cast<std::size_t>(query.levels) + 1; // the zero level counts too
  std::size_t used = bins;
  while (used > 1 && counts[used - 1] == 0) --used;
  if (used <= levels) return query.abs_max;
  // Candidates every (used / 256) bins keep the search linear-ish in the bin count.
  const std::size_t stride = std::max<std::size_t>(1, used / 256);
  double best_divergence = INFINITY;
  std::size_t best_edge = used;
  for (std::size_t edge = levels; edge <= used; edge += stride) {
    const std::vector<double> slice(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(edge));
    std::vector<double> reference = slice;
    for (std::size_t i = edge; i < bins; ++i) reference.back() += counts[i];
    // Q quantizes the slice without the outliers: clipping them away must cost something.
    const double divergence = kl_divergence(reference, quantized_image(slice, levels));
    if (divergence < best_divergence) {
      best_divergence = divergence;
      best_edge = edge;
    }
  }
  return std::min(query.abs_max, static_cast<double>(best_edge) * query.bin_width);
}

} // namespace tern::ptq
