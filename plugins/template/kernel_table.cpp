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
  // One row per op family: the op type, what each input position accepts (a dtype, or
  // KernelInput::one_of({...}), same_as(i), .optional(), .repeated(): see tern/kernel.hpp)
  // and the kernel; function_kernel() takes, last, an optional check that declines the
  // nodes the kernel cannot run with a reason ("" runs it), so the scheduler asks the next
  // backend of the user's list instead.
  context.add_kernels("template",
                      {
                          tern::function_kernel("Relu", {tern::DataType::Float32}, tern::template_plugin::relu_f32),
                      });
}

} // namespace

TERN_PLUGIN("template", TERN_VERSION_STRING, "copy-me example backend: Relu on float32", tern::PluginKind::Backend,
            nullptr, register_template)
