#pragma once
/// \file export.hpp
/// Deployment outside Tern: a quantized network as C99 source for microcontrollers
/// (docs/MCU.md). The work is the "export-c" plugin's, loaded on first use.

#include <tern/graph.hpp>

#include <cstddef>
#include <filesystem>
#include <string>

namespace tern {

struct ExportCOptions {
  /// Prefix of the files (NAME.h, NAME.c, NAME_weights.c, NAME.json), functions and macros.
  std::string name = "model";
  /// Where the model came from, for the files' first comment.
  std::string source = "a Tern graph";
};

/// What an export wrote (from NAME.json).
struct ExportCSummary {
  std::filesystem::path header, source, weights, manifest;
  std::size_t input_size = 0, output_size = 0, arena_bytes = 0, weight_bytes = 0, steps = 0;
};

/// Writes `graph` — quantized by tern::ptq for integer execution, in the fake-quantized form
/// tern quantize saves or already cast to integer — as C into `dir`. Throws tern::Error for a
/// graph that is not quantized, one saved with --fake/--no-quant, or nodes the C kernels
/// cannot run (all listed in one line).
ExportCSummary export_c(const Graph& graph, const std::filesystem::path& dir, const ExportCOptions& options = {});

} // namespace tern
