#include "cli_common.hpp"

#include <tern/model_format.hpp>
#include <tern/ptq.hpp>
#include <tern/registry.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace tern::cli {

void add_backend_options(po::options_description& options) {
  options.add_options()("backend", po::value<std::string>()->default_value("cpu"),
                        "backend preference list, e.g. cpu or mynpu,cpu: each node runs on the first that can")(
      "threads", po::value<int>()->default_value(0),
      "threads per backend (0: the default, OMP_NUM_THREADS or else all cores)")(
      "integer", "run a quantized model with integer kernels: tern quantize's (saved fake-quantized) or a QDQ model");
}

void add_input_shape_option(po::options_description& options) {
  options.add_options()("input-shape", po::value<std::vector<std::string>>(),
                        "NAME=1x3x224x224: fix an input's dynamic dimensions (a batch, say) and fold the shape "
                        "arithmetic that then becomes constant (NAME= may go when the model has one input)");
}

namespace {

/// "NAME=1x3x224x224" (or "1x3x224x224" for the only input) as the input's name and shape.
std::pair<std::string, Shape> parse_input_shape(const std::string& text, const Graph& graph) {
  const std::size_t equals = text.rfind('=');
  std::string name = equals == std::string::npos ? std::string() : text.substr(0, equals);
  const std::string dims = equals == std::string::npos ? text : text.substr(equals + 1);
  if (name.empty()) {
    check(graph.inputs().size() == 1, [&] {
      return "--input-shape " + text + ": the model has " + std::to_string(graph.inputs().size()) +
             " inputs, name one as NAME=" + dims;
    });
    name = graph.inputs()[0]->name();
  }
  std::vector<std::int64_t> shape;
  std::stringstream list(dims);
  for (std::string dim; std::getline(list, dim, 'x');) {
    std::size_t used = 0;
    long long value = -1;
    try {
      value = std::stoll(dim, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    check(used == dim.size() && !dim.empty() && value > 0, [&] {
      return "--input-shape " + text + ": '" + dim + "' is not a positive dimension (expected e.g. input=1x3x224x224)";
    });
    shape.push_back(value);
  }
  return {name, Shape(std::move(shape))};
}

/// --backend's list where the command has the option, else "cpu".
std::vector<std::string> backends_or_cpu(const po::variables_map& args) {
  return args.count("backend") ? backend_list(args) : std::vector<std::string>{"cpu"};
}

} // namespace

void apply_input_shapes(Graph& graph, const po::variables_map& args) {
  if (args.count("input-shape") == 0) return;
  const std::vector<std::string> backends = backends_or_cpu(args);
  for (const std::string& text : args["input-shape"].as<std::vector<std::string>>()) {
    const auto [name, shape] = parse_input_shape(text, graph);
    set_input_shape(graph, name, shape, backends);
  }
}

Graph load_model_argument(const po::variables_map& args) {
  const std::string path = model_argument(args);
  Graph graph = load_model(path);
  const bool integer = args.count("integer") > 0;
  check(!integer || ptq::is_quantized(graph) || ptq::is_qdq(graph), [&] {
    return path + ": --integer needs a quantized model (tern quantize's, or a QDQ model); this one is float";
  });
  // A QDQ model's integer form is read off its DequantizeLinear nodes, which folding the
  // constants of fixed input shapes would turn into float weights: it goes first, and again
  // after (sizes the shapes fixed let an average over a computed plane become integer).
  const bool qdq = integer && !ptq::is_quantized(graph);
  if (qdq) ptq::qdq_to_integer(graph);
  apply_input_shapes(graph, args);
  if (qdq && args.count("input-shape") > 0) ptq::qdq_to_integer(graph);
  if (integer && ptq::is_quantized(graph)) ptq::cast_to_integer(graph);
  prepare_for_inference(graph, backends_or_cpu(args));
  return graph;
}

std::vector<std::string> backend_list(const po::variables_map& args) {
  std::vector<std::string> names;
  std::stringstream list(args["backend"].as<std::string>());
  for (std::string name; std::getline(list, name, ',');) {
    check(!name.empty(),
          [&] { return "--backend: empty backend name in '" + args["backend"].as<std::string>() + "'"; });
    names.push_back(name);
  }
  check(!names.empty(), "--backend: no backend named");
  return names;
}

std::vector<std::string> prepare_backends(const po::variables_map& args) {
  const int threads = args["threads"].as<int>();
  check(threads >= 0, [&] { return "--threads must be 0 (the default) or positive, got " + std::to_string(threads); });
  const std::vector<std::string> names = backend_list(args);
  for (const std::string& name : names) backend(name).set_num_threads(threads);
  return names;
}

std::string model_argument(const po::variables_map& args) {
  check(args.count("model") == 1, "give one model file, e.g. tern info model.onnx");
  const auto& models = args["model"].as<std::vector<std::string>>();
  check(models.size() == 1, [&] { return "give one model file, got " + std::to_string(models.size()); });
  return models[0];
}

namespace {

/// Index of the largest logit in row `row` of [N, classes] logits.
std::int64_t top1(const Tensor& logits, std::int64_t row) {
  const std::int64_t classes = logits.numel() / logits.shape()[0];
  const float* begin = logits.data<float>() + row * classes;
  return std::max_element(begin, begin + classes) - begin;
}

} // namespace

Accuracy measure_accuracy(const Graph& graph, SequentialScheduler& scheduler, const Dataset& dataset, std::size_t batch,
                          const std::string& model) {
  Progress progress("evaluating", dataset.size());
  Accuracy result;
  result.samples = dataset.size();
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t begin = 0; begin < dataset.size(); begin += batch) {
    const Tensor logits = scheduler.forward({ptq::scale_input(graph, dataset.batch(begin, batch))})[0];
    check(logits.dtype() == DataType::Float32 && logits.shape().rank() == 2,
          [&] { return model + ": the output must be float32 logits [N, classes], got " + logits.describe(); });
    for (std::int64_t row = 0; row < logits.shape()[0]; ++row)
      result.correct += top1(logits, row) == dataset.labels()[begin + static_cast<std::size_t>(row)];
    progress.update(std::min(begin + batch, dataset.size()));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  progress.finish();
  return result;
}

std::string describe(const Value& value) {
  return value.name() + " " + std::string(name(value.dtype())) + value.shape().to_string();
}

nlohmann::json to_json(const Value& value) {
  nlohmann::json dims = nlohmann::json::array();
  for (std::int64_t d : value.shape())
    dims.push_back(d == Shape::dynamic ? nlohmann::json(nullptr) : nlohmann::json(d));
  return {{"name", value.name()}, {"dtype", std::string(name(value.dtype()))}, {"shape", dims}};
}

Progress::Progress(std::string label, std::size_t total)
    : label_(std::move(label)), total_(total), enabled_(::isatty(STDERR_FILENO) != 0) {}

void Progress::update(std::size_t done) {
  if (!enabled_ || total_ == 0) return;
  constexpr int width = 30;
  const auto filled = static_cast<int>(width * done / total_);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::cerr << "\r" << label_ << " [" << std::string(static_cast<std::size_t>(filled), '#')
            << std::string(static_cast<std::size_t>(width - filled), '.') << "] " << done << "/" << total_ << "  "
            << static_cast<long>(seconds > 0 ? static_cast<double>(done) / seconds : 0) << "/s" << std::flush;
}

void Progress::finish() {
  if (enabled_) std::cerr << "\r" << std::string(80, ' ') << "\r" << std::flush;
}

} // namespace tern::cli
