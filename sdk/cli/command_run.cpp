#include "cli_common.hpp"

#include <tern/ptq.hpp>

#include <tern/model_format.hpp>
#include <tern/npy.hpp>

#include <filesystem>

namespace tern::cli {
namespace {

/// Graph inputs from "--input [NAME=]FILE.npy" arguments: by name when given, else in order.
std::vector<Tensor> read_inputs(const Graph& graph, const std::vector<std::string>& specs) {
  check(specs.size() == graph.inputs().size(), [&] {
    return "the model has " + std::to_string(graph.inputs().size()) + " input(s), " + std::to_string(specs.size()) +
           " --input given";
  });
  std::vector<Tensor> tensors(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const std::size_t equals = specs[i].find('=');
    std::size_t index = i;
    std::string file = specs[i];
    if (equals != std::string::npos) {
      const std::string name = specs[i].substr(0, equals);
      file = specs[i].substr(equals + 1);
      index = graph.inputs().size();
      for (std::size_t k = 0; k < graph.inputs().size(); ++k)
        if (graph.inputs()[k]->name() == name) index = k;
      check(index < graph.inputs().size(),
            [&] { return "--input " + specs[i] + ": the model has no input named '" + name + "'"; });
    }
    check(!tensors[index].defined(),
          [&] { return "--input " + specs[i] + ": input " + std::to_string(index) + " is given twice"; });
    tensors[index] = read_npy(file);
  }
  return tensors;
}

/// "conv1/out:0" → "conv1_out_0.npy": graph value names are not always file names.
std::string file_name_for(const std::string& value_name) {
  std::string file = value_name;
  for (char& c : file)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return file + ".npy";
}

int run_model(const po::variables_map& args, Output& out) {
  const std::string path = model_argument(args);
  const Graph graph = load_model_argument(args);
  std::vector<Tensor> inputs = read_inputs(graph, args.count("input") ? args["input"].as<std::vector<std::string>>()
                                                                      : std::vector<std::string>{});
  // A quantized model takes its inputs scaled (tern::ptq::scale_input): users give real values.
  for (Tensor& input : inputs)
    if (input.dtype() == DataType::Float32) input = ptq::scale_input(graph, input);
  SequentialScheduler scheduler(graph, prepare_backends(args));
  const std::vector<Tensor> results = scheduler.forward(inputs);

  const std::filesystem::path dir = args["output-dir"].as<std::string>();
  std::filesystem::create_directories(dir);
  nlohmann::json outputs = nlohmann::json::object();
  out.text() << "Ran " << path << " on " << args["backend"].as<std::string>() << ":\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const std::string& name = graph.outputs()[i]->name();
    const std::filesystem::path file = dir / file_name_for(name);
    write_npy(results[i], file);
    out.text() << "  " << name << " " << results[i].describe() << " -> " << file.string() << "\n";
    outputs[name] = {{"file", file.string()},
                     {"shape", results[i].shape().dims()},
                     {"dtype", std::string(tern::name(results[i].dtype()))}};
  }
  out.result() = {{"model", path}, {"outputs", outputs}};
  return 0;
}

} // namespace

Command run_command() {
  return {"run", "run a model on NPY inputs and write one NPY per output", "model",
          [](po::options_description& options) {
            options.add_options()("model", po::value<std::vector<std::string>>(),
                                  "model file (.onnx)")("input", po::value<std::vector<std::string>>(),
                                                        "[NAME=]FILE.npy, one per graph input (by name or in order)")(
                "output-dir", po::value<std::string>()->default_value("."), "folder for the output .npy files");
            add_backend_options(options);
            add_input_shape_option(options);
          },
          run_model};
}

} // namespace tern::cli
