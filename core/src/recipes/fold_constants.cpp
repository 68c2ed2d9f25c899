#include <tern/recipes.hpp>
#include <tern/registry.hpp>
#include <tern/scheduler.hpp>

#include <algorithm>

namespace tern {
namespace {

bool all_inputs_constant(const Node& node) {
  return std::all_of(node.inputs().begin(), node.inputs().end(),
                     [](const Value* input) { return input == nullptr || input->constant() != nullptr; });
}

bool has_kernel(const Node& node, const std::vector<std::string>& backends) {
  const KernelQuery query = query_of(node);
  return std::any_of(backends.begin(), backends.end(), [&](const std::string& name) {
    return Registry::current().choose_kernel(backend(name).name(), query).kernel != nullptr;
  });
}

/// Runs `node` alone on its constant inputs and returns its outputs.
std::vector<Tensor> evaluate(const Node& node, const std::vector<std::string>& backends) {
  Graph single;
  std::vector<std::string> inputs, outputs;
  for (const Value* input : node.inputs()) {
    inputs.push_back(input ? input->name() : std::string());
    if (input != nullptr && single.find_value(input->name()) == nullptr)
      single.add_constant(input->name(), *input->constant());
  }
  for (const Value* output : node.outputs()) outputs.push_back(output->name());
  single.add_node(node.op_type(), inputs, outputs, node.attrs(), node.name());
  for (const std::string& output : outputs) single.add_output(output);
  SequentialScheduler scheduler(single, backends);
  std::vector<Tensor> results;
  for (const Tensor& tensor : scheduler.forward({})) results.push_back(tensor.to(host_backend()));
  return results;
}

} // namespace

std::size_t fold_constants(Graph& graph, const std::vector<std::string>& backends) {
  std::size_t folded = 0;
  for (Node* node : graph.topological_order()) {
    if (!all_inputs_constant(*node) || !has_kernel(*node, backends)) continue;
    const std::vector<Value*> outputs = node->outputs();
    const std::vector<Tensor> values = evaluate(*node, backends);
    // set_constant removes the node once none of its outputs is computed any more.
    for (std::size_t i = 0; i < outputs.size(); ++i) graph.set_constant(*outputs[i], values[i]);
    ++folded;
  }
  graph.remove_unused_values();
  return folded;
}

} // namespace tern
