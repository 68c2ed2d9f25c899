// Process-wide registries of backends and kernels. Defined here, out of line, so the host
// and every plugin share one copy (a header-only singleton would be duplicated per library).
#include <tern/plugin.hpp>
#include <tern/registry.hpp>

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <mutex>

namespace tern {
namespace {

struct RegisteredBackend {
  std::shared_ptr<Backend> backend;
  std::shared_ptr<void> owner;
};

struct Registries {
  std::recursive_mutex mutex;
  std::map<std::string, RegisteredBackend> backends;             // by lower-case name
  std::map<std::string, std::deque<RegisteredKernel>> kernels; // by lower-case backend name (deque: stable addresses)
};

Registries& registries() {
  // Never destroyed: plugin-made objects must not be torn down after their library at exit.
  static Registries* instance = [] {
    auto* r = new Registries;
    r->backends["host"] = {std::shared_ptr<Backend>(&host_backend(), [](Backend*) {}), nullptr};
    return r;
  }();
  return *instance;
}

} // namespace

std::string lowercase(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(), [](unsigned char c) { return std::tolower(c); });
  return result;
}

void register_backend(std::shared_ptr<Backend> backend, std::shared_ptr<void> owner) {
  check(backend != nullptr, "register_backend: null backend");
  Registries& r = registries();
  std::lock_guard lock(r.mutex);
  const std::string key = lowercase(backend->name());
  check(!r.backends.contains(key), "a backend named '" + backend->name() + "' is already registered");
  r.backends[key] = {std::move(backend), std::move(owner)};
}

void register_kernel(const std::string& backend_name, KernelDef def, std::shared_ptr<void> owner) {
  check(static_cast<bool>(def.make), "kernel " + def.op_type + " of backend '" + backend_name + "' has no factory");
  Registries& r = registries();
  std::lock_guard lock(r.mutex);
  auto& table = r.kernels[lowercase(backend_name)];
  for (const RegisteredKernel& existing : table)
    check(existing.def.op_type != def.op_type || existing.def.input_types != def.input_types,
          "backend '" + backend_name + "' registers kernel " + def.op_type + " twice for the same input types");
  table.push_back({std::move(def), std::move(owner)});
}

Backend* find_backend(std::string_view name) {
  Registries& r = registries();
  std::lock_guard lock(r.mutex);
  const auto it = r.backends.find(lowercase(name));
  return it == r.backends.end() ? nullptr : it->second.backend.get();
}

Backend& backend(std::string_view name) {
  if (Backend* found = find_backend(name)) return *found;
  const PluginInfo& plugin = PluginHost::instance().load(name);
  Backend* loaded = find_backend(name);
  check(loaded != nullptr, "plugin '" + plugin.name + "' (" + plugin.path.string() +
                               ") loaded but registered no backend named '" + std::string(name) + "'");
  return *loaded;
}

std::vector<std::string> registered_backends() {
  Registries& r = registries();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [key, entry] : r.backends) names.push_back(entry.backend->name());
  return names;
}

const RegisteredKernel* find_kernel(std::string_view backend_name, const std::string& op_type,
                                    const std::vector<DataType>& input_types) {
  Registries& r = registries();
  std::lock_guard lock(r.mutex);
  const auto it = r.kernels.find(lowercase(backend_name));
  if (it == r.kernels.end()) return nullptr;
  for (const RegisteredKernel& kernel : it->second)
    if (kernel.def.op_type == op_type && kernel.def.input_types == input_types) return &kernel;
  return nullptr;
}

std::vector<const RegisteredKernel*> kernels_of(std::string_view backend_name) {
  Registries& r = registries();
  std::lock_guard lock(r.mutex);
  std::vector<const RegisteredKernel*> result;
  const auto it = r.kernels.find(lowercase(backend_name));
  if (it != r.kernels.end())
    for (const RegisteredKernel& kernel : it->second) result.push_back(&kernel);
  return result;
}

KernelDef function_kernel(std::string op_type, std::vector<DataType> input_types, FunctionKernel::Fn fn) {
  return {std::move(op_type), std::move(input_types),
          [fn = std::move(fn)](const Node& node) { return std::make_unique<FunctionKernel>(node, fn); }};
}

void PluginContext::add_backend(std::shared_ptr<Backend> backend) { register_backend(std::move(backend), library_); }

void PluginContext::add_kernels(const std::string& backend_name, std::vector<KernelDef> table) {
  for (KernelDef& def : table) register_kernel(backend_name, std::move(def), library_);
}

} // namespace tern
