#pragma once
// Calibration results, kept in the graph's meta so that each PTQ step can run alone:
// compute_ranges writes them, adjust_ranges adds the clipping threshold, quantize reads them.

#include "histogram.hpp"

#include <tern/graph.hpp>

#include <optional>

namespace tern::ptq {

struct ValueRange {
  double min = 0;
  double max = 0;
  double abs_max = 0;
  double clip = 0; ///< the clipping threshold (abs_max until adjust_ranges ran)
};

void store_statistics(Graph& graph, const std::string& value, const ValueStatistics& statistics);
/// The histogram stored for `value`, or nullopt (MAX clipping gathers none).
std::optional<std::pair<std::vector<double>, double>> stored_histogram(const Graph& graph, const std::string& value);
void store_clip(Graph& graph, const std::string& value, double clip);
/// Per-channel means of what affine node `node` reads (for bias correction).
void store_means(Graph& graph, const std::string& node, const std::vector<double>& means);
std::optional<std::vector<double>> stored_means(const Graph& graph, const std::string& node);
/// The range of `value`; throws telling to run compute_ranges when there is none.
ValueRange stored_range(const Graph& graph, const Value& value);
/// Drops every calibration entry from the graph's meta (after quantization).
void clear_statistics(Graph& graph);

} // namespace tern::ptq
