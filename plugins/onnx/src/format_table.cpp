// The plugin's one registration file: its descriptor and the "onnx" model format.
// Nothing runs when the library is loaded; the host calls register_onnx() by name.
#include <tern/model_format.hpp>
#include <tern/plugin_export.hpp>

#include "errors.hpp"
#include "export_graph.hpp"
#include "import_graph.hpp"
#include "model_file.hpp"

namespace {

using namespace tern::onnx_plugin;

class OnnxFormat final : public tern::ModelFormat {
public:
  std::string name() const override { return "onnx"; }
  std::vector<std::string> extensions() const override { return {".onnx"}; }
  tern::Graph load(const std::filesystem::path& path) const override {
    return with_path(path, [&] { return import_graph(read_model(path)); });
  }
  void save(const tern::Graph& graph, const std::filesystem::path& path) const override {
    with_path(path, [&] { write_model(export_graph(graph), path); });
  }
};

void register_onnx(tern::PluginContext& context) { context.add_model_format(std::make_shared<OnnxFormat>()); }

} // namespace

TERN_PLUGIN("onnx", TERN_VERSION_STRING, "ONNX model files (opsets 7-17 in, 13+ out; ONNX 1.12)",
            tern::PluginKind::Format, nullptr, register_onnx)
