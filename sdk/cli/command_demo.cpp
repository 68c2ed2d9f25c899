// `tern demo`: the main job of the README. Until the PTQ plugin lands it shows the
// framework end to end: build a graph, load a backend plugin by name, compile a plan,
// run two batch sizes and check the result against a plain loop; then, with --model, the
// first half of the seed's PTQ tutorial: load a trained ONNX ConvNet and measure it.
#include "cli_common.hpp"

#include <tern/model_stats.hpp>

#include <tern/tern.hpp>

#include <algorithm>
#include <iomanip>

namespace tern::cli {
namespace {

constexpr std::int64_t features = 6;
constexpr int layers = 4;

Graph demo_graph() {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, features});
  std::string previous = "x";
  for (int i = 1; i <= layers; ++i) {
    const std::string output = i == layers ? "y" : "h" + std::to_string(i);
    graph.add_node("Relu", {previous}, {output}, {}, "relu" + std::to_string(i));
    previous = output;
  }
  graph.add_output("y");
  return graph;
}

std::string values_text(const Tensor& tensor) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(1) << "[";
  const auto values = tensor.to_doubles();
  for (std::size_t i = 0; i < values.size(); ++i) text << (i ? " " : "") << values[i];
  return text.str() + "]";
}

/// Steps 5-6: the seed tutorial's "load the model, measure it", on Fashion-MNIST.
void measure_model(const std::string& path, std::size_t samples, Output& out) {
  Graph graph = load_for_inference(path);
  const ModelStats stats = model_stats(graph);
  out.text() << "5. Loaded " << path << " through the onnx plugin: " << graph.node_count() << " nodes after folding, "
             << stats.parameters << " parameters, " << stats.macs << " MACs per image.\n";
  const Dataset test = open_dataset("fashion-mnist", "test").first(samples);
  check_fits(test, graph.inputs()[0]->shape());
  SequentialScheduler scheduler(graph, {"cpu"});
  const Accuracy accuracy = measure_accuracy(graph, scheduler, test, 64, path);
  out.text() << std::fixed << std::setprecision(2) << "6. Top-1 accuracy on the first " << test.size()
             << " Fashion-MNIST test images, float32 on 'cpu': " << 100.0 * accuracy.fraction() << "% ("
             << std::setprecision(0) << accuracy.images_per_second() << " images/s).\n"
             << "   All 10,000: tern eval " << path << " --dataset fashion-mnist\n";
  out.result()["model"] = {{"path", path}, {"samples", test.size()}, {"accuracy", accuracy.fraction()},
                           {"images_per_second", accuracy.images_per_second()}};
}

int run_demo(const po::variables_map& args, Output& out) {
  const std::string backend_name = args["backend"].as<std::string>();
  const auto batch = args["batch"].as<std::int64_t>();
  check(batch > 0, "--batch must be positive, got " + std::to_string(batch));

  Graph graph = demo_graph();
  graph.validate();
  graph.infer_shapes();
  out.text() << "1. Built a graph of " << graph.node_count() << " Relu nodes: x" << graph.inputs()[0]->shape().to_string()
             << " -> y" << graph.outputs()[0]->shape().to_string() << " ('?' = any batch size).\n";

  const Backend& chosen = backend(backend_name);
  const PluginInfo& plugin = PluginHost::instance().load(backend_name);
  out.text() << "2. Loaded backend '" << chosen.name() << "' by name from " << plugin.path.string() << ".\n";

  SequentialScheduler scheduler(graph, {backend_name});
  out.text() << "3. Compiled a plan: " << scheduler.plan().size() << " steps on '" << scheduler.plan()[0].backend
             << "', " << scheduler.buffer_count() << " reused activation buffer(s) for " << layers - 1
             << " intermediate values.\n";

  nlohmann::json runs = nlohmann::json::array();
  bool all_match = true;
  for (const std::int64_t n : {std::int64_t{1}, batch}) {
    std::vector<float> input(static_cast<std::size_t>(n * features));
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(i % 7) - 3.0f;
    const Tensor x = Tensor::from_floats(Shape{n, features}, input);
    const Tensor y = scheduler.forward({x})[0];
    // The reference: a plain loop, independent of any kernel.
    const auto got = y.to_doubles();
    bool match = got.size() == input.size();
    for (std::size_t i = 0; match && i < input.size(); ++i) match = got[i] == std::max(0.0f, input[i]);
    all_match = all_match && match;
    out.text() << "4. Ran batch " << n << ": x=" << values_text(x) << "\n   y=" << values_text(y) << "  "
               << (match ? "matches max(x, 0)" : "DIFFERS from max(x, 0)") << "\n";
    runs.push_back({{"batch", n}, {"output", got}, {"matches_reference", match}});
  }
  if (args.count("model")) measure_model(args["model"].as<std::string>(), args["samples"].as<std::size_t>(), out);
  out.text() << "\nNext: `tern plugins` lists every plugin; plugins/template/ is the one to copy for your own backend.\n";
  out.result()["backend"] = chosen.name();
  out.result()["plugin_path"] = plugin.path.string();
  out.result()["steps"] = scheduler.plan().size();
  out.result()["buffers"] = scheduler.buffer_count();
  out.result()["runs"] = runs;
  return all_match ? 0 : 1;
}

} // namespace

Command demo_command() {
  return {"demo", "run a small graph on a backend loaded by name, and check it against a plain loop", nullptr,
          [](po::options_description& options) {
            options.add_options()("backend", po::value<std::string>()->default_value("template"), "backend plugin to run on")(
                "batch", po::value<std::int64_t>()->default_value(3), "second batch size to run")(
                "model", po::value<std::string>(), "also load this ONNX classifier and measure it on Fashion-MNIST")(
                "samples", po::value<std::size_t>()->default_value(1000), "test images to measure --model on");
          },
          run_demo};
}

} // namespace tern::cli
