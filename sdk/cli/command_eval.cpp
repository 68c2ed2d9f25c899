#include "cli_common.hpp"

#include <tern/ptq.hpp>

#include <tern/dataset.hpp>
#include <tern/model_format.hpp>

#include <iomanip>

namespace tern::cli {
namespace {

int evaluate(const po::variables_map& args, Output& out) {
  const std::string path = model_argument(args);
  const Graph graph = load_model_argument(args);
  check(graph.inputs().size() == 1 && graph.outputs().size() == 1, [&] {
    return path + ": tern eval needs a model with one input and one output (logits), it has " +
           std::to_string(graph.inputs().size()) + " and " + std::to_string(graph.outputs().size());
  });
  std::optional<std::filesystem::path> labels;
  if (args.count("labels")) labels = args["labels"].as<std::string>();
  Dataset dataset = open_dataset(args["dataset"].as<std::string>(), args["split"].as<std::string>(), labels);
  check(dataset.has_labels(),
        [&] { return "dataset " + dataset.description() + " has no labels: give --labels LABELS.npy"; });
  check_fits(dataset, graph.inputs()[0]->shape());
  const auto limit = args["limit"].as<std::size_t>();
  if (limit > 0) dataset = dataset.first(limit);
  const auto batch = args["batch"].as<std::size_t>();
  check(batch > 0, "--batch must be positive");

  SequentialScheduler scheduler(graph, prepare_backends(args));
  const Accuracy result = measure_accuracy(graph, scheduler, dataset, batch, path);
  // With a preference list, say how the nodes were shared out (`tern info` says why).
  std::map<std::string, std::size_t> nodes_per_backend;
  for (const PlanStep& step : scheduler.plan()) ++nodes_per_backend[step.backend];
  const std::size_t correct = result.correct;
  const double accuracy = result.fraction(), rate = result.images_per_second();
  out.text() << std::fixed << std::setprecision(2) << "Top-1 accuracy " << 100.0 * accuracy << "% (" << correct << "/"
             << dataset.size() << ") on " << dataset.description() << "\n"
             << std::setprecision(0) << rate << " images/s with batch " << batch << " on "
             << args["backend"].as<std::string>() << "\n";
  if (nodes_per_backend.size() > 1) {
    out.text() << "nodes per backend:";
    for (const auto& [name, count] : nodes_per_backend) out.text() << " " << name << " " << count;
    out.text() << "\n";
  }
  out.result() = {{"model", path},
                  {"dataset", dataset.description()},
                  {"samples", dataset.size()},
                  {"accuracy", accuracy},
                  {"images_per_second", rate},
                  {"batch", batch},
                  {"nodes_per_backend", nodes_per_backend}};
  return 0;
}

} // namespace

Command eval_command() {
  return {"eval", "measure top-1 accuracy and images/s of a classifier on a labelled dataset", "model",
          [](po::options_description& options) {
            options.add_options()("model", po::value<std::vector<std::string>>(), "model file (.onnx)")(
                "dataset", po::value<std::string>()->default_value("fashion-mnist"),
                "fashion-mnist, fashion-mnist:DIR (IDX .gz files) or SAMPLES.npy[.gz]")(
                "labels", po::value<std::string>(), "LABELS.npy[.gz] for an NPY dataset")(
                "split", po::value<std::string>()->default_value("test"), "train or test (IDX datasets)")(
                "limit", po::value<std::size_t>()->default_value(0), "evaluate only the first N samples (0: all)")(
                "batch", po::value<std::size_t>()->default_value(64), "batch size");
            add_backend_options(options);
          },
          evaluate};
}

} // namespace tern::cli
