#include "cli_common.hpp"

#include <tern/model_format.hpp>
#include <tern/model_stats.hpp>
#include <tern/ptq.hpp>
#include <tern/registry.hpp>
#include <tern/runtime.hpp>

#include <iomanip>

namespace tern::cli {
namespace {

/// "naive,cpu".
std::string args_text(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ",") + name;
  return text;
}

std::string with_unit(std::int64_t count) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(2);
  if (count >= 1'000'000'000)
    text << static_cast<double>(count) / 1e9 << "G";
  else if (count >= 1'000'000)
    text << static_cast<double>(count) / 1e6 << "M";
  else if (count >= 1'000)
    text << static_cast<double>(count) / 1e3 << "k";
  else
    text << count;
  return text.str();
}

/// Where each node would run with the preference list `backends`, printing the nodes
/// that leave the first backend and why; a list that cannot run the model says which node.
nlohmann::json show_placement(const Graph& graph, const std::vector<std::string>& backends, Output& out) {
  const std::string list = args_text(backends);
  std::vector<Placement> placements;
  try {
    placements = Runtime(graph.clone(), backends).placements();
  } catch (const Error& e) {
    const std::string reason = one_line(e.what());
    out.text() << "  with --backend " << list << ": cannot run the model: " << reason << "\n";
    return {{"error", reason}};
  }
  std::map<std::string, std::size_t> counts; // by lower-case name: users may write CPU
  for (const Placement& node : placements) ++counts[lowercase(node.backend)];
  std::string shares;
  for (const std::string& name : backends)
    if (counts.contains(lowercase(name)))
      shares += (shares.empty() ? " " : ", ") + std::to_string(counts[lowercase(name)]) + " node(s) on " + name;
  out.text() << "  with --backend " << list << ":" << shares << "\n";
  nlohmann::json json = nlohmann::json::array();
  for (const Placement& node : placements) {
    json.push_back({{"node", node.node},
                    {"op", node.op_type},
                    {"backend", node.backend},
                    {"implementation", node.implementation},
                    {"skipped", node.skipped}});
    if (node.skipped.empty()) continue;
    out.text() << "    " << node.node << " (" << node.op_type << ") on " << node.backend << " [" << node.implementation
               << "]: ";
    for (std::size_t i = 0; i < node.skipped.size(); ++i) out.text() << (i ? "; " : "") << node.skipped[i];
    out.text() << "\n";
  }
  return json;
}

int show_info(const po::variables_map& args, Output& out) {
  const std::string path = model_argument(args);
  Graph graph = load_model(path);
  apply_input_shapes(graph, args);
  graph.infer_shapes();
  const ModelStats stats = model_stats(graph);

  nlohmann::json inputs = nlohmann::json::array(), outputs = nlohmann::json::array();
  out.text() << "Model " << path << ": " << graph.node_count() << " nodes\n";
  for (const Value* input : graph.inputs()) {
    out.text() << "  input   " << describe(*input) << "\n";
    inputs.push_back(to_json(*input));
  }
  for (const Value* output : graph.outputs()) {
    out.text() << "  output  " << describe(*output) << "\n";
    outputs.push_back(to_json(*output));
  }
  out.text() << "  ops     ";
  for (const auto& [op, count] : stats.ops) out.text() << op << "×" << count << " ";
  out.text() << "\n  parameters " << with_unit(stats.parameters) << " (" << stats.parameters << ")\n"
             << "  MACs per sample " << with_unit(stats.macs) << " (" << stats.macs << "; Conv, Gemm, MatMul)\n";

  nlohmann::json unsupported = nlohmann::json::object();
  for (const std::string& backend_name : backend_list(args)) {
    const auto missing = unsupported_nodes(graph, backend_name);
    nlohmann::json list = nlohmann::json::array();
    out.text() << "  backend '" << backend_name << "': "
               << (missing.empty() ? "runs every node" : "cannot run " + std::to_string(missing.size()) + " node(s)")
               << "\n";
    for (const Unsupported& node : missing) {
      out.text() << "    " << node.node << " (" << node.op_type << "): " << node.reason << "\n";
      list.push_back({{"node", node.node}, {"op", node.op_type}, {"reason", node.reason}});
    }
    unsupported[backend_name] = list;
  }
  // Several backends: also show the plan they make together (nodes leave the first one).
  const nlohmann::json placement =
      backend_list(args).size() > 1 ? show_placement(graph, backend_list(args), out) : nlohmann::json();
  if (ptq::is_qdq(graph))
    out.text() << "  a QDQ model: its QuantizeLinear/DequantizeLinear pairs run in float unless tern run, eval or "
                  "bench get --integer (the quantized ops then compute on integer kernels)\n";
  out.text() << "\nNext: tern eval " << path << " --dataset fashion-mnist, or tern run " << path << " --input x.npy\n";
  out.result() = {{"model", path},
                  {"inputs", inputs},
                  {"outputs", outputs},
                  {"ops", stats.ops},
                  {"parameters", stats.parameters},
                  {"macs", stats.macs},
                  {"unsupported", unsupported}};
  if (!placement.is_null()) out.result()["placement"] = placement;
  return 0;
}

} // namespace

Command info_command() {
  return {"info", "describe a model: inputs, outputs, ops, parameters, MACs, nodes a backend cannot run", "model",
          [](po::options_description& options) {
            options.add_options()("model", po::value<std::vector<std::string>>(), "model file (.onnx)")(
                "backend", po::value<std::string>()->default_value("cpu"),
                "backends to check, comma-separated; with several, also where each node would run");
            add_input_shape_option(options);
          },
          show_info};
}

} // namespace tern::cli
