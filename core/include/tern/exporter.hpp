#pragma once
/// \file exporter.hpp
/// Exporters turn a graph into something that runs outside Tern (C source for a
/// microcontroller, ...). They come from plugins named "export-<target>" and are found by
/// target name, the plugin being loaded on first use.

#include <tern/attributes.hpp>
#include <tern/graph.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace tern {

/// Writes a graph out for one deployment target.
class Exporter {
public:
  /// Exporters are owned and destroyed through this base (by the registry).
  virtual ~Exporter() = default;
  /// The target it writes for, e.g. "c"; users select it by this name.
  virtual std::string target() const = 0;
  /// Writes `graph` into the folder `dir` (created when missing); throws tern::Error
  /// naming the node or option it cannot handle. Each exporter documents its options.
  virtual void write(const Graph& graph, const std::filesystem::path& dir, const Attributes& options) const = 0;
};

/// The exporter for `target` (case-insensitive): a registered one, else the one plugin
/// "export-<target>" registers. Throws tern::Error saying where it looked.
const Exporter& exporter_for(std::string_view target);

} // namespace tern
