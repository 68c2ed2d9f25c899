// load_model()/save_model(): the format is picked by file extension from the registry.
#include <tern/model_format.hpp>
#include <tern/plugin.hpp>
#include <tern/registry.hpp>

namespace tern {

const ModelFormat& model_format_for(const std::filesystem::path& path) {
  const std::string extension = lowercase(path.extension().string());
  check(!extension.empty(),
        [&] { return "model file " + path.string() + " has no extension: cannot tell its format (e.g. .onnx)"; });
  if (const ModelFormat* format = Registry::current().find_format(extension)) return *format;
  PluginHost::instance().load(extension.substr(1)); // ".onnx" is provided by plugin "onnx"
  const ModelFormat* format = Registry::current().find_format(extension);
  check(format != nullptr,
        [&] { return "plugin '" + extension.substr(1) + "' registered no format for " + extension + " files"; });
  return *format;
}

Graph load_model(const std::filesystem::path& path) { return model_format_for(path).load(path); }

void save_model(const Graph& graph, const std::filesystem::path& path) { model_format_for(path).save(graph, path); }

} // namespace tern
