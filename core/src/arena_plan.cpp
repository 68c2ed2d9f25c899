#include <tern/arena_plan.hpp>

#include <tern/checked_math.hpp>
#include <tern/error.hpp>

#include "memory_plan.hpp"

#include <algorithm>
#include <vector>

namespace tern {

ArenaPlan plan_arena(const Graph& graph, std::size_t alignment) {
  check(alignment > 0, "plan_arena: the alignment must be positive");
  const std::vector<Node*> order = graph.topological_order();
  const detail::MemoryPlan plan = detail::plan_memory(graph, order, std::vector<std::string>(order.size(), "arena"));

  std::vector<std::size_t> buffer_bytes(plan.buffer_backend.size(), 0);
  for (const auto& [value, buffer] : plan.buffer_of) {
    check(value->typed() && value->shape().is_static(), [&] {
      return "plan_arena: value '" + value->name() + "' has no static shape (" + value->shape().to_string() +
             "): fix every input dimension first";
    });
    const auto bytes = static_cast<std::size_t>(tensor_byte_count(value->shape(), value->dtype()));
    buffer_bytes[static_cast<std::size_t>(buffer)] = std::max(buffer_bytes[static_cast<std::size_t>(buffer)], bytes);
  }
  std::vector<std::size_t> buffer_offset(buffer_bytes.size(), 0);
  ArenaPlan arena;
  for (std::size_t b = 0; b < buffer_bytes.size(); ++b) {
    buffer_offset[b] = arena.bytes;
    arena.bytes += (buffer_bytes[b] + alignment - 1) / alignment * alignment;
  }
  for (const auto& [value, buffer] : plan.buffer_of)
    arena.offsets[value->name()] = buffer_offset[static_cast<std::size_t>(buffer)];
  return arena;
}

} // namespace tern
