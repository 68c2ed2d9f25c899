#pragma once
// Error text shared by the reader and writer. Every load/save error names the file: inner
// code throws without the path (it does not know it, and messages stay short) and
// with_path() adds it, also turning exceptions from protobuf or ONNX that escaped a more
// specific handler into tern::Error.

#include <tern/error.hpp>

#include <onnx/onnx_pb.h>

#include <exception>
#include <filesystem>
#include <string>

namespace tern::onnx_plugin {

/// Runs fn(); any exception becomes tern::Error("<path>: <message>").
template <class Fn> auto with_path(const std::filesystem::path& path, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& error) {
    throw Error(path.string() + ": " + error.what());
  }
}

/// "node 'conv1' (Conv)", or "the Conv node writing 'y'" for an unnamed node: how errors
/// name an ONNX node (ONNX node names are optional).
inline std::string describe_node(const onnx::NodeProto& node) {
  if (!node.name().empty()) return "node '" + node.name() + "' (" + node.op_type() + ")";
  const std::string output = node.output_size() > 0 ? node.output(0) : std::string();
  return "the " + node.op_type() + " node writing '" + output + "'";
}

} // namespace tern::onnx_plugin
