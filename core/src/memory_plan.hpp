#pragma once
// Assigns activation values to reusable buffers by liveness (see memory_plan.cpp).

#include <tern/graph.hpp>

#include <map>
#include <string>
#include <vector>

namespace tern::detail {

struct MemoryPlan {
  /// Buffer index of every node output the plan owns; graph outputs are absent (they are
  /// handed to the caller, so never reused).
  std::map<const Value*, int> buffer_of;
  /// The backend whose memory each buffer is, by index.
  std::vector<std::string> buffer_backend;
};

/// Greedy reuse in execution order: a buffer is free again once the last reader of its
/// value has run, and a node's outputs never share a buffer with its own inputs. Buffers
/// are pooled per backend. `backend_of_step[i]` is the backend running `order[i]`.
/// `fused_with_next[i]` (empty: none) marks a step whose kernel may run together with the
/// next one's (the scheduler's step fusion): its inputs then stay live through that next
/// step, so that the fused kernel's outputs never share a buffer with them either.
MemoryPlan plan_memory(const Graph& graph, const std::vector<Node*>& order,
                       const std::vector<std::string>& backend_of_step, const std::vector<bool>& fused_with_next = {});

} // namespace tern::detail
