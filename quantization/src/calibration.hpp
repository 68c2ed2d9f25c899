#pragma once
// Calibration passes: compute_ranges runs the float graph over the calibration batches
// and records, per calibration point, the extremes and a histogram of |x|; adjust_ranges
// turns each histogram into a clipping threshold with the chosen strategy.

#include "options.hpp"

#include <tern/pass.hpp>

namespace tern::ptq {

void compute_ranges(Graph& graph, PassContext& context, const Options& options);
void adjust_ranges(Graph& graph, PassContext& context, const Options& options);

} // namespace tern::ptq
