#pragma once
/// \file explore.hpp
/// The model explorer: one self-contained HTML page (no request to any host) that draws a
/// graph with Graphviz and shows, for each node, its attributes, shapes, parameters, MACs,
/// backend placement and quantization facts; with a quantization report (docs/REPORT.md),
/// the per-node SQNR. `tern explore` and `tern quantize --explore` call it.

#include <tern/graph.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tern {

/// One graph of the page, with the label it is shown under (usually its file name).
struct ExploredGraph {
  const Graph* graph = nullptr;
  std::string label;
  /// Size of the model file, shown in the summary; nullopt for a graph only in memory.
  std::optional<std::uintmax_t> model_bytes;
};

struct ExploreOptions {
  /// The page's title; empty: the first graph's label.
  std::string title;
  /// A quantization report (JSON, docs/REPORT.md) whose per-node facts the page shows.
  std::optional<std::filesystem::path> report;
  /// Backend preference list the placement column is computed for; empty: no placement.
  std::vector<std::string> backends = {"cpu"};
};

/// Writes the page for `graphs` (one, or two side by side with same-name nodes linked) to
/// `html`. Needs Graphviz's `dot` program on the PATH (or in TERN_DOT). Throws tern::Error
/// (one line, naming the file and the cause) for a missing `dot`, a malformed report or an
/// unwritable path; the page is written only once complete, so a failure leaves no file.
void explore(const std::vector<ExploredGraph>& graphs, const std::filesystem::path& html,
             const ExploreOptions& options = {});

/// The page of one graph in memory, shown under options.title (or "model").
void explore(const Graph& graph, const std::filesystem::path& html, const ExploreOptions& options = {});

} // namespace tern
