#pragma once
/// \file arena_plan.hpp
/// The scheduler's memory plan as byte offsets into one arena: what a deployment target
/// without an allocator (the C exporter) places its activations with.

#include <tern/graph.hpp>

#include <cstddef>
#include <map>
#include <string>

namespace tern {

/// Where every value computed by a node lives in one arena.
struct ArenaPlan {
  /// Offset in bytes of each value a node computes, by value name; graph inputs, outputs
  /// and constants are absent (they belong to the caller).
  std::map<std::string, std::size_t> offsets;
  /// Bytes the arena needs: the plan's buffers, each as large as its largest value.
  std::size_t bytes = 0;
};

/// Lays out `graph`'s node outputs in execution order with the scheduler's plan (values
/// never live at the same time share a buffer; a node's outputs never share one with its
/// inputs), each buffer starting at a multiple of `alignment`. Every value must have a
/// static shape (infer_shapes() with every input dimension known); throws tern::Error
/// naming the first that does not.
ArenaPlan plan_arena(const Graph& graph, std::size_t alignment);

} // namespace tern
