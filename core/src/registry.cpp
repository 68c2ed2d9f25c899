// The one registry of the process (and the scoped ones tests make). Defined here, out of
// line, so the host and every plugin share one copy (a header-only singleton would be
// duplicated per library).
#include <tern/exporter.hpp>
#include <tern/model_format.hpp>
#include <tern/plugin.hpp>
#include <tern/registry.hpp>

#include "ops/builtin_schemas.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <set>

namespace tern {
namespace {

template <class T> struct Owned {
  Owner owner; // declared first: destroyed after the object its plugin made
  std::shared_ptr<T> object;
};

struct OwnedSchema {
  Owner owner;
  OpSchema schema;
};

const Owner& core_owner() {
  static const Owner* owner = new Owner{"the core", nullptr};
  return *owner;
}

Registry& process_registry() {
  // Never destroyed: plugin-made objects must not be torn down after their library at exit.
  static Registry* registry = new Registry;
  return *registry;
}

std::atomic<Registry*>& current_registry() {
  static std::atomic<Registry*> current{nullptr};
  return current;
}

[[noreturn]] void refuse(const std::string& what, const Owner& adding, const Owner& existing) {
  throw Error(adding.name + " registers " + what + ", which " + existing.name + " already registered");
}

} // namespace

std::string lowercase(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(), [](unsigned char c) { return std::tolower(c); });
  return result;
}

struct Registry::Entries {
  std::map<std::string, Owned<Backend>> backends;              // by lower-case name
  std::map<std::string, std::deque<RegisteredKernel>> kernels; // by lower-case backend name (deque: stable addresses)
  std::map<std::string, OwnedSchema> schemas;                  // by op type
  std::map<std::string, RegisteredPass> passes;                // by lower-case name
  std::vector<Owned<ModelFormat>> formats;
  std::map<std::string, Owned<Exporter>> exporters; // by lower-case target
  std::set<std::string> plugins;                    // lower-case names of plugins registered here
};

void Registrations::add_backend(std::shared_ptr<Backend> backend) {
  check(backend != nullptr, [&] { return owner_.name + " registers a null backend"; });
  backends_.push_back(std::move(backend));
}

void Registrations::add_kernels(const std::string& backend_name, std::vector<KernelDef> table) {
  for (KernelDef& def : table) {
    check(static_cast<bool>(def.make), [&] {
      return owner_.name + ": kernel " + def.op_type + " of backend '" + backend_name + "' has no factory";
    });
    for (std::size_t i = 0; i + 1 < def.inputs.size(); ++i)
      check(!def.inputs[i].is_repeated(), [&] {
        return owner_.name + ": kernel " + def.op_type + " of backend '" + backend_name +
               "' repeats an input rule that is not the last";
      });
    kernels_.emplace_back(backend_name, std::move(def));
  }
}

void Registrations::add_schema(OpSchema schema) {
  check(static_cast<bool>(schema.infer),
        [&] { return owner_.name + ": operator " + schema.op_type + " has no inference function"; });
  schemas_.push_back(std::move(schema));
}

void Registrations::add_pass(const std::string& name, PassFn pass) {
  check(!name.empty() && pass != nullptr, [&] { return owner_.name + ": a pass needs a name and a function"; });
  passes_.emplace_back(name, std::move(pass));
}

void Registrations::add_model_format(std::shared_ptr<ModelFormat> format) {
  check(format != nullptr, [&] { return owner_.name + " registers a null model format"; });
  formats_.push_back(std::move(format));
}

void Registrations::add_exporter(std::shared_ptr<Exporter> exporter) {
  check(exporter != nullptr, [&] { return owner_.name + " registers a null exporter"; });
  exporters_.push_back(std::move(exporter));
}

Registry::Registry() : entries_(std::make_unique<Entries>()) {
  entries_->backends["host"] = {core_owner(), std::shared_ptr<Backend>(&host_backend(), [](Backend*) {})};
  for (OpSchema& schema : detail::builtin_schemas()) {
    const std::string op_type = schema.op_type;
    entries_->schemas.emplace(op_type, OwnedSchema{core_owner(), std::move(schema)});
  }
}

Registry::~Registry() = default;

Registry& Registry::current() {
  Registry* scoped = current_registry().load();
  return scoped != nullptr ? *scoped : process_registry();
}

void Registry::commit(Registrations batch) {
  std::lock_guard lock(mutex_);
  Entries& e = *entries_;
  const Owner& owner = batch.owner_;
  // Check everything first, so that a refused batch leaves no trace.
  std::set<std::string> new_backends, new_passes, new_exporters, new_extensions, new_schemas;
  for (const auto& backend : batch.backends_) {
    const std::string key = lowercase(backend->name());
    if (const auto it = e.backends.find(key); it != e.backends.end())
      refuse("backend '" + backend->name() + "'", owner, it->second.owner);
    check(new_backends.insert(key).second,
          [&] { return owner.name + " registers backend '" + backend->name() + "' twice"; });
  }
  for (const auto& [backend_name, def] : batch.kernels_) {
    const std::string key = lowercase(backend_name);
    const auto it = e.backends.find(key);
    check(new_backends.contains(key) || (it != e.backends.end() && it->second.owner.name == owner.name), [&] {
      return owner.name + " registers kernel " + def.op_type + " for backend '" + backend_name + "', which " +
             (it == e.backends.end() ? "is not registered" : it->second.owner.name + " owns");
    });
  }
  for (const OpSchema& schema : batch.schemas_) {
    check(!schema.domain.empty(), [&] {
      return owner.name + " registers operator " + schema.op_type +
             " without a domain: operators outside the core name their own (e.g. \"tern.ptq\")";
    });
    if (const auto it = e.schemas.find(schema.op_type); it != e.schemas.end())
      refuse("operator " + schema.op_type, owner, it->second.owner);
    check(new_schemas.insert(schema.op_type).second,
          [&] { return owner.name + " registers operator " + schema.op_type + " twice"; });
  }
  for (const auto& [name, pass] : batch.passes_) {
    if (const auto it = e.passes.find(lowercase(name)); it != e.passes.end())
      refuse("pass '" + name + "'", owner, it->second.owner);
    check(new_passes.insert(lowercase(name)).second,
          [&] { return owner.name + " registers pass '" + name + "' twice"; });
  }
  for (const auto& format : batch.formats_)
    for (const std::string& extension : format->extensions()) {
      for (const Owned<ModelFormat>& existing : e.formats) {
        const auto known = existing.object->extensions();
        if (std::find(known.begin(), known.end(), extension) != known.end())
          refuse("a format for " + extension + " files", owner, existing.owner);
      }
      check(new_extensions.insert(extension).second,
            [&] { return owner.name + " registers two formats for " + extension + " files"; });
    }
  for (const auto& exporter : batch.exporters_) {
    const std::string key = lowercase(exporter->target());
    if (const auto it = e.exporters.find(key); it != e.exporters.end())
      refuse("an exporter for target '" + exporter->target() + "'", owner, it->second.owner);
    check(new_exporters.insert(key).second,
          [&] { return owner.name + " registers two exporters for '" + exporter->target() + "'"; });
  }

  for (auto& backend : batch.backends_) {
    const std::string key = lowercase(backend->name());
    e.backends[key] = {owner, std::move(backend)};
  }
  for (auto& [backend_name, def] : batch.kernels_)
    e.kernels[lowercase(backend_name)].push_back({owner, std::move(def)});
  for (OpSchema& schema : batch.schemas_) {
    const std::string op_type = schema.op_type;
    e.schemas.emplace(op_type, OwnedSchema{owner, std::move(schema)});
  }
  for (auto& [name, pass] : batch.passes_) e.passes[lowercase(name)] = {owner, std::move(pass)};
  for (auto& format : batch.formats_) e.formats.push_back({owner, std::move(format)});
  for (auto& exporter : batch.exporters_) {
    const std::string key = lowercase(exporter->target());
    e.exporters[key] = {owner, std::move(exporter)};
  }
}

void Registry::mark_plugin(const std::string& name) {
  std::lock_guard lock(mutex_);
  entries_->plugins.insert(lowercase(name));
}

bool Registry::has_plugin(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return entries_->plugins.contains(lowercase(name));
}

Backend* Registry::find_backend(std::string_view name) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_->backends.find(lowercase(name));
  return it == entries_->backends.end() ? nullptr : it->second.object.get();
}

std::vector<std::string> Registry::backend_names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [key, entry] : entries_->backends) names.push_back(entry.object->name());
  return names;
}

std::vector<const RegisteredKernel*> Registry::kernels_of(std::string_view backend_name) const {
  std::lock_guard lock(mutex_);
  std::vector<const RegisteredKernel*> result;
  const auto it = entries_->kernels.find(lowercase(backend_name));
  if (it != entries_->kernels.end())
    for (const RegisteredKernel& kernel : it->second) result.push_back(&kernel);
  return result;
}

KernelChoice Registry::choose_kernel(std::string_view backend_name, const KernelQuery& query,
                                     const std::string& op_type) const {
  const std::string& op = op_type.empty() ? query.node.op_type() : op_type;
  std::string declined;
  for (const RegisteredKernel* kernel : kernels_of(backend_name)) {
    if (kernel->def.op_type != op || !matches(kernel->def.inputs, query.input_types)) continue;
    std::string reason = kernel->def.supports ? kernel->def.supports(query) : std::string();
    if (reason.empty()) return {kernel, {}};
    declined = std::move(reason);
  }
  if (!declined.empty()) return {nullptr, std::move(declined)};
  return {nullptr, "no " + op + " kernel for " + describe(query.input_types)};
}

const OpSchema* Registry::find_schema(const std::string& op_type) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_->schemas.find(op_type);
  return it == entries_->schemas.end() ? nullptr : &it->second.schema;
}

std::vector<std::string> Registry::op_types() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_->schemas) names.push_back(name);
  return names;
}

const RegisteredPass* Registry::find_pass(std::string_view name) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_->passes.find(lowercase(name));
  return it == entries_->passes.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::pass_names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_->passes) names.push_back(name);
  return names;
}

const ModelFormat* Registry::find_format(const std::string& extension) const {
  std::lock_guard lock(mutex_);
  for (const Owned<ModelFormat>& entry : entries_->formats)
    for (const std::string& known : entry.object->extensions())
      if (known == extension) return entry.object.get();
  return nullptr;
}

const Exporter* Registry::find_exporter(std::string_view target) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_->exporters.find(lowercase(target));
  return it == entries_->exporters.end() ? nullptr : it->second.object.get();
}

ScopedRegistry::ScopedRegistry() { registry_.outer_ = current_registry().exchange(&registry_); }

ScopedRegistry::~ScopedRegistry() { current_registry().store(registry_.outer_); }

namespace {

const Owner& application_owner() {
  static const Owner* owner = new Owner{"the application", nullptr};
  return *owner;
}

} // namespace

void register_backend(std::shared_ptr<Backend> backend) {
  Registrations batch(application_owner());
  batch.add_backend(std::move(backend));
  Registry::current().commit(std::move(batch));
}

void register_kernels(const std::string& backend_name, std::vector<KernelDef> table) {
  Registrations batch(application_owner());
  batch.add_kernels(backend_name, std::move(table));
  Registry::current().commit(std::move(batch));
}

KernelQuery query_of(const Node& node) {
  KernelQuery query{node, {}, {}};
  for (const Value* input : node.inputs()) {
    query.input_types.push_back(input ? std::optional(input->dtype()) : std::nullopt);
    query.input_shapes.push_back(input ? input->shape() : Shape{});
  }
  return query;
}

Backend* find_backend(std::string_view name) { return Registry::current().find_backend(name); }

Backend& backend(std::string_view name) {
  if (Backend* found = find_backend(name)) return *found;
  const PluginInfo& plugin = PluginHost::instance().load(name);
  Backend* loaded = find_backend(name);
  check(loaded != nullptr, [&] {
    return "plugin '" + plugin.name + "' (" + plugin.path.string() + ") loaded but registered no backend named '" +
           std::string(name) + "'";
  });
  return *loaded;
}

std::vector<std::string> registered_backends() { return Registry::current().backend_names(); }

std::vector<const RegisteredKernel*> kernels_of(std::string_view backend_name) {
  return Registry::current().kernels_of(backend_name);
}

const RegisteredKernel* find_kernel(std::string_view backend_name, const std::string& op_type,
                                    const std::vector<DataType>& input_types) {
  const std::vector<std::optional<DataType>> types(input_types.begin(), input_types.end());
  for (const RegisteredKernel* kernel : kernels_of(backend_name))
    if (kernel->def.op_type == op_type && matches(kernel->def.inputs, types)) return kernel;
  return nullptr;
}

const Exporter& exporter_for(std::string_view target) {
  if (const Exporter* found = Registry::current().find_exporter(target)) return *found;
  const std::string plugin = "export-" + lowercase(target);
  try {
    PluginHost::instance().load(plugin);
  } catch (const Error& error) {
    throw Error("no exporter for target '" + std::string(target) + "': " + error.what());
  }
  const Exporter* loaded = Registry::current().find_exporter(target);
  check(loaded != nullptr,
        [&] { return "plugin '" + plugin + "' registered no exporter for target '" + std::string(target) + "'"; });
  return *loaded;
}

} // namespace tern
