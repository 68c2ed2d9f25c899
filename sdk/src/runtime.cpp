#include <tern/error.hpp>
#include <tern/model_format.hpp>
#include <tern/model_stats.hpp>
#include <tern/plugin.hpp>
#include <tern/recipes.hpp>
#include <tern/registry.hpp>
#include <tern/runtime.hpp>

#include <algorithm>
#include <ranges>
#include <set>

namespace tern {

void prepare_for_inference(Graph& graph, const std::vector<std::string>& backends) {
  fold_batchnorm(graph);
  fuse_activations(graph);
  fuse_silu(graph);
  fuse_requantize(graph);
  fuse_requantize_add(graph);
  channels_last_ops(graph, backends);
  fuse_residual_adds(graph, backends);
  fuse_activations(graph); // the activations that read a residual sum
  unsigned_activations(graph, backends);
  channel_blocks(graph, backends);
}

void set_input_shape(Graph& graph, const std::string& name, const Shape& shape,
                     const std::vector<std::string>& backends) {
  const auto& inputs = graph.inputs();
  const auto input = std::find_if(inputs.begin(), inputs.end(), [&](const Value* v) { return v->name() == name; });
  check(input != inputs.end(), [&] {
    std::string names;
    for (const Value* v : inputs) names += (names.empty() ? "'" : ", '") + v->name() + "'";
    return "input shape for '" + name + "': the model has no such input (its inputs: " + names + ")";
  });
  const Shape& declared = (*input)->shape();
  const bool fits = declared.rank() == shape.rank() &&
                    std::ranges::all_of(std::views::iota(std::size_t{0}, shape.rank()), [&](std::size_t i) {
                      return shape[i] > 0 && (declared[i] == Shape::dynamic || declared[i] == shape[i]);
                    });
  check(fits, [&] {
    return "input shape " + shape.to_string() + " for '" + name + "' does not fit its declared shape " +
           declared.to_string() + " (same rank, positive dimensions, the static ones unchanged)";
  });
  (*input)->set_type((*input)->dtype(), shape);
  fold_shapes(graph, backends);
  graph.infer_shapes();
}

Graph load_for_inference(const std::filesystem::path& path, const std::vector<std::string>& backends) {
  Graph graph = load_model(path);
  prepare_for_inference(graph, backends);
  return graph;
}

std::vector<BackendInfo> Runtime::available_backends() {
  std::vector<BackendInfo> result;
  std::set<std::string> listed;
  const std::vector<PluginInfo> plugins = PluginHost::instance().discover();
  // Registered backends first: a plugin's own ones show with their plugin's path.
  for (const std::string& name : registered_backends()) {
    if (lowercase(name) == "host") continue;
    BackendInfo info{name, "in-process", true, {}, true};
    for (const PluginInfo& plugin : plugins)
      if (plugin.registered && lowercase(plugin.name) == lowercase(name)) info.source = plugin.path.string();
    listed.insert(lowercase(name));
    result.push_back(std::move(info));
  }
  for (const PluginInfo& plugin : plugins)
    if (plugin.kind == name(PluginKind::Backend) && listed.insert(lowercase(plugin.name)).second)
      result.push_back({plugin.name, plugin.path.string(), plugin.usable, plugin.reason, false});
  return result;
}

Backend& Runtime::load_backend(std::string_view name) { return backend(name); }

Runtime::Runtime(Graph graph, std::vector<std::string> backends)
    : graph_(std::make_unique<Graph>(std::move(graph))), backends_(std::move(backends)) {
  // Typed values let placements() say why a backend was passed over.
  graph_->infer_shapes();
  scheduler_ = std::make_unique<SequentialScheduler>(*graph_, backends_);
}

Runtime::Runtime(const std::filesystem::path& model, std::vector<std::string> backends)
    : Runtime(load_for_inference(model, backends), backends) {} // a copy: argument order is unspecified

Runtime::~Runtime() = default;
Runtime::Runtime(Runtime&&) noexcept = default;
Runtime& Runtime::operator=(Runtime&&) noexcept = default;

std::vector<Tensor> Runtime::run(const std::vector<Tensor>& inputs) { return scheduler_->forward(inputs); }

const Graph& Runtime::graph() const { return *graph_; }

const std::vector<std::string>& Runtime::backends() const { return backends_; }

std::vector<Placement> Runtime::placements() const {
  std::vector<Placement> result;
  for (const PlanStep& step : scheduler_->plan()) {
    Placement placement{step.node->name(), step.node->op_type(), step.backend, step.implementation, {}};
    for (const Declined& declined : step.passed_over)
      placement.skipped.push_back(declined.backend + ": " + declined.reason);
    result.push_back(std::move(placement));
  }
  return result;
}

const std::string& Runtime::backend_of(std::string_view node_name) const {
  const auto& plan = scheduler_->plan();
  const auto it =
      std::find_if(plan.begin(), plan.end(), [&](const PlanStep& step) { return step.node->name() == node_name; });
  check(it != plan.end(),
        [&] { return "Runtime::backend_of: the model has no node named '" + std::string(node_name) + "'"; });
  return it->backend;
}

SequentialScheduler& Runtime::scheduler() { return *scheduler_; }

} // namespace tern
