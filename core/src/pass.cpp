// run_pass(): passes live in the registry; a pass's plugin is loaded on first use.
#include <tern/pass.hpp>
#include <tern/plugin.hpp>
#include <tern/registry.hpp>

namespace tern {

void run_pass(const std::string& name, Graph& graph, PassContext& context) {
  const RegisteredPass* registered = Registry::current().find_pass(name);
  if (registered == nullptr) {
    const std::string key = lowercase(name);
    const std::string plugin = key.substr(0, key.find('.'));
    try {
      PluginHost::instance().load(plugin);
    } catch (const Error& error) {
      throw Error("pass '" + name + "' is not available: " + error.what());
    }
    registered = Registry::current().find_pass(name);
    check(registered != nullptr,
          [&] { return "pass '" + name + "' is not available: plugin '" + plugin + "' does not provide it"; });
  }
  registered->pass(graph, context);
}

std::vector<std::string> registered_passes() { return Registry::current().pass_names(); }

} // namespace tern
