#include "calibration.hpp"

#include "clipping/clipping.hpp"
#include "op_roles.hpp"
#include "ranges.hpp"
#include "value_format.hpp"

#include <tern/recipes.hpp>
#include <tern/registry.hpp>
#include <tern/scheduler.hpp>

#include <map>
#include <sstream>

namespace tern::ptq {
namespace {

/// use_cuda asks for the "cuda" backend's statistics kernels; without them, say why.
void check_cuda(const Options& options) {
  if (!options.use_cuda) return;
  try {
    backend("cuda");
  } catch (const Error& error) {
    throw Error(std::string("use_cuda: ") + error.what());
  }
  throw Error("use_cuda: the loaded 'cuda' backend provides no PTQ statistics kernels (range, histogram)");
}

/// After fuse_activations an activation's output is gone: its value is then the output of
/// the node it was fused into, which now computes activation(node).
std::string observed_name(const Graph& fused, const Value& point) {
  if (fused.find_value(point.name()) != nullptr) return point.name();
  const Node* activation = point.producer();
  return activation->input(0)->name();
}

std::string format_number(double value) {
  std::ostringstream text;
  text.precision(4);
  text << value;
  return text.str();
}

} // namespace

void compute_ranges(Graph& graph, PassContext& context, const Options& options) {
  check_cuda(options);
  check(context.calibration_batches > 0 && context.calibration_batch != nullptr,
        "compute_ranges needs a calibration set (got none)");
  graph.infer_shapes();
  const ClippingMode& mode = *find_clipping(options.clipping_mode);
  const std::size_t bins = mode.needs_histogram ? options.bins : 0;

  // Calibrate a fused copy: the same values, at inference speed.
  Graph fused = graph.clone();
  fuse_activations(fused);
  SequentialScheduler scheduler(fused, options.backends);
  std::map<std::string, ValueStatistics> statistics;
  for (const Value* point : calibration_points(graph)) {
    auto [entry, fresh] = statistics.try_emplace(point->name(), bins);
    if (!fresh) continue;
    ValueStatistics& target = entry->second;
    scheduler.observe(observed_name(fused, *point), [&target](const Value&, const Tensor& tensor) {
      target.add(tensor.backend().host_accessible() ? tensor : tensor.to(host_backend()));
    });
  }
  // Per-channel means of what affine nodes read: bias correction needs them.
  std::map<std::string, ChannelMeans> means;
  for (const Node* node : graph.topological_order()) {
    if (role_of(graph, *node) != Role::Affine || node->op_type() == "MatMul") continue;
    const Value& input = *node->input(0);
    auto [entry, fresh] = means.try_emplace(input.name());
    if (!fresh) continue;
    const bool conv = node->op_type() == "Conv";
    scheduler.observe(observed_name(fused, input), [&target = entry->second, conv](const Value&, const Tensor& tensor) {
      const Tensor host = tensor.backend().host_accessible() ? tensor : tensor.to(host_backend());
      const Shape& shape = host.shape();
      std::int64_t inner = 1;
      for (std::size_t d = 2; conv && d < shape.rank(); ++d) inner *= shape[d];
      target.add(host, inner, conv ? shape[1] : host.numel() / shape[0]);
    });
  }
  for (std::size_t batch = 0; batch < context.calibration_batches; ++batch) scheduler.forward(context.calibration_batch(batch));
  for (const auto& [name, values] : statistics) store_statistics(graph, name, values);
  for (const auto& [name, values] : means) store_means(graph, name, values.means());
}

void adjust_ranges(Graph& graph, PassContext& context, const Options& options) {
  const ClippingMode& mode = *find_clipping(options.clipping_mode);
  for (const Value* point : calibration_points(graph)) {
    const ValueRange range = stored_range(graph, *point);
    if (!mode.needs_histogram || range.abs_max == 0) continue;
    const auto histogram = stored_histogram(graph, point->name());
    check(histogram.has_value(), "no histogram for value '" + point->name() + "': run compute_ranges with clipping mode '" +
                                     options.clipping_mode + "' first");
    if (graph.is_input(*point)) continue; // the seed's input scaling is fixed: never clip inputs
    const ValueFormat format = value_format(graph, *point, options);
    const ClipQuery query{histogram->first, histogram->second, range.abs_max, format.range.hi, options.percentile};
    const double clip = mode.threshold(query);
    store_clip(graph, point->name(), clip);
    if (context.log)
      context.log("  clip " + point->name() + ": max|x| " + format_number(range.abs_max) + " -> " + format_number(clip) +
                  " (" + format_number(100.0 * clip / range.abs_max) + "%, " + mode.name + ", " +
                  std::to_string(format.bits) + (format.is_unsigned ? "-bit unsigned)" : "-bit signed)"));
  }
}

} // namespace tern::ptq
