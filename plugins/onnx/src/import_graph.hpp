#pragma once
// A checked ModelProto -> a validated, shape-inferred tern::Graph.

#include <tern/graph.hpp>

#include <onnx/onnx_pb.h>

namespace tern::onnx_plugin {

/// Builds the Tern graph of `model` (as read_model() returns it): initializers become
/// constants, the other graph inputs keep their names and dynamic dimensions, nodes are
/// normalised to Tern's operator forms. Refuses, in one message, every op type Tern has no
/// schema for. Errors do not name the file: the caller adds it.
Graph import_graph(const onnx::ModelProto& model);

} // namespace tern::onnx_plugin
