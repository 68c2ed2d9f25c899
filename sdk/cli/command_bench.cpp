// `tern bench`: images/s of a model on random inputs, the figure peers are compared on
// (scripts/bench_cpu.py runs it beside PyTorch and ONNX Runtime).
#include "bench_profile.hpp"
#include "cli_common.hpp"

#include <tern/ptq.hpp>

#include <tern/model_format.hpp>

#include <random>

namespace tern::cli {
namespace {

/// A float32 batch of uniform [0, 1) values shaped like `input` with batch `batch`.
Tensor random_batch(const Value& input, std::int64_t batch) {
  check(input.dtype() == DataType::Float32, [&] {
    return "tern bench feeds float32 inputs; input '" + input.name() + "' is " + std::string(name(input.dtype()));
  });
  std::vector<std::int64_t> dims = input.shape().dims();
  check(!dims.empty(), [&] { return "tern bench needs a batched input; '" + input.name() + "' is a scalar"; });
  dims[0] = batch;
  for (std::size_t i = 1; i < dims.size(); ++i)
    check(dims[i] != Shape::dynamic, [&] {
      return "input '" + input.name() + "' has a dynamic dimension " + std::to_string(i) +
             ": tern bench cannot choose its size";
    });
  Tensor tensor(Shape(dims), DataType::Float32);
  std::mt19937 generator(7);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  float* data = tensor.data<float>();
  for (std::int64_t i = 0; i < tensor.numel(); ++i) data[i] = uniform(generator);
  return tensor;
}

/// Integer Conv/Gemm/MatMul steps the cpu backend runs on its native kernels: exact but far
/// slower than oneDNN's, which it declines on CPUs without VNNI for full-range weights.
std::size_t native_integer_affine_steps(const SequentialScheduler& scheduler) {
  std::size_t count = 0;
  for (const PlanStep& step : scheduler.plan()) {
    const std::string& op = step.node->op_type();
    const Value* x = step.node->input(0);
    const bool integer = x != nullptr && (x->dtype() == DataType::Int8 || x->dtype() == DataType::UInt8);
    count += integer && (op == "Conv" || op == "Gemm" || op == "MatMul") && step.implementation == "native";
  }
  return count;
}

int bench(const po::variables_map& args, Output& out) {
  const std::string path = model_argument(args);
  auto batch = args["batch"].as<std::int64_t>();
  const auto seconds = args["seconds"].as<double>();
  check(batch > 0, "--batch must be positive");
  check(seconds > 0, "--seconds must be positive");
  const Graph graph = load_model_argument(args);
  // A batch the model (or --input-shape) fixes is the batch to measure.
  if (const std::int64_t fixed = graph.inputs().empty() ? 0 : graph.inputs()[0]->shape()[0]; fixed > 0) {
    check(args["batch"].defaulted() || batch == fixed, [&] {
      return "--batch " + std::to_string(batch) + ": the model's input fixes the batch at " + std::to_string(fixed) +
             " (its first dimension; --input-shape changes it)";
    });
    batch = fixed;
  }
  SequentialScheduler scheduler(graph, prepare_backends(args));
  std::vector<Tensor> inputs;
  for (const Value* input : graph.inputs()) inputs.push_back(ptq::scale_input(graph, random_batch(*input, batch)));

  (void)scheduler.forward(inputs); // warm-up: primitives, buffers, caches
  // Best of short windows: the machine is shared and noisy, the best window is the signal.
  double best = 0.0;
  std::size_t runs = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    const auto window = std::chrono::steady_clock::now();
    std::size_t in_window = 0;
    do {
      (void)scheduler.forward(inputs);
      ++in_window;
    } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - window).count() < seconds / 5);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - window).count();
    best = std::max(best, static_cast<double>(in_window * static_cast<std::size_t>(batch)) / elapsed);
    runs += in_window;
  }
  out.text() << path << ": " << static_cast<long>(best) << " images/s at batch " << batch << " on "
             << args["backend"].as<std::string>() << " (best window of " << runs << " runs)\n";
  out.result() = {{"model", path}, {"batch", batch}, {"images_per_second", best}, {"runs", runs}};
  if (const std::size_t native = native_integer_affine_steps(scheduler); native > 0)
    out.text() << native << " integer Conv/Gemm/MatMul step(s) ran on Tern's native int8 kernels (exact, but slower "
               << "than oneDNN's): without VNNI, oneDNN's int8 primitives are exact only for uint8 inputs and weights "
               << "within ±63. "
               << (ptq::is_quantized(graph)
                       ? "Quantize with --optimize-signs --reduce-range to run most of them on oneDNN.\n"
                       : "From a QDQ file, the steps with such inputs and weights run there (weights within ±63: "
                         "tern quantize --format qdq's default, quantize_static's reduce_range=True).\n");
  if (args.count("profile")) {
    const auto passes = args["profile-runs"].as<std::size_t>();
    check(passes > 0, "--profile-runs must be positive");
    print_profile(scheduler, inputs, passes, out);
  } else {
    out.text() << "Next: add --profile to see where the time goes, step by step.\n";
  }
  return 0;
}

} // namespace

Command bench_command() {
  return {"bench", "measure images/s of a model on random inputs", "model",
          [](po::options_description& options) {
            options.add_options()("model", po::value<std::vector<std::string>>(), "model file (.onnx)")(
                "batch", po::value<std::int64_t>()->default_value(64),
                "batch size")("seconds", po::value<double>()->default_value(3.0), "how long to measure")(
                "profile", "then time each step: node, backend, implementation (oneDNN's primitives), share")(
                "profile-runs", po::value<std::size_t>()->default_value(20), "passes the profile takes the median of");
            add_backend_options(options);
            add_input_shape_option(options);
          },
          bench};
}

} // namespace tern::cli
