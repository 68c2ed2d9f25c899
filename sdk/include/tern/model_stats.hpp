#pragma once
/// \file model_stats.hpp
/// What `tern info` reports about a graph: op counts, parameters, MACs, and which nodes a
/// backend cannot run.

#include <tern/graph.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tern {

/// Size and cost of a model.
struct ModelStats {
  std::map<std::string, std::size_t> ops; ///< op type → node count
  std::int64_t parameters = 0;            ///< elements of every constant
  std::int64_t macs = 0;                  ///< multiply-accumulates for one sample (batch 1)
};

/// Multiply-accumulates of one typed node for one sample (Conv, Gemm, MatMul; 0 for other
/// ops; dynamic dimensions count as 1). Throws tern::Error naming the node on overflow.
std::int64_t node_macs(const Node& node);

/// Counts ops, parameters and MACs (Conv, Gemm, MatMul; dynamic dimensions count as 1).
/// Infers shapes on a copy, so `graph` is not changed. A count that does not fit int64 is a
/// tern::Error naming the node (never a wrapped or saturated number).
ModelStats model_stats(const Graph& graph);

/// A node the backend cannot run, and why.
struct Unsupported {
  std::string node;    ///< the node's name
  std::string op_type; ///< its operator type
  std::string reason;  ///< e.g. "no Add kernel for (float32, float32)"
};

/// Why the backend `backend_name` cannot run `node` ("no Gemm kernel for (float32,
/// float32)", or the reason its kernel declines the node), or "" when it runs it. The
/// node's inputs must be typed (Graph::infer_shapes). Loads no plugin.
std::string missing_kernel(const Node& node, const std::string& backend_name);

/// Every node of `graph` that `backend_name` cannot run, with the reason (the backend's
/// plugin is loaded by name first).
std::vector<Unsupported> unsupported_nodes(const Graph& graph, const std::string& backend_name);

} // namespace tern
