#pragma once
/// \file registry.hpp
/// The registry: every plugin, backend, kernel, operator schema, pass, model format and
/// exporter known to the process, in one object with one rule for duplicates (refused,
/// naming both owners). Registrations arrive in batches that become visible together or
/// not at all: a plugin's register function fills a batch, which the host commits only
/// when the function returns. Lookups go to Registry::current(): the process-wide
/// registry, or the innermost ScopedRegistry (tests use one to start from a clean slate).

#include <tern/backend.hpp>
#include <tern/kernel.hpp>
#include <tern/operator.hpp>
#include <tern/pass.hpp>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tern {

class ModelFormat;
class Exporter;

/// Lower-case copy of `text`: names of plugins, backends, passes and formats compare this way.
std::string lowercase(std::string_view text);

/// Who registered something: named when a duplicate is refused; its library stays loaded
/// for as long as what it registered is.
struct Owner {
  std::string name;              ///< "plugin 'cpu'", "the core", "the application"
  std::shared_ptr<void> library; ///< the plugin library handle; null in-process
};

/// A registered kernel row with its owner (kept alive while used).
struct RegisteredKernel {
  Owner owner; ///< declared first: destroyed after the row's code
  KernelDef def;
};

/// A registered pass with its owner.
struct RegisteredPass {
  Owner owner; ///< declared first: destroyed after the pass's code
  PassFn pass;
};

/// Registrations gathered to be committed together (see Registry::commit).
class Registrations {
public:
  /// Everything added here will belong to `owner`.
  explicit Registrations(Owner owner) : owner_(std::move(owner)) {}
  /// A backend (users select it by its name()).
  void add_backend(std::shared_ptr<Backend> backend);
  /// Rows of the kernel table of `backend_name`, a backend of the same owner.
  void add_kernels(const std::string& backend_name, std::vector<KernelDef> table);
  /// An operator schema; its op_type must be new to the registry.
  void add_schema(OpSchema schema);
  /// A graph pass under `name` (see pass.hpp).
  void add_pass(const std::string& name, PassFn pass);
  /// A model file format.
  void add_model_format(std::shared_ptr<ModelFormat> format);
  /// An exporter (see exporter.hpp).
  void add_exporter(std::shared_ptr<Exporter> exporter);
  /// The owner of everything in the batch.
  const Owner& owner() const { return owner_; }

private:
  friend class Registry;
  Owner owner_;
  std::vector<std::shared_ptr<Backend>> backends_;
  std::vector<std::pair<std::string, KernelDef>> kernels_;
  std::vector<OpSchema> schemas_;
  std::vector<std::pair<std::string, PassFn>> passes_;
  std::vector<std::shared_ptr<ModelFormat>> formats_;
  std::vector<std::shared_ptr<Exporter>> exporters_;
};

/// What a backend answers for one node: the kernel row that runs it, or why none does.
struct KernelChoice {
  const RegisteredKernel* kernel = nullptr; ///< null when the backend declines
  std::string reason;                       ///< why it declines ("" when it runs the node)
};

/// Plugins, backends, kernels, schemas, passes, formats and exporters, with their owners.
/// Thread-safe; what a lookup returns stays valid for the registry's lifetime.
class Registry {
public:
  /// A registry holding the core's own entries: the "host" backend and the schemas of the
  /// built-in operators.
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// The registry in use: the innermost live ScopedRegistry's, else the process-wide one.
  static Registry& current();

  /// Adds every entry of `batch`, or none: throws tern::Error naming both owners when an
  /// entry duplicates one already registered (or another in the batch), or when kernels
  /// are added for a backend the batch's owner did not register.
  void commit(Registrations batch);
  /// Records that plugin `name` registered into this registry (after its batch committed).
  void mark_plugin(const std::string& name);
  /// True when plugin `name` (case-insensitive) registered into this registry.
  bool has_plugin(std::string_view name) const;

  /// The backend `name` (case-insensitive), or nullptr.
  Backend* find_backend(std::string_view name) const;
  /// Names of the registered backends, sorted.
  std::vector<std::string> backend_names() const;
  /// Every kernel row of `backend_name`, in registration order.
  std::vector<const RegisteredKernel*> kernels_of(std::string_view backend_name) const;
  /// The first row of `backend_name` for `query.node`'s op type (or `op_type` when given:
  /// fused pairs) whose input rules fit `query.input_types` and whose supports() accepts
  /// the node; otherwise the reason of the last row that declined, or "no <op> kernel for
  /// (<dtypes>)".
  KernelChoice choose_kernel(std::string_view backend_name, const KernelQuery& query,
                             const std::string& op_type = {}) const;
  /// The schema of `op_type`, or nullptr.
  const OpSchema* find_schema(const std::string& op_type) const;
  /// Every registered operator type, sorted.
  std::vector<std::string> op_types() const;
  /// The pass `name` (case-insensitive), or nullptr.
  const RegisteredPass* find_pass(std::string_view name) const;
  /// Names of the registered passes, sorted.
  std::vector<std::string> pass_names() const;
  /// The format handling `extension` (".onnx"), or nullptr.
  const ModelFormat* find_format(const std::string& extension) const;
  /// The exporter for `target` ("c"), or nullptr.
  const Exporter* find_exporter(std::string_view target) const;

private:
  friend class ScopedRegistry;
  struct Entries;
  mutable std::recursive_mutex mutex_;
  std::unique_ptr<Entries> entries_;
  Registry* outer_ = nullptr; ///< the registry a ScopedRegistry replaced as current
};

/// Makes a fresh Registry (the core's entries only) the current one for its lifetime:
/// plugins loaded meanwhile register into it, and nothing registered leaks out. Scopes
/// nest; destroy them in reverse order of creation, on the thread that made them.
class ScopedRegistry {
public:
  ScopedRegistry();
  ~ScopedRegistry();
  ScopedRegistry(const ScopedRegistry&) = delete;
  ScopedRegistry& operator=(const ScopedRegistry&) = delete;
  /// The scope's registry.
  Registry& registry() { return registry_; }

private:
  Registry registry_;
};

/// The query kernel rows see for `node`, from the dtypes and shapes of its typed inputs
/// (constants, or values typed by Graph::infer_shapes).
KernelQuery query_of(const Node& node);

/// Registers an in-process backend, owned by "the application", in the current registry.
void register_backend(std::shared_ptr<Backend> backend);
/// Registers in-process kernel rows for a backend registered with register_backend().
void register_kernels(const std::string& backend_name, std::vector<KernelDef> table);
/// Registry::current().find_backend(name). Loads no plugin.
Backend* find_backend(std::string_view name);
/// The backend `name`, loading the plugin of that name when it is not registered yet;
/// throws tern::Error with the plugin host's reasons when it cannot be had.
Backend& backend(std::string_view name);
/// Registry::current().backend_names().
std::vector<std::string> registered_backends();
/// Registry::current().kernels_of(backend_name).
std::vector<const RegisteredKernel*> kernels_of(std::string_view backend_name);
/// The row of `backend_name` for `op_type` whose rules fit the present input dtypes
/// `input_types` (no absent inputs), ignoring supports(); nullptr when none.
const RegisteredKernel* find_kernel(std::string_view backend_name, const std::string& op_type,
                                    const std::vector<DataType>& input_types);

} // namespace tern
