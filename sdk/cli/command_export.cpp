#include "cli_common.hpp"

#include <tern/export.hpp>
#include <tern/model_format.hpp>

#include <filesystem>

namespace tern::cli {
namespace {

namespace fs = std::filesystem;

int export_model(const po::variables_map& args, Output& out) {
  const std::string path = model_argument(args);
  const std::string target = args["target"].as<std::string>();
  check(target == "c", [&] { return "--target " + target + ": the only export target is c"; });
  check(args.count("output") == 1, "tern export needs -o DIR (the folder the C files go to)");
  const fs::path dir = args["output"].as<std::string>();
  ExportCOptions options;
  options.name = args["name"].as<std::string>();
  options.source = fs::path(path).filename().string();
  const ExportCSummary summary = export_c(load_model(path), dir, options);

  const std::string n = options.name;
  out.text() << "Exported " << path << " as C99 (" << summary.steps << " integer steps):\n"
             << "  " << summary.header.string() << "   the API: " << n << "_run_int (int8 in, int32 accumulators out), "
             << n << "_run (float in and out)\n"
             << "  " << summary.source.string() << "   the kernels and the network\n"
             << "  " << summary.weights.string() << "   " << summary.weight_bytes << " bytes of const weights (flash)\n"
             << "  input " << summary.input_size << " elements, output " << summary.output_size << " elements, arena "
             << summary.arena_bytes << " bytes (the caller's, aligned to 4: no malloc, no global state)\n"
             << "Next: gcc -std=c99 -O2 -c " << summary.source.string() << " " << summary.weights.string()
             << "; for a Cortex-M build and its flash/RAM/instruction figures see docs/MCU.md and sdk/examples/mcu/.\n";
  out.result() = {{"model", path},
                  {"target", target},
                  {"name", n},
                  {"files", {summary.header.string(), summary.source.string(), summary.weights.string()}},
                  {"manifest", summary.manifest.string()},
                  {"input_size", summary.input_size},
                  {"output_size", summary.output_size},
                  {"arena_bytes", summary.arena_bytes},
                  {"weight_bytes", summary.weight_bytes},
                  {"steps", summary.steps}};
  return 0;
}

} // namespace

Command export_command() {
  return {"export", "write a model saved by tern quantize as C99 source for a microcontroller (integer kernels)",
          "model",
          [](po::options_description& options) {
            options.add_options()("model", po::value<std::vector<std::string>>(), "model file saved by tern quantize")(
                "target", po::value<std::string>()->default_value("c"), "what to write: c")(
                "output,o", po::value<std::string>(), "the folder for NAME.h, NAME.c, NAME_weights.c, NAME.json")(
                "name", po::value<std::string>()->default_value("model"),
                "prefix of the files, functions and macros (a C identifier)");
          },
          export_model};
}

} // namespace tern::cli
