#include "cli_common.hpp"

#include <tern/explore.hpp>
#include <tern/model_format.hpp>

#include <filesystem>

namespace tern::cli {
namespace {

namespace fs = std::filesystem;

ExploredGraph explored_file(const std::string& path, const Graph& graph) {
  return {&graph, fs::path(path).filename().string(), fs::file_size(path)};
}

int explore_model(const po::variables_map& args, Output& out) {
  const std::string path = model_argument(args);
  const std::string html =
      args.count("output") ? args["output"].as<std::string>() : fs::path(path).stem().string() + ".html";
  const Graph graph = load_model(path);
  std::vector<ExploredGraph> graphs{explored_file(path, graph)};
  std::optional<Graph> other;
  if (args.count("compare")) {
    const std::string compare = args["compare"].as<std::string>();
    other = load_model(compare);
    graphs.push_back(explored_file(compare, *other));
  }
  ExploreOptions options;
  if (args.count("report")) options.report = args["report"].as<std::string>();
  options.backends = backend_list(args);
  explore(graphs, html, options);

  out.text() << "Wrote " << html << " (" << fs::file_size(html) / 1024 << " KiB): " << graph.node_count()
             << " nodes of " << path << (other ? " beside " + args["compare"].as<std::string>() : std::string())
             << ", one self-contained page that opens offline.\n"
             << "Open it in a browser: drag to pan, scroll to zoom, click a node for its shapes, parameters and "
                "quantization facts, search by name or op.\n";
  if (!other)
    out.text() << "Next: tern quantize " << path << " -o quantized.onnx --explore DIR draws it before and after PTQ; "
               << "tern explore quantized.onnx --compare " << path << " shows both side by side.\n";
  out.result() = {{"model", path}, {"output", html}, {"bytes", fs::file_size(html)}, {"nodes", graph.node_count()}};
  return 0;
}

} // namespace

Command explore_command() {
  return {"explore", "write a self-contained HTML page that draws the model (Graphviz) with every node's facts",
          "model",
          [](po::options_description& options) {
            options.add_options()("model", po::value<std::vector<std::string>>(), "model file (.onnx)")(
                "output,o", po::value<std::string>(), "the page to write (default: MODEL's name with .html, here)")(
                "report", po::value<std::string>(), "a quantization report (JSON, docs/REPORT.md): per-node SQNR")(
                "compare", po::value<std::string>(), "a second model drawn beside it (e.g. the quantized one)")(
                "backend", po::value<std::string>()->default_value("cpu"),
                "backend preference list the placement is shown for");
          },
          explore_model};
}

} // namespace tern::cli
