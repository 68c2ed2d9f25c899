#pragma once
// A tern::Graph -> an ONNX ModelProto (opset 13, or the newer one an op needs) that
// passes the ONNX checker.

#include <tern/graph.hpp>

#include <onnx/onnx_pb.h>

namespace tern::onnx_plugin {

/// Writes `graph` as ONNX: constants become initializers, dynamic dimensions dim_params
/// ("N" for the batch), Cast's dtype name ONNX's enum, and Tern's own extensions their
/// plain ONNX spelling (a Flatten before a Gemm whose A has rank > 2; a fused Conv/Gemm
/// activation a node of its own). Throws when ONNX 1.12 cannot express the graph
/// (int4 data, ops newer than opset 17) or the result fails the checker.
onnx::ModelProto export_graph(const Graph& graph);

} // namespace tern::onnx_plugin
