// The model format registry and load_model()/save_model().
#include <tern/model_format.hpp>
#include <tern/plugin.hpp>
#include <tern/registry.hpp>

#include <mutex>

namespace tern {
namespace {

struct RegisteredFormat {
  std::shared_ptr<ModelFormat> format;
  std::shared_ptr<void> owner;
};

struct Formats {
  std::mutex mutex;
  std::vector<RegisteredFormat> list;
};

Formats& formats() {
  static Formats* instance = new Formats; // never destroyed: formats come from plugins
  return *instance;
}

const ModelFormat* find_format(const std::string& extension) {
  Formats& f = formats();
  std::lock_guard lock(f.mutex);
  for (const RegisteredFormat& entry : f.list)
    for (const std::string& known : entry.format->extensions())
      if (known == extension) return entry.format.get();
  return nullptr;
}

} // namespace

void register_model_format(std::shared_ptr<ModelFormat> format, std::shared_ptr<void> owner) {
  check(format != nullptr, "register_model_format: null format");
  Formats& f = formats();
  std::lock_guard lock(f.mutex);
  f.list.push_back({std::move(format), std::move(owner)});
}

const ModelFormat& model_format_for(const std::filesystem::path& path) {
  const std::string extension = lowercase(path.extension().string());
  check(!extension.empty(), "model file " + path.string() + " has no extension: cannot tell its format (e.g. .onnx)");
  if (const ModelFormat* format = find_format(extension)) return *format;
  PluginHost::instance().load(extension.substr(1)); // ".onnx" is provided by plugin "onnx"
  const ModelFormat* format = find_format(extension);
  check(format != nullptr, "plugin '" + extension.substr(1) + "' registered no format for " + extension + " files");
  return *format;
}

Graph load_model(const std::filesystem::path& path) { return model_format_for(path).load(path); }

void save_model(const Graph& graph, const std::filesystem::path& path) { model_format_for(path).save(graph, path); }

void PluginContext::add_model_format(std::shared_ptr<ModelFormat> format) {
  register_model_format(std::move(format), library_);
}

} // namespace tern
