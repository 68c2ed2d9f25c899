#pragma once
// Clipping strategies: each picks the threshold c in (0, max|x|] that quantized values are
// clipped to, from the histogram of |x| gathered during calibration. A new strategy is one
// file with its function plus one line in table.cpp.

#include <cstdint>
#include <string>
#include <vector>

namespace tern::ptq {

struct ClipQuery {
  const std::vector<double>& counts; ///< histogram of |x|: counts[i] over [i, i+1) · bin_width
  double bin_width;
  double abs_max;      ///< the largest |x| seen
  std::int64_t levels; ///< positive integer levels available (127 for int8, 255 for uint8)
  double percentile;   ///< for the percentile strategy, in (0, 100]
};

using ClipFn = double (*)(const ClipQuery& query);

struct ClippingMode {
  const char* name;
  ClipFn threshold;
  bool needs_histogram;
  const char* summary;
};

const ClippingMode* find_clipping(const std::string& name);
/// "max, mse, aa, kl, percentile"
std::string clipping_names();

// The strategies (one file each).
double max_threshold(const ClipQuery& query);
double mse_threshold(const ClipQuery& query);
double aa_threshold(const ClipQuery& query);
double kl_threshold(const ClipQuery& query);
double percentile_threshold(const ClipQuery& query);

} // namespace tern::ptq
