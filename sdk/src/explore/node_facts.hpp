#pragma once
// What the explorer page knows of a graph (the "graphs[i]" object of its data, see
// page.html): a summary and, per node in topological order, its facts.

#include <tern/explore.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace tern::explore_page {

/// How the page draws a node: its precision colour and whether it is a quantizer.
struct NodeLook {
  std::string precision; ///< "float32", "int8", ...
  bool quantizer = false;
};

/// The facts of `explored` (typed on a copy): summary, and nodes in topological order with
/// attributes, inputs/outputs, parameters, MACs, placement on `backends` (when the graph runs
/// there), quantization metadata, calibration ranges and histograms, and `report`'s entry.
nlohmann::json graph_facts(const ExploredGraph& explored, const std::vector<std::string>& backends,
                           const std::map<std::string, nlohmann::json>& report);

/// The look of each node of graph_facts(...)["nodes"], from its "precision" and "role".
NodeLook look_of(const nlohmann::json& node);

} // namespace tern::explore_page
