#pragma once
/// \file pass.hpp
/// Graph passes registered by name. A pass plugin (e.g. "ptq") adds its passes through
/// PluginContext::add_pass; applications run them with run_pass("ptq.quantize_network", ...),
/// which loads the plugin named before the first '.' on first use.

#include <tern/attributes.hpp>
#include <tern/graph.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tern {

/// What a pass receives besides the graph.
struct PassContext {
  /// Typed options; each pass documents the keys it reads and rejects unknown ones.
  Attributes options;
  /// Calibration data for passes that run the graph: `calibration_batch(i)` for i below
  /// `calibration_batches` returns one batch per graph input. Batches are asked for one at a
  /// time, so a pass's memory does not grow with the number of samples.
  std::size_t calibration_batches = 0;
  std::function<std::vector<Tensor>(std::size_t index)> calibration_batch;
  /// Receives verbose report lines; passes only write when it is set.
  std::function<void(const std::string& line)> log;
  /// Seconds spent per step, appended by passes in the order the steps ran.
  std::vector<std::pair<std::string, double>> seconds;
};

/// A graph pass: rewrites `graph` in place, or throws tern::Error with the reason.
using PassFn = std::function<void(Graph& graph, PassContext& context)>;

/// Runs pass `name`, loading the plugin named by its prefix ("ptq" for "ptq.prepare") first
/// when no such pass is registered; throws tern::Error naming the pass when it cannot be had.
void run_pass(const std::string& name, Graph& graph, PassContext& context);
/// Names of the registered passes, sorted.
std::vector<std::string> registered_passes();

} // namespace tern
