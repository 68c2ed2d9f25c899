#include "node_facts.hpp"

#include <tern/model_stats.hpp>
#include <tern/runtime.hpp>

#include <set>

namespace tern::explore_page {
namespace {

using nlohmann::json;

json value_facts(const Value& value) {
  return {{"name", value.name()},
          {"dtype", value.typed() ? std::string(name(value.dtype())) : "?"},
          {"shape", value.typed() ? value.shape().to_string() : "?"},
          {"constant", value.constant() != nullptr}};
}

/// Ops that only scale, round or saturate: what PTQ inserts around the network's real work.
bool quantizer_op(const Node& node, const std::map<const Value*, std::vector<const Node*>>& readers) {
  static const std::set<std::string> always{"Round",           "Requantize", "QuantizeLinear", "DequantizeLinear",
                                            "PtqFakeQuantize", "Cast"};
  if (always.contains(node.op_type())) return true;
  if (node.op_type() != "Mul" && node.op_type() != "Div" && node.op_type() != "Clip") return false;
  // A Mul/Div/Clip next to a Round is part of a quantizer (x*s -> Round -> Clip -> /s).
  const auto is_round = [](const Node* other) { return other && other->op_type() == "Round"; };
  for (const Value* input : node.inputs())
    if (input && is_round(input->producer())) return true;
  const auto it = readers.find(node.output());
  return it != readers.end() && std::ranges::any_of(it->second, is_round);
}

/// True for a quantized integer value (int4 to int32; int64 and bool carry shapes and masks).
bool quantized_integer(const Value& value) {
  const DataType type = value.dtype();
  return value.typed() && info(type).is_integer && type != DataType::Int64 && type != DataType::Bool;
}

/// The precision a node computes in. In a graph cast to integer types that is its output's
/// type (a float node there really computes in float); in a fake-quantized graph, all
/// float32, it is the PTQ's tag (the values are integers held in floats).
std::string precision_of(const Node& node, bool integer_graph) {
  const Value& output = *node.output();
  const auto* tag = std::get_if<std::string>(node.meta().find("quantization.ptq.precision"));
  if (!integer_graph && tag) return *tag;
  return output.typed() ? std::string(name(output.dtype())) : "float32";
}

/// The report's entry for `node`, and its range and histograms as the page draws them.
void add_report(json& facts, const Node& node, const std::map<std::string, json>& report) {
  facts["report"] = nullptr;
  facts["ranges"] = json::array();
  facts["histograms"] = json::array();
  const auto it = report.find(node.name());
  if (it == report.end()) return;
  const json& entry = it->second;
  facts["report"] = entry;
  if (entry.contains("range")) {
    json range{{"value", node.output()->name()}, {"min", entry["range"][0]}, {"max", entry["range"][1]}};
    if (entry.contains("clip")) range["clip"] = entry["clip"];
    facts["ranges"].push_back(std::move(range));
  }
  // The output's histogram, and the weights' (input 1 of an affine node) when reported.
  for (const auto& [key, value] : {std::pair{"histogram", node.output()}, std::pair{"weight_histogram", node.input(1)}})
    if (entry.contains(key) && value) {
      json histogram = entry[key];
      histogram["value"] = value->name();
      facts["histograms"].push_back(std::move(histogram));
    }
}

/// Backend and kernel of each node when `backends` can run the graph; empty otherwise (the
/// page then says "not placed": a graph the list cannot run is still worth looking at).
std::map<std::string, Placement> placements(const Graph& graph, const std::vector<std::string>& backends) {
  std::map<std::string, Placement> by_node;
  if (backends.empty()) return by_node;
  try {
    for (Placement& placement : Runtime(graph.clone(), backends).placements())
      by_node.emplace(placement.node, std::move(placement));
  } catch (const Error&) {
  }
  return by_node;
}

} // namespace

json graph_facts(const ExploredGraph& explored, const std::vector<std::string>& backends,
                 const std::map<std::string, json>& report) {
  Graph graph = explored.graph->clone();
  graph.infer_shapes();
  const std::map<std::string, Placement> placed = placements(graph, backends);
  const std::vector<Node*> all_nodes = graph.nodes();
  const bool integer_graph =
      std::ranges::any_of(all_nodes, [](const Node* node) { return quantized_integer(*node->output()); });
  std::map<const Value*, std::vector<const Node*>> readers;
  for (const Node* node : all_nodes)
    for (const Value* input : node->inputs())
      if (input) readers[input].push_back(node);

  json nodes = json::array();
  std::map<std::string, int> ops, precisions;
  for (const Node* node : graph.topological_order()) {
    json facts{{"name", node->name()},
               {"op", node->op_type()},
               {"role", quantizer_op(*node, readers) ? "quantizer" : "compute"},
               {"precision", precision_of(*node, integer_graph)},
               {"attributes", json::object()},
               {"inputs", json::array()},
               {"outputs", json::array()},
               {"quantization", json::object()},
               {"macs", node_macs(*node)},
               {"backend", nullptr},
               {"implementation", nullptr}};
    for (const auto& [key, value] : node->attrs().all()) facts["attributes"][key] = to_string(value);
    std::int64_t parameters = 0;
    for (const Value* input : node->inputs())
      if (input) {
        facts["inputs"].push_back(value_facts(*input));
        if (input->constant()) parameters += input->constant()->numel();
      }
    facts["parameters"] = parameters;
    for (const Value* output : node->outputs()) facts["outputs"].push_back(value_facts(*output));
    for (const auto& [key, value] : node->meta().all())
      if (key.starts_with("quantization.")) facts["quantization"][key] = to_string(value);
    add_report(facts, *node, report);
    if (const auto it = placed.find(node->name()); it != placed.end()) {
      facts["backend"] = it->second.backend;
      facts["implementation"] = it->second.implementation;
    }
    ++ops[node->op_type()];
    ++precisions[facts["precision"].get<std::string>()];
    nodes.push_back(std::move(facts));
  }
  const ModelStats stats = model_stats(graph);
  json summary{{"nodes", graph.node_count()},
               {"ops", ops},
               {"parameters", stats.parameters},
               {"macs", stats.macs},
               {"precisions", precisions},
               {"model_bytes", explored.model_bytes ? json(*explored.model_bytes) : json(nullptr)}};
  json outputs = json::array();
  for (const Value* output : graph.outputs()) outputs.push_back(output->name());
  return {
      {"label", explored.label}, {"summary", std::move(summary)}, {"nodes", std::move(nodes)}, {"outputs", outputs}};
}

NodeLook look_of(const json& node) { return {node["precision"].get<std::string>(), node["role"] == "quantizer"}; }

} // namespace tern::explore_page
