#pragma once
/// \file model_format.hpp
/// Model file formats (ONNX, ...) come from plugins of kind Format. load_model() picks
/// the format by file extension and loads the plugin of that name when needed.

#include <tern/graph.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tern {

/// Reads and writes graphs in one file format.
class ModelFormat {
public:
  /// Formats are owned and destroyed through this base (by the registry).
  virtual ~ModelFormat() = default;
  /// The format's name, also the name of the plugin that provides it ("onnx").
  virtual std::string name() const = 0;
  /// File extensions it handles, lower case with the dot (".onnx").
  virtual std::vector<std::string> extensions() const = 0;
  /// Reads `path` into a validated graph; throws tern::Error naming the file and the cause.
  /// Never modifies the file.
  virtual Graph load(const std::filesystem::path& path) const = 0;
  /// Writes `graph` to `path`; throws tern::Error naming the file and the cause.
  virtual void save(const Graph& graph, const std::filesystem::path& path) const = 0;
};

/// The format for `path`'s extension: a registered one, else the plugin named after the
/// extension ("m.onnx" loads plugin "onnx"). Throws when there is none.
const ModelFormat& model_format_for(const std::filesystem::path& path);
/// Loads a model file with the format its extension names.
Graph load_model(const std::filesystem::path& path);
/// Saves a graph with the format its extension names.
void save_model(const Graph& graph, const std::filesystem::path& path);

} // namespace tern
