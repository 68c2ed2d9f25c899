// Runtimes: a model compiled for a backend preference list, run many times.
#include "handles.hpp"

#include <sstream>

using tern::capi::guard;
using tern::capi::require;

TERN_C_EXPORT tern_status tern_runtime_create(const tern_model* model, const char* backends, tern_runtime** runtime) {
  return guard(TERN_BACKEND_FAILED, [&] {
    require(model != nullptr && backends != nullptr && runtime != nullptr,
            "tern_runtime_create: model, backends and runtime must not be NULL");
    std::vector<std::string> names;
    std::stringstream list(backends);
    for (std::string name; std::getline(list, name, ',');) {
      require(!name.empty(),
              [&] { return std::string("tern_runtime_create: empty backend name in '") + backends + "'"; });
      names.push_back(name);
    }
    require(!names.empty(), "tern_runtime_create: no backend named");
    // A clone: the model may be freed, or compiled again for other backends, independently.
    tern::Runtime compiled(model->graph.clone(), std::move(names));
    std::vector<tern::Placement> placements = compiled.placements();
    *runtime = new tern_runtime{std::move(compiled), std::move(placements)};
  });
}

TERN_C_EXPORT void tern_runtime_free(tern_runtime* runtime) { delete runtime; }

TERN_C_EXPORT tern_status tern_runtime_run(tern_runtime* runtime, const tern_tensor* const* inputs, size_t input_count,
                                           tern_tensor** outputs, size_t output_count) {
  return guard(TERN_RUN_FAILED, [&] {
    require(runtime != nullptr, "tern_runtime_run: runtime is NULL");
    const tern::Graph& graph = runtime->runtime.graph();
    require(input_count == graph.inputs().size() && (inputs != nullptr || input_count == 0), [&] {
      return "tern_runtime_run: the model takes " + std::to_string(graph.inputs().size()) + " input(s), got " +
             std::to_string(input_count);
    });
    require(output_count == graph.outputs().size() && (outputs != nullptr || output_count == 0), [&] {
      return "tern_runtime_run: the model gives " + std::to_string(graph.outputs().size()) + " output(s), room for " +
             std::to_string(output_count);
    });
    std::vector<tern::Tensor> given;
    for (size_t i = 0; i < input_count; ++i) {
      require(inputs[i] != nullptr, [&] { return "tern_runtime_run: input " + std::to_string(i) + " is NULL"; });
      given.push_back(inputs[i]->tensor);
    }
    const std::vector<tern::Tensor> results = runtime->runtime.run(given);
    // Everything is made before anything is stored: on failure the caller owns nothing.
    std::vector<std::unique_ptr<tern_tensor>> made;
    for (const tern::Tensor& result : results)
      made.push_back(std::make_unique<tern_tensor>(
          tern_tensor{result.backend().host_accessible() ? result : result.to(tern::host_backend())}));
    for (size_t i = 0; i < output_count; ++i) outputs[i] = made[i].release();
  });
}

TERN_C_EXPORT size_t tern_runtime_node_count(const tern_runtime* runtime) {
  return runtime ? runtime->placements.size() : 0;
}

TERN_C_EXPORT tern_status tern_runtime_node(const tern_runtime* runtime, size_t index, const char** node,
                                            const char** op_type, const char** backend) {
  return guard(TERN_INVALID_ARGUMENT, [&] {
    require(runtime != nullptr && index < runtime->placements.size(),
            [&] { return "tern_runtime_node: no node " + std::to_string(index) + " in this runtime"; });
    const tern::Placement& placement = runtime->placements[index];
    if (node) *node = placement.node.c_str();
    if (op_type) *op_type = placement.op_type.c_str();
    if (backend) *backend = placement.backend.c_str();
  });
}
