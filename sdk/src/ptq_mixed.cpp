// Automatic mixed precision (tern quantize --mixed-precision): the most sensitive nodes of
// a low-precision quantization promoted to a higher precision within a MAC budget.
#include "ptq_graph_facts.hpp"

#include <tern/error.hpp>
#include <tern/model_stats.hpp>
#include <tern/ptq.hpp>

#include <algorithm>
#include <set>

namespace tern::ptq {
namespace {

using detail::accumulation_precision_key;
using detail::activation_precision_key;
using detail::weight_precision_key;

/// `float_model` quantized with the nodes in `promoted` at `high`, every other at `low`.
Graph quantize_with(const Graph& float_model, const std::set<std::string>& promoted, Precisions low, Precisions high,
                    const Dataset& calibration, const QuantizeOptions& options) {
  Graph graph = float_model.clone();
  for (Node* node : graph.nodes()) {
    if (!promoted.contains(node->name())) continue;
    node->meta().set(activation_precision_key, std::string(name(high.activations)));
    node->meta().set(weight_precision_key, std::string(name(high.weights)));
    node->meta().set(accumulation_precision_key, std::string(name(high.accumulation)));
  }
  auto_assign_node_precision(graph, low.weights, low.activations, low.accumulation);
  quantize_network(graph, calibration, options);
  return graph;
}

} // namespace

MixedPrecision quantize_mixed_precision(Graph& graph, const Dataset& calibration, Precisions low, Precisions high,
                                        double budget, const QuantizeOptions& options) {
  check(budget >= 0.0 && budget <= 1.0,
        [&] { return "mixed precision: the budget is " + std::to_string(budget) + ", expected a fraction in [0, 1]"; });
  check(!is_quantized(graph), "mixed precision needs the float model (this one is already quantized)");
  const Graph float_model = graph.clone();
  // The search compares fake-quantized graphs (measure_quality reads their quantizers); the
  // integer form, when asked for, is cast from the one chosen.
  QuantizeOptions search = options;
  search.fake_quantize = true;
  const std::int64_t total_macs = std::max<std::int64_t>(model_stats(float_model).macs, 1);

  MixedPrecision result;
  std::set<std::string> promoted;
  Graph best = quantize_with(float_model, promoted, low, high, calibration, search);
  result.sqnr_low_db = result.sqnr_db = output_sqnr_db(float_model, best, calibration, search);

  std::vector<NodeQuality> candidates = measure_quality(float_model, best, calibration, search);
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const NodeQuality& a, const NodeQuality& b) { return a.sqnr_alone_db < b.sqnr_alone_db; });
  std::int64_t promoted_macs = 0;
  for (const NodeQuality& candidate : candidates) {
    if (static_cast<double>(promoted_macs + candidate.macs) > budget * static_cast<double>(total_macs)) continue;
    promoted.insert(candidate.node);
    Graph trial = quantize_with(float_model, promoted, low, high, calibration, search);
    const double sqnr = output_sqnr_db(float_model, trial, calibration, search);
    if (sqnr <= result.sqnr_db) { // this one does not help (its error is masked downstream): next
      promoted.erase(candidate.node);
      continue;
    }
    result.promoted.push_back(candidate.node);
    result.sqnr_db = sqnr;
    promoted_macs += candidate.macs;
    best = std::move(trial);
  }
  result.mac_fraction = static_cast<double>(promoted_macs) / static_cast<double>(total_macs);
  graph = std::move(best);
  if (!options.fake_quantize && !options.no_quant) cast_to_integer(graph, options);
  return result;
}

} // namespace tern::ptq
