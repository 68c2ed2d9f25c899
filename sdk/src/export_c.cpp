#include <tern/error.hpp>
#include <tern/export.hpp>
#include <tern/exporter.hpp>
#include <tern/ptq.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace tern {
namespace {

/// A graph already cast to integer holds Requantize nodes; the saved, fake-quantized form none.
bool cast_to_integer_done(const Graph& graph) {
  const std::vector<Node*> nodes = graph.nodes();
  return std::any_of(nodes.begin(), nodes.end(), [](const Node* node) { return node->op_type() == "Requantize"; });
}

} // namespace

ExportCSummary export_c(const Graph& graph, const std::filesystem::path& dir, const ExportCOptions& options) {
  check(ptq::is_quantized(graph), [&] {
    return options.source + " is not quantized: run tern quantize (without --fake) first, then export its output";
  });
  check(!ptq::is_float_only(graph), [&] {
    return options.source +
           " was quantized with --fake or --no-quant (float execution only): quantize it again without them to "
           "export integer C";
  });
  Graph integer = graph.clone();
  if (!cast_to_integer_done(integer)) ptq::cast_to_integer(integer);

  const ptq::InputScaling scaling = ptq::input_scaling(graph);
  Attributes attrs;
  attrs.set("name", options.name);
  attrs.set("source", options.source);
  attrs.set("input_scale", static_cast<double>(scaling.scale));
  attrs.set("input_limit", static_cast<double>(scaling.limit));
  attrs.set("input_round", std::int64_t{scaling.round ? 1 : 0});
  exporter_for("c").write(integer, dir, attrs);

  ExportCSummary summary;
  summary.header = dir / (options.name + ".h");
  summary.source = dir / (options.name + ".c");
  summary.weights = dir / (options.name + "_weights.c");
  summary.manifest = dir / (options.name + ".json");
  std::ifstream in(summary.manifest);
  const nlohmann::json manifest = nlohmann::json::parse(in, nullptr, false);
  check(!manifest.is_discarded(), [&] { return summary.manifest.string() + ": the exporter wrote no valid manifest"; });
  summary.input_size = manifest.at("input_size").get<std::size_t>();
  summary.output_size = manifest.at("output_size").get<std::size_t>();
  summary.arena_bytes = manifest.at("arena_bytes").get<std::size_t>();
  summary.weight_bytes = manifest.at("weight_bytes").get<std::size_t>();
  summary.steps = manifest.at("steps").size();
  return summary;
}

} // namespace tern
