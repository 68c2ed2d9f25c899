#pragma once
// One ONNX node -> its Tern form. Tern's schemas follow opset 13 (and later) ONNX; older
// opsets are normalised here, by one table of per-op rules (import_node.cpp).

#include <tern/graph.hpp>

#include "value_facts.hpp"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>

namespace tern::onnx_plugin {

/// True when Tern can represent the ONNX op type (it has a schema for it, or for what it
/// becomes, like Upsample -> Resize; Constant nodes become graph constants).
bool is_supported(const std::string& onnx_op_type);

/// What import_node() works in.
struct NodeImport {
  Graph& graph;
  std::int64_t opset;      ///< the model's default-domain opset
  const ValueFacts& facts; ///< ONNX's inferred types, for rules that need them
};

/// Adds `node`'s Tern form to ctx.graph: a constant for a Constant node, otherwise one or
/// more nodes (and constants for attributes that became inputs). Throws naming the node.
void import_node(const onnx::NodeProto& node, NodeImport& ctx);

} // namespace tern::onnx_plugin
