#include <tern/pass.hpp>
#include <tern/plugin.hpp>
#include <tern/registry.hpp>

#include <map>
#include <mutex>

namespace tern {
namespace {

struct RegisteredPass {
  PassFn pass;
  std::shared_ptr<void> owner; // keeps the plugin's code loaded while the pass is registered
};

std::mutex& pass_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::map<std::string, RegisteredPass>& passes() {
  static auto* table = new std::map<std::string, RegisteredPass>(); // never freed: plugins outlive statics
  return *table;
}

const RegisteredPass* find_pass(const std::string& key) {
  std::lock_guard lock(pass_mutex());
  const auto found = passes().find(key);
  return found == passes().end() ? nullptr : &found->second;
}

} // namespace

void register_pass(const std::string& name, PassFn pass, std::shared_ptr<void> owner) {
  check(!name.empty() && pass != nullptr, "register_pass: a pass needs a name and a function");
  std::lock_guard lock(pass_mutex());
  passes()[lowercase(name)] = RegisteredPass{std::move(pass), std::move(owner)};
}

void run_pass(const std::string& name, Graph& graph, PassContext& context) {
  const std::string key = lowercase(name);
  const RegisteredPass* registered = find_pass(key);
  if (registered == nullptr) {
    const std::string plugin = key.substr(0, key.find('.'));
    try {
      PluginHost::instance().load(plugin);
    } catch (const Error& error) {
      throw Error("pass '" + name + "' is not available: " + error.what());
    }
    registered = find_pass(key);
    check(registered != nullptr, "pass '" + name + "' is not available: plugin '" + plugin + "' does not provide it");
  }
  registered->pass(graph, context);
}

std::vector<std::string> registered_passes() {
  std::lock_guard lock(pass_mutex());
  std::vector<std::string> names;
  for (const auto& [name, registered] : passes()) names.push_back(name);
  return names;
}

void PluginContext::add_pass(const std::string& name, PassFn pass) { register_pass(name, std::move(pass), library_); }

} // namespace tern
