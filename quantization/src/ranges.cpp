#include "ranges.hpp"

#include <tern/error.hpp>

#include <vector>

namespace tern::ptq {
namespace {

const std::string prefix = "quantization.ptq.calibration.";

std::string key(const std::string& what, const std::string& value) { return prefix + what + ":" + value; }

} // namespace

void store_statistics(Graph& graph, const std::string& value, const ValueStatistics& statistics) {
  Attributes& meta = graph.meta();
  meta.set(key("min", value), statistics.min());
  meta.set(key("max", value), statistics.max());
  meta.set(key("clip", value), statistics.abs_max());
  if (statistics.counts().empty()) return;
  meta.set(key("histogram", value), statistics.counts());
  meta.set(key("bin_width", value), statistics.bin_width());
}

std::optional<std::pair<std::vector<double>, double>> stored_histogram(const Graph& graph, const std::string& value) {
  const Attributes& meta = graph.meta();
  if (!meta.has(key("histogram", value))) return std::nullopt;
  return std::pair{meta.get<std::vector<double>>(key("histogram", value)), meta.get<double>(key("bin_width", value))};
}

void store_clip(Graph& graph, const std::string& value, double clip) { graph.meta().set(key("clip", value), clip); }

void store_means(Graph& graph, const std::string& node, const std::vector<double>& means) {
  graph.meta().set(key("means", node), means);
}

std::optional<std::vector<double>> stored_means(const Graph& graph, const std::string& node) {
  if (!graph.meta().has(key("means", node))) return std::nullopt;
  return graph.meta().get<std::vector<double>>(key("means", node));
}

ValueRange stored_range(const Graph& graph, const Value& value) {
  const Attributes& meta = graph.meta();
  check(meta.has(key("min", value.name())), [&] {
    return "no calibration range for value '" + value.name() + "': run compute_ranges on this graph first";
  });
  ValueRange range;
  range.min = meta.get<double>(key("min", value.name()));
  range.max = meta.get<double>(key("max", value.name()));
  range.abs_max = std::max(-range.min, range.max);
  range.clip = meta.get<double>(key("clip", value.name()));
  return range;
}

void clear_statistics(Graph& graph) {
  std::vector<std::string> keys;
  for (const auto& [name, unused] : graph.meta().all())
    if (name.starts_with(prefix)) keys.push_back(name);
  for (const std::string& name : keys) graph.meta().erase(name);
}

} // namespace tern::ptq
