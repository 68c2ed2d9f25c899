#include "calibration.hpp"

#include "clipping/clipping.hpp"
#include "column_means.hpp"
#include "op_roles.hpp"
#include "ranges.hpp"
#include "value_format.hpp"

#include <tern/recipes.hpp>
#include <tern/registry.hpp>
#include <tern/scheduler.hpp>

#include <map>
#include <memory>
#include <optional>
#include <sstream>

namespace tern::ptq {
namespace {

/// use_cuda: the "cuda" backend, or an error saying why it cannot be had.
Backend& cuda_backend() {
  try {
    return backend("cuda");
  } catch (const Error& error) {
    throw Error(std::string("use_cuda: ") + error.what());
  }
}

/// A graph of one `op` node over float32 x[?] (and the given extra inputs), its outputs
/// the graph's outputs: how the PTQ calls the statistics ops of a backend.
std::unique_ptr<Graph> one_op_graph(const std::string& op,
                                    const std::vector<std::pair<std::string, DataType>>& extra_inputs,
                                    const std::vector<std::string>& outputs, Attributes attrs) {
  auto graph = std::make_unique<Graph>();
  std::vector<std::string> inputs{"x"};
  graph->add_input("x", DataType::Float32, Shape{Shape::dynamic});
  for (const auto& [name, dtype] : extra_inputs) {
    graph->add_input(name, dtype, Shape{1});
    inputs.push_back(name);
  }
  graph->add_node(op, inputs, outputs, std::move(attrs));
  for (const std::string& output : outputs) graph->add_output(output);
  return graph;
}

/// use_cuda: what ValueStatistics's two passes compute, by the "cuda" backend's PtqRange
/// and PtqHistogram ops (one-node graphs compiled once); each observed tensor crosses to
/// the device once per pass and only the extremes and counts come back.
class CudaStatistics {
public:
  explicit CudaStatistics(std::size_t bins)
      : cuda_(cuda_backend()), range_graph_(one_op_graph("PtqRange", {}, {"ranges", "non_finite"}, {})),
        range_(*range_graph_, {"cuda"}) {
    if (bins == 0) return;
    Attributes attrs;
    attrs.set("bins", static_cast<std::int64_t>(bins));
    histogram_graph_ = one_op_graph("PtqHistogram", {{"range", DataType::Float64}}, {"counts"}, std::move(attrs));
    histogram_.emplace(*histogram_graph_, std::vector<std::string>{"cuda"});
  }

  void add_extremes(ValueStatistics& target, const Tensor& tensor) {
    if (tensor.numel() == 0) return;
    const std::vector<Tensor> range = range_.forward({on_device(tensor)});
    const Tensor extremes = range[0].to(host_backend());
    target.add_extremes(extremes.data<float>()[0], extremes.data<float>()[1],
                        range[1].to(host_backend()).data<std::int64_t>()[0]);
  }

  void add_histogram(ValueStatistics& target, const Tensor& tensor) {
    if (tensor.numel() == 0 || !histogram_) return;
    const Tensor limit = Tensor::from(Shape{1}, DataType::Float64, std::vector<double>{target.range()});
    target.add_counts(histogram_->forward({on_device(tensor), limit})[0].to(host_backend()).data<std::int64_t>());
  }

private:
  Tensor on_device(const Tensor& tensor) const {
    check(tensor.dtype() == DataType::Float32,
          [&] { return "calibration observes float32 values, not " + std::string(name(tensor.dtype())); });
    return (&tensor.backend() == &cuda_ ? tensor : tensor.to(cuda_)).reshaped(Shape{tensor.numel()});
  }

  Backend& cuda_;
  std::unique_ptr<Graph> range_graph_; // each graph outlives its scheduler
  std::unique_ptr<Graph> histogram_graph_;
  SequentialScheduler range_;
  std::optional<SequentialScheduler> histogram_;
};

/// use_cuda: the threshold of clipping mode mse, aa or kl by the "cuda" backend's PtqClipSearch.
double cuda_threshold(const ClippingMode& mode, const ClipQuery& query) {
  Graph graph;
  const auto bins = static_cast<std::int64_t>(query.counts.size());
  graph.add_input("counts", DataType::Float64, Shape{bins});
  Attributes attrs;
  attrs.set("mode", std::string(mode.name));
  attrs.set("levels", query.levels);
  attrs.set("bin_width", query.bin_width);
  attrs.set("abs_max", query.abs_max);
  graph.add_node("PtqClipSearch", {"counts"}, {"threshold"}, std::move(attrs));
  graph.add_output("threshold");
  SequentialScheduler scheduler(graph, {"cuda"});
  const Tensor counts = Tensor::from(Shape{bins}, DataType::Float64, query.counts);
  return scheduler.forward({counts})[0].to(host_backend()).data<double>()[0];
}

/// After fuse_activations an activation's output is gone: its value is then the output of
/// the node it was fused into, which now computes activation(node).
std::string observed_name(const Graph& fused, const Value& point) {
  if (fused.find_value(point.name()) != nullptr) return point.name();
  const Node* activation = point.producer();
  return activation->input(0)->name();
}

Tensor on_host(const Tensor& tensor) { return tensor.backend().host_accessible() ? tensor : tensor.to(host_backend()); }

std::string format_number(double value) {
  std::ostringstream text;
  text.precision(4);
  text << value;
  return text.str();
}

} // namespace

void compute_ranges(Graph& graph, PassContext& context, const Options& options) {
  check(context.calibration_batches > 0 && context.calibration_batch != nullptr,
        "compute_ranges needs a calibration set (got none)");
  graph.infer_shapes();
  const ClippingMode& mode = *find_clipping(options.clipping_mode);
  const std::size_t bins = mode.needs_histogram ? options.bins : 0;
  const std::unique_ptr<CudaStatistics> cuda = options.use_cuda ? std::make_unique<CudaStatistics>(bins) : nullptr;

  // Calibrate a fused copy: the same values, at inference speed.
  Graph fused = graph.clone();
  fuse_activations(fused);
  SequentialScheduler scheduler(fused, options.backends);
  std::map<std::string, ValueStatistics> statistics;
  for (const Value* point : calibration_points(graph)) statistics.try_emplace(point->name(), bins);
  // Every calibration point observed for one pass: its extremes, or (second pass) its
  // histogram over the now final range.
  const auto observe_points = [&](bool histogram) {
    for (auto& [name, target] : statistics)
      scheduler.observe(observed_name(fused, *graph.find_value(name)),
                        [&target, &cuda, histogram](const Value&, const Tensor& tensor) {
                          if (cuda && histogram)
                            cuda->add_histogram(target, tensor);
                          else if (cuda)
                            cuda->add_extremes(target, tensor);
                          else if (histogram)
                            target.add_histogram(on_host(tensor));
                          else
                            target.add_extremes(on_host(tensor));
                        });
  };
  observe_points(false);
  // What affine nodes read, as the means of their im2col rows: bias correction needs them
  // (and nothing else does: without it they are not gathered).
  std::map<std::string, ColumnMeans> means; // per node: quantize renames the value it reads
  const bool correcting = options.bias_correction && !options.no_quant;
  for (const Node* node : graph.topological_order()) {
    // MatMul and ConvTranspose are not bias-corrected (ColumnMeans knows Conv's and Gemm's columns).
    if (!correcting || role_of(graph, *node) != Role::Affine || node->op_type() == "MatMul" ||
        node->op_type() == "ConvTranspose")
      continue;
    ColumnMeans& target = means.try_emplace(node->name(), *node, node->input(1)->constant()->shape()).first->second;
    scheduler.observe(observed_name(fused, *node->input(0)),
                      [&target](const Value&, const Tensor& tensor) { target.add(on_host(tensor)); });
  }
  const auto run_calibration_set = [&] {
    for (std::size_t batch = 0; batch < context.calibration_batches; ++batch)
      scheduler.forward(context.calibration_batch(batch));
  };
  run_calibration_set();
  if (bins > 0) { // the second pass: histograms over the now final ranges
    scheduler.clear_observers();
    observe_points(true);
    run_calibration_set();
  }
  for (const auto& [name, values] : statistics) store_statistics(graph, name, values);
  for (const auto& [node, values] : means) store_means(graph, node, values.means());
}

void adjust_ranges(Graph& graph, PassContext& context, const Options& options) {
  const ClippingMode& mode = *find_clipping(options.clipping_mode);
  for (const Value* point : calibration_points(graph)) {
    const ValueRange range = stored_range(graph, *point);
    if (!mode.needs_histogram || range.abs_max == 0) continue;
    const auto histogram = stored_histogram(graph, point->name());
    check(histogram.has_value(), [&] {
      return "no histogram for value '" + point->name() + "': run compute_ranges with clipping mode '" +
             options.clipping_mode + "' first";
    });
    if (graph.is_input(*point)) continue; // the seed's input scaling is fixed: never clip inputs
    const ValueFormat format = value_format(graph, *point, options);
    const ClipQuery query{histogram->first, histogram->second, range.abs_max, format.range.hi, options.percentile};
    const bool on_cuda = options.use_cuda && (mode.name == std::string("mse") || mode.name == std::string("aa") ||
                                              mode.name == std::string("kl"));
    const double clip = on_cuda ? cuda_threshold(mode, query) : mode.threshold(query);
    store_clip(graph, point->name(), clip);
    if (context.log)
      context.log("  clip " + point->name() + ": max|x| " + format_number(range.abs_max) + " -> " +
                  format_number(clip) + " (" + format_number(100.0 * clip / range.abs_max) + "%, " + mode.name + ", " +
                  std::to_string(format.bits) + (format.is_unsigned ? "-bit unsigned)" : "-bit signed)"));
  }
}

} // namespace tern::ptq
