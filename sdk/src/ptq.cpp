#include <tern/error.hpp>
#include <tern/pass.hpp>
#include <tern/ptq.hpp>
#include <tern/registry.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>

namespace tern::ptq {
namespace {

// Keys the "ptq" plugin records in the graph's meta (quantization/src/quantize_graph.hpp).
constexpr const char* input_scale_key = "quantization.ptq.input_scale";
constexpr const char* input_limit_key = "quantization.ptq.input_limit";
constexpr const char* input_round_key = "quantization.ptq.input_round";
// Set by tern quantize --fake / --no-quant: the saved model is for float execution.
constexpr const char* float_only_key = "quantization.ptq.float_only";

constexpr Clipping all_modes[] = {Clipping::Max, Clipping::MSE, Clipping::AA, Clipping::KL, Clipping::Percentile};

std::int64_t flag(bool value) { return value ? 1 : 0; }

PassContext context_for(const QuantizeOptions& options) {
  PassContext context;
  Attributes& o = context.options;
  o.set("clipping_mode", std::string(name(options.clipping_mode)));
  o.set("no_quant", flag(options.no_quant));
  o.set("optimize_signs", flag(options.optimize_signs));
  o.set("single_shift", flag(options.single_shift));
  o.set("use_cuda", flag(options.use_cuda));
  o.set("fold_graph", flag(options.fold_graph));
  o.set("fake_quantize", flag(options.fake_quantize));
  o.set("verbose", flag(options.verbose));
  o.set("per_channel", flag(options.per_channel));
  o.set("keep_float", flag(options.keep_float));
  o.set("equalize", flag(options.equalize));
  o.set("bias_correction", flag(options.bias_correction));
  o.set("reduce_range", flag(options.reduce_range));
  o.set("percentile", options.percentile);
  std::string backends;
  for (const std::string& backend : options.backends) backends += (backends.empty() ? "" : ",") + backend;
  o.set("backends", backends);
  if (options.verbose)
    context.log = options.log ? options.log : [](const std::string& line) { std::cerr << line << '\n'; };
  return context;
}

/// Calls options.progress after each batch the passes read.
void report_progress(PassContext& context, const QuantizeOptions& options) {
  if (!options.progress) return;
  context.calibration_batch = [read = std::move(context.calibration_batch), progress = options.progress,
                               count = context.calibration_batches](std::size_t index) {
    std::vector<Tensor> batch = read(index);
    progress(index, count);
    return batch;
  };
}

void with_batches(PassContext& context, const std::vector<Tensor>& batches, const QuantizeOptions& options) {
  context.calibration_batches = batches.size();
  context.calibration_batch = [&batches](std::size_t index) { return std::vector<Tensor>{batches.at(index)}; };
  report_progress(context, options);
}

QuantizeReport run_pipeline(Graph& graph, PassContext& context) {
  run_pass("ptq.quantize_network", graph, context);
  return QuantizeReport{context.seconds};
}

void run_step(const char* pass, Graph& graph, const QuantizeOptions& options) {
  PassContext context = context_for(options);
  run_pass(pass, graph, context);
}

} // namespace

const char* name(Clipping mode) {
  switch (mode) {
  case Clipping::Max: return "max";
  case Clipping::MSE: return "mse";
  case Clipping::AA: return "aa";
  case Clipping::KL: return "kl";
  case Clipping::Percentile: return "percentile";
  }
  return "?";
}

Clipping parse_clipping(const std::string& text) {
  for (const Clipping mode : all_modes)
    if (lowercase(text) == name(mode)) return mode;
  throw Error("unknown clipping mode '" + text + "' (known: max, mse, aa, kl, percentile)");
}

double QuantizeReport::total_seconds() const {
  return std::accumulate(seconds.begin(), seconds.end(), 0.0,
                         [](double sum, const auto& step) { return sum + step.second; });
}

void auto_assign_node_precision(Graph& graph, DataType weight_precision, DataType activation_precision,
                                DataType bias_and_accumulation_precision) {
  PassContext context;
  context.options.set("weights", std::string(name(weight_precision)));
  context.options.set("activations", std::string(name(activation_precision)));
  context.options.set("accumulation", std::string(name(bias_and_accumulation_precision)));
  run_pass("ptq.auto_assign_node_precision", graph, context);
}

QuantizeReport quantize_network(Graph& graph, const std::vector<Tensor>& calibration_set,
                                const QuantizeOptions& options) {
  PassContext context = context_for(options);
  with_batches(context, calibration_set, options);
  return run_pipeline(graph, context);
}

QuantizeReport quantize_network(Graph& graph, const Dataset& calibration_set, const QuantizeOptions& options) {
  check(options.batch_size > 0, "quantize_network: batch_size must be positive");
  PassContext context = context_for(options);
  const std::size_t samples = calibration_set.size();
  context.calibration_batches = (samples + options.batch_size - 1) / options.batch_size;
  context.calibration_batch = [&calibration_set, &options, samples](std::size_t index) {
    const std::size_t begin = index * options.batch_size;
    return std::vector<Tensor>{calibration_set.batch(begin, std::min(options.batch_size, samples - begin))};
  };
  report_progress(context, options);
  return run_pipeline(graph, context);
}

void prepare_network(Graph& graph, const QuantizeOptions& options) { run_step("ptq.prepare", graph, options); }

void compute_ranges(Graph& graph, const std::vector<Tensor>& calibration_set, const QuantizeOptions& options) {
  PassContext context = context_for(options);
  with_batches(context, calibration_set, options);
  run_pass("ptq.compute_ranges", graph, context);
}

void adjust_ranges(Graph& graph, const QuantizeOptions& options) { run_step("ptq.adjust_ranges", graph, options); }

void quantize_normalized_network(Graph& graph, const QuantizeOptions& options) {
  run_step("ptq.quantize", graph, options);
}

void correct_biases(Graph& graph, const std::vector<Tensor>& calibration_set, const QuantizeOptions& options) {
  PassContext context = context_for(options);
  with_batches(context, calibration_set, options);
  run_pass("ptq.correct_biases", graph, context);
}

void fold_quantizers(Graph& graph, const QuantizeOptions& options) { run_step("ptq.fold", graph, options); }

void cast_to_integer(Graph& graph, const QuantizeOptions& options) { run_step("ptq.cast_to_integer", graph, options); }
void to_qdq(Graph& graph, const QuantizeOptions& options) { run_step("ptq.to_qdq", graph, options); }
void qdq_to_integer(Graph& graph) { run_step("ptq.qdq_to_integer", graph, {}); }

bool is_qdq(const Graph& graph) {
  return std::ranges::any_of(graph.nodes(), [](const Node* node) {
    return node->op_type() == "QuantizeLinear" || node->op_type() == "DequantizeLinear";
  });
}

bool is_quantized(const Graph& graph) { return graph.meta().has(input_scale_key); }

InputScaling input_scaling(const Graph& graph) {
  check(is_quantized(graph), "the graph is not quantized: it has no input scaling");
  const auto number = [&](const char* key) {
    return static_cast<float>(std::stod(graph.meta().get<std::string>(key)));
  };
  return {number(input_scale_key), number(input_limit_key), graph.meta().get<std::string>(input_round_key) == "1"};
}

Tensor scale_input(const Graph& graph, const Tensor& input) {
  if (!is_quantized(graph)) return input;
  check(input.dtype() == DataType::Float32,
        [&] { return "scale_input: the input must be float32, not " + std::string(name(input.dtype())); });
  const InputScaling scaling = input_scaling(graph);
  Tensor scaled = input.to(host_backend()).clone();
  float* data = scaled.data<float>();
  for (std::int64_t i = 0; i < scaled.numel(); ++i) {
    const float value = std::clamp(data[i] * scaling.scale, -scaling.limit, scaling.limit);
    data[i] = scaling.round ? std::nearbyint(value) : value;
  }
  return scaled;
}

bool is_float_only(const Graph& graph) { return graph.meta().get_or<std::string>(float_only_key, "0") == "1"; }

void mark_float_only(Graph& graph) { graph.meta().set(float_only_key, std::string("1")); }

} // namespace tern::ptq
