#pragma once
// Helpers shared by the commands that load and run models.

#include "command.hpp"

#include <tern/dataset.hpp>
#include <tern/graph.hpp>
#include <tern/runtime.hpp> // load_for_inference: the commands load models as hosts do
#include <tern/scheduler.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace tern::cli {

/// Adds --backend (a preference list), --threads and --integer.
void add_backend_options(po::options_description& options);
/// "cpu,template" → {"cpu", "template"}; throws on an empty name.
std::vector<std::string> backend_list(const po::variables_map& args);
/// Loads the backends named by --backend and applies --threads to each.
std::vector<std::string> prepare_backends(const po::variables_map& args);
/// Adds --input-shape NAME=1x3x224x224 (repeatable; NAME= may go for a one-input model).
void add_input_shape_option(po::options_description& options);
/// Applies each --input-shape to `graph` (tern::set_input_shape with the --backend list,
/// when the command has one): the dynamic dimensions fixed, the shape arithmetic folded.
void apply_input_shapes(Graph& graph, const po::variables_map& args);
/// The model path from the positional argument; throws when absent or not one.
std::string model_argument(const po::variables_map& args);
/// The model of the positional argument, ready to run: loaded, --input-shape applied, then
/// prepare_for_inference, with --integer a quantized model cast to integer types first.
Graph load_model_argument(const po::variables_map& args);
/// Top-1 accuracy of a classifier run over a labelled dataset.
struct Accuracy {
  std::size_t correct = 0;
  std::size_t samples = 0;
  double seconds = 0;
  double fraction() const { return static_cast<double>(correct) / static_cast<double>(samples); }
  double images_per_second() const { return static_cast<double>(samples) / seconds; }
};
/// Runs `scheduler` over `dataset` in batches (a progress bar on a terminal) and counts the
/// samples whose largest logit is the label. `model` names the model in errors; the inputs
/// of a quantized `graph` are scaled as it expects (tern::ptq::scale_input).
Accuracy measure_accuracy(const Graph& graph, SequentialScheduler& scheduler, const Dataset& dataset, std::size_t batch,
                          const std::string& model);

/// "input float32[?,1,28,28]".
std::string describe(const Value& value);
/// Shape and dtype of a value as JSON.
nlohmann::json to_json(const Value& value);

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
class Progress {
public:
  Progress(std::string label, std::size_t total);
  void update(std::size_t done);
  void finish();

private:
  std::string label_;
  std::size_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

} // namespace tern::cli
