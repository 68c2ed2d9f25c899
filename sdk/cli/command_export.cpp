#include "cli_common.hpp"

#include <tern/dataset.hpp>
#include <tern/export.hpp>
#include <tern/model_format.hpp>
#include <tern/npy.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sys/wait.h>

namespace tern::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t footprint_images = 20;

std::string shell_quoted(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string last_line(const std::string& text) {
  const std::size_t end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  const std::size_t begin = text.rfind('\n', end) + 1; // npos + 1 = 0: the text is one line
  return text.substr(begin, end + 1 - begin);
}

/// --footprint CPU: the export built for a Cortex-M and run under QEMU on the first images of
/// `images` by share/tern/mcu/run_mcu.sh (docs/MCU.md), which checks the outputs against a
/// host build and prints flash, RAM and instructions as its last line, a JSON object.
nlohmann::json measure_footprint(const fs::path& dir, const std::string& name, const std::string& cpu,
                                 const std::string& images, std::size_t input_size) {
  const fs::path script = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "share/tern/mcu/run_mcu.sh";
  check(fs::exists(script),
        [&] { return "--footprint: " + script.string() + " is missing (a build or install of Tern has it)"; });
  const Dataset dataset = open_dataset(images, "test").first(footprint_images);
  const Tensor samples = dataset.batch(0, dataset.size());
  check(static_cast<std::size_t>(samples.numel()) == dataset.size() * input_size, [&] {
    return "--images " + images + ": its samples do not fit the model's input of " + std::to_string(input_size) +
           " elements";
  });
  const fs::path work = dir / ".footprint";
  fs::create_directories(work);
  write_npy(samples, work / "images.npy");
  const std::string command = "bash " + shell_quoted(script.string()) + " " + shell_quoted(dir.string()) + " " + name +
                              " " + shell_quoted((work / "images.npy").string()) + " " + shell_quoted(work.string()) +
                              " " + shell_quoted(cpu) + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  check(pipe != nullptr, "--footprint: cannot start run_mcu.sh");
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe.get()) != nullptr) output += buffer.data();
  const int status = pclose(pipe.release());
  const std::string last = last_line(output);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  check(code != 77, [&] { return "--footprint: " + last + " (scripts/setup-deps.sh installs the Cortex-M tools)"; });
  check(code == 0, [&] { return "--footprint " + cpu + ": " + last; });
  const nlohmann::json figures = nlohmann::json::parse(last, nullptr, false);
  check(figures.is_object(), [&] { return "--footprint: run_mcu.sh printed no figures: " + last; });
  fs::remove_all(work);
  return figures;
}

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
             << summary.arena_bytes << " bytes (the caller's, aligned to 4: no malloc, no global state)\n";
  if (args.count("footprint")) {
    const nlohmann::json figures = measure_footprint(dir, n, args["footprint"].as<std::string>(),
                                                     args["images"].as<std::string>(), summary.input_size);
    out.text() << "On a " << figures.value("cpu", "") << " (QEMU " << figures.value("machine", "")
               << "), outputs equal to the host build's on " << figures.value("images", 0) << " images:\n"
               << "  flash " << figures.value("flash_total", 0) << " bytes (code " << figures.value("flash_code", 0)
               << ", weights " << figures.value("flash_weights", 0) << "), RAM " << figures.value("ram_bytes", 0)
               << " bytes (arena " << figures.value("arena_bytes", 0) << " + stack " << figures.value("stack_bytes", 0)
               << "), " << figures.value("instructions", 0) << " instructions per inference\n";
    out.result()["footprint"] = figures;
  } else {
    out.text() << "Next: --footprint cortex-m4 builds it for a Cortex-M4, checks it under QEMU against a host build "
                  "and reports flash, RAM and instructions; sdk/examples/mcu is a project to copy (docs/MCU.md).\n";
  }
  out.result().update({{"model", path},
                       {"target", target},
                       {"name", n},
                       {"files", {summary.header.string(), summary.source.string(), summary.weights.string()}},
                       {"manifest", summary.manifest.string()},
                       {"input_size", summary.input_size},
                       {"output_size", summary.output_size},
                       {"arena_bytes", summary.arena_bytes},
                       {"weight_bytes", summary.weight_bytes},
                       {"steps", summary.steps}});
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
                "prefix of the files, functions and macros (a C identifier)")(
                "footprint", po::value<std::string>(),
                "cortex-m4 or cortex-m55: build for it, run under QEMU, report flash, RAM and instructions")(
                "images", po::value<std::string>()->default_value("fashion-mnist"),
                "dataset whose first 20 test images --footprint runs (checked against a host build)");
          },
          export_model};
}

} // namespace tern::cli
