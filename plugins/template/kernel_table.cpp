// The plugin's one registration file: its descriptor, its backend and its kernel table.
// Nothing runs when the library is loaded; the host calls register_template() by name.
#include <tern/plugin_export.hpp>

#include "relu.hpp"

namespace {

/// Host memory under the name "template": kernels read tensors directly.
class TemplateBackend final : public tern::Backend {
public:
  std::string name() const override { return "template"; }
  std::shared_ptr<std::byte> allocate(std::size_t bytes) override { return tern::host_backend().allocate(bytes); }
};

void register_template(tern::PluginContext& context) {
  context.add_backend(std::make_shared<TemplateBackend>());
  context.add_kernels("template", {
                                      tern::function_kernel("Relu", {tern::DataType::Float32}, tern::template_plugin::relu_f32),
                                  });
}

} // namespace

TERN_PLUGIN("template", TERN_VERSION_STRING, "copy-me example backend: Relu on float32", tern::PluginKind::Backend,
            nullptr, register_template)
