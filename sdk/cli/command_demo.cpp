// `tern demo`: the main job of the README. With --model, the seed's PTQ tutorial end to
// end: load a trained ONNX ConvNet, example inferences, float accuracy, 8-bit PTQ with
// integer execution, the seed's 4-bit setting. Without, the framework in miniature: build
// a graph, load a backend plugin by name, run it and check it against a plain loop.
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

/// Logits of the first `count` images as the seed prints them: label -> rounded logits.
void print_examples(const Graph& graph, const Dataset& test, std::size_t count, Output& out) {
  SequentialScheduler scheduler(graph, {"cpu"});
  const Tensor logits = scheduler.forward({ptq::scale_input(graph, test.batch(0, count))})[0];
  const std::vector<double> values = logits.to_doubles();
  const auto classes = static_cast<std::size_t>(logits.shape()[1]);
  for (std::size_t row = 0; row < count; ++row) {
    const auto begin = values.begin() + static_cast<std::ptrdiff_t>(row * classes);
    const auto best = std::max_element(begin, begin + static_cast<std::ptrdiff_t>(classes)) - begin;
    out.text() << "   " << test.labels()[row] << " -> [";
    for (std::size_t c = 0; c < classes; ++c)
      out.text() << (c ? " " : "") << std::fixed << std::setprecision(2) << std::setw(6)
                 << *(begin + static_cast<std::ptrdiff_t>(c));
    out.text() << "]  top-1 " << best << (best == test.labels()[row] ? "" : "  (wrong)") << "\n";
  }
}

double accuracy_of(const Graph& graph, const Dataset& test, const std::string& what) {
  SequentialScheduler scheduler(graph, {"cpu"});
  return measure_accuracy(graph, scheduler, test, 64, what).fraction();
}

/// PTQ of `path` as the seed's quantize_network call, with its precisions and options.
Graph tutorial_ptq(const std::string& path, const Dataset& calibration, DataType bits, DataType accumulation, bool fake,
                   bool per_channel, double& seconds) {
  Graph graph = load_model(path);
  ptq::auto_assign_node_precision(graph, bits, bits, accumulation);
  ptq::QuantizeOptions options;
  options.clipping_mode = ptq::Clipping::MSE;
  options.fake_quantize = fake;
  options.per_channel = per_channel;
  seconds = ptq::quantize_network(graph, calibration, options).total_seconds();
  prepare_for_inference(graph);
  return graph;
}

/// The seed tutorial end to end on `path` and Fashion-MNIST.
void run_tutorial(const std::string& path, std::size_t samples, Output& out) {
  const Graph float_graph = load_for_inference(path);
  const ModelStats stats = model_stats(float_graph);
  out.text() << "The PTQ tutorial (AIDGE's, ../shared/seed) on " << path << "\n\n"
             << "1. Loaded the model through the onnx plugin: " << float_graph.node_count() << " nodes after folding, "
             << stats.parameters << " parameters, " << stats.macs << " MACs per image.\n";
  Dataset test = open_dataset("fashion-mnist", "test");
  check_fits(test, float_graph.inputs()[0]->shape());
  if (samples > 0 && samples < test.size()) test = test.first(samples);
  const Dataset calibration = open_dataset("fashion-mnist", "train").first(100);

  out.text() << "2. Example inferences, float32 (label -> logits):\n";
  print_examples(float_graph, test, 5, out);
  const double float_accuracy = accuracy_of(float_graph, test, path);
  out.text() << std::fixed << std::setprecision(2) << "3. Float accuracy on " << test.size()
             << " test images: " << 100 * float_accuracy << "%\n";

  double int8_seconds = 0;
  const Graph int8 = tutorial_ptq(path, calibration, DataType::Int8, DataType::Int32, false, false, int8_seconds);
  out.text()
      << "4. auto_assign_node_precision(int8, int8, int32), then quantize_network over 100 calibration images\n"
      << "   (Clipping.MSE, fake_quantize=False: int8 weights, int32 biases, integer activations) in "
      << std::setprecision(2) << int8_seconds << " s.\n"
      << "5. Example quantized inferences (inputs x127 and rounded, as the seed does: tern::ptq::scale_input):\n";
  print_examples(int8, test, 5, out);
  const double int8_accuracy = accuracy_of(int8, test, "the 8-bit network");
  out.text() << "6. 8-bit accuracy (int8 kernels: oneDNN's where exact, else Tern's): " << 100 * int8_accuracy
             << "% (drop " << 100 * (float_accuracy - int8_accuracy) << " points)\n";

  double int4_seconds = 0;
  const Graph int4 = tutorial_ptq(path, calibration, DataType::Int4, DataType::Int16, true, false, int4_seconds);
  const double int4_accuracy = accuracy_of(int4, test, "the 4-bit network");
  out.text() << "7. The seed's 4-bit setting (int4, int4, int16; fake_quantize=True, inputs x7): "
             << 100 * int4_accuracy << "% (drop " << 100 * (float_accuracy - int4_accuracy) << " points)\n";
  const Graph int4_channels =
      tutorial_ptq(path, calibration, DataType::Int4, DataType::Int16, true, true, int4_seconds);
  const double int4_channel_accuracy = accuracy_of(int4_channels, test, "the 4-bit per-channel network");
  out.text() << "8. The same with per-channel weight scales (a Tern option): " << 100 * int4_channel_accuracy
             << "% (drop " << 100 * (float_accuracy - int4_channel_accuracy) << " points)\n\n"
             << "Next: tern quantize " << path
             << " --eval fashion-mnist -o quantized.onnx   (--help for every option)\n"
             << "      add --explore pages to see the network before and after PTQ in a browser\n"
             << "      then tern export quantized.onnx -o c_model for a microcontroller (C99), or quantize with\n"
             << "      --format qdq for ONNX Runtime's int8 kernels\n";
  out.result()["model"] = {{"path", path}, {"samples", test.size()}, {"accuracy", float_accuracy}};
  out.result()["float_accuracy"] = float_accuracy;
  out.result()["int8_accuracy"] = int8_accuracy;
  out.result()["int4_accuracy"] = int4_accuracy;
  out.result()["int4_per_channel_accuracy"] = int4_channel_accuracy;
  out.result()["eval_samples"] = test.size();
  out.result()["calibration_samples"] = calibration.size();
}

int run_demo(const po::variables_map& args, Output& out) {
  if (args.count("model")) {
    run_tutorial(args["model"].as<std::string>(), args["samples"].as<std::size_t>(), out);
    return 0;
  }
  const std::string backend_name = args["backend"].as<std::string>();
  const auto batch = args["batch"].as<std::int64_t>();
  check(batch > 0, [&] { return "--batch must be positive, got " + std::to_string(batch); });

  Graph graph = demo_graph();
  graph.validate();
  graph.infer_shapes();
  out.text() << "1. Built a graph of " << graph.node_count() << " Relu nodes: x"
             << graph.inputs()[0]->shape().to_string() << " -> y" << graph.outputs()[0]->shape().to_string()
             << " ('?' = any batch size).\n";

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
  out.text()
      << "\nNext: `tern plugins` lists every plugin; plugins/template/ is the one to copy for your own backend.\n";
  out.result()["backend"] = chosen.name();
  out.result()["plugin_path"] = plugin.path.string();
  out.result()["steps"] = scheduler.plan().size();
  out.result()["buffers"] = scheduler.buffer_count();
  out.result()["runs"] = runs;
  return all_match ? 0 : 1;
}

} // namespace

Command demo_command() {
  return {"demo", "the PTQ tutorial on a model (--model), or a small graph on a backend loaded by name", nullptr,
          [](po::options_description& options) {
            options.add_options()("backend", po::value<std::string>()->default_value("template"),
                                  "backend plugin to run on")("batch", po::value<std::int64_t>()->default_value(3),
                                                              "second batch size to run")(
                "model", po::value<std::string>(),
                "run the seed's PTQ tutorial on this ONNX classifier and Fashion-MNIST")(
                "samples", po::value<std::size_t>()->default_value(0), "test images for --model (0: all 10,000)");
          },
          run_demo};
}

} // namespace tern::cli
