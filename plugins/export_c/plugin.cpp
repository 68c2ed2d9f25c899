// The plugin's one registration file: its descriptor and the "c" exporter (C99 source for
// microcontrollers; docs/MCU.md). Nothing runs when the library is loaded.
#include <tern/error.hpp>
#include <tern/exporter.hpp>
#include <tern/plugin_export.hpp>

#include "emit.hpp"
#include "program.hpp"

namespace {

using namespace tern::export_c;

/// A C identifier (it prefixes functions, macros and file names).
bool c_identifier(const std::string& text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0]))) return false;
  for (const char c : text)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

/// Options: "name" (default "model"), "source" (for the files' first comment), and Tern's
/// input scaling "input_scale", "input_limit", "input_round" (absent: the input is taken
/// as already scaled).
class CExporter final : public tern::Exporter {
public:
  std::string target() const override { return "c"; }
  void write(const tern::Graph& graph, const std::filesystem::path& dir,
             const tern::Attributes& options) const override {
    EmitOptions emit_options;
    emit_options.name = options.get_or<std::string>("name", "model");
    tern::check(c_identifier(emit_options.name), [&] {
      return "--name " + emit_options.name + ": the name must be a C identifier (letters, digits, _)";
    });
    emit_options.source = options.get_or<std::string>("source", "a Tern graph");
    emit_options.input.scale = static_cast<float>(options.get_or<double>("input_scale", 1.0));
    emit_options.input.limit = static_cast<float>(options.get_or<double>("input_limit", 3.0e38));
    emit_options.input.round = options.get_or<std::int64_t>("input_round", 0) != 0;
    emit(make_program(graph), emit_options, dir);
  }
};

void register_export_c(tern::PluginContext& context) { context.add_exporter(std::make_shared<CExporter>()); }

} // namespace

TERN_PLUGIN("export-c", TERN_VERSION_STRING,
            "C99 source of an integer network for microcontrollers (tern export --target c)",
            tern::PluginKind::Exporter, nullptr, register_export_c)
