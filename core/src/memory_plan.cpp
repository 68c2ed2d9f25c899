#include "memory_plan.hpp"

#include <set>

namespace tern::detail {

MemoryPlan plan_memory(const Graph& graph, const std::vector<Node*>& order,
                       const std::vector<std::string>& backend_of_step, const std::vector<bool>& fused_with_next) {
  const auto fused = [&](std::size_t step) { return step < fused_with_next.size() && fused_with_next[step]; };
  std::map<const Value*, std::size_t> last_read;
  for (std::size_t step = 0; step < order.size(); ++step)
    for (const Value* input : order[step]->inputs())
      if (input != nullptr) last_read[input] = fused(step) ? step + 1 : step;

  MemoryPlan plan;
  std::map<std::string, std::vector<int>> free_buffers; // per backend, used as a stack
  const auto release = [&](const Value* value) {
    const auto it = plan.buffer_of.find(value);
    if (it != plan.buffer_of.end()) free_buffers[plan.buffer_backend[it->second]].push_back(it->second);
  };
  for (std::size_t step = 0; step < order.size(); ++step) {
    const std::string& backend = backend_of_step[step];
    for (const Value* output : order[step]->outputs()) {
      if (graph.is_output(*output)) continue;
      auto& pool = free_buffers[backend];
      if (pool.empty()) {
        plan.buffer_of[output] = static_cast<int>(plan.buffer_backend.size());
        plan.buffer_backend.push_back(backend);
      } else {
        plan.buffer_of[output] = pool.back();
        pool.pop_back();
      }
    }
    // Released only after this step's outputs are placed: outputs never alias inputs.
    std::set<const Value*> inputs(order[step]->inputs().begin(), order[step]->inputs().end());
    if (step > 0 && fused(step - 1)) inputs.insert(order[step - 1]->inputs().begin(), order[step - 1]->inputs().end());
    for (const Value* input : inputs)
      if (input != nullptr && last_read[input] == step) release(input);
    for (const Value* output : order[step]->outputs())
      if (!last_read.contains(output)) release(output); // produced but never read
  }
  return plan;
}

} // namespace tern::detail
