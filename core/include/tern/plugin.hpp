#pragma once
/// \file plugin.hpp
/// The plugin boundary. A plugin is a shared library libtern-<name>.so exporting one entry,
/// `tern_plugin_descriptor` (see plugin_export.hpp), that returns a PluginDescriptor.
/// The host reads the descriptor's plain fields first (magic, versions, compiler ABI) and
/// only then calls C++ code in the plugin (probe, register). See docs/PLUGINS.md.

#include <tern/backend.hpp>
#include <tern/kernel.hpp>
#include <tern/pass.hpp>
#include <tern/registry.hpp>
#include <tern/version.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#define TERN_STRINGIFY_(x) #x
#define TERN_STRINGIFY(x) TERN_STRINGIFY_(x)
/// The compiler ABI a translation unit is built with; host and plugin must agree because
/// C++ types (std::string, std::function, exceptions) cross the boundary.
#define TERN_COMPILER_ABI_TAG                                                                                          \
  "gxx-abi-" TERN_STRINGIFY(__GXX_ABI_VERSION) "/cxx11-abi-" TERN_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)

namespace tern {

/// "TERN" in little-endian: the first field of every descriptor.
inline constexpr std::uint32_t plugin_magic = 0x4E524554;
/// Plugin ABI version. Major: descriptor or context layout changed incompatibly (plugins
/// must be rebuilt). Minor: additions only (fields appended, new context methods).
inline constexpr std::uint16_t plugin_abi_major = 3;
/// See plugin_abi_major.
inline constexpr std::uint16_t plugin_abi_minor = 0;

/// What a plugin provides.
enum class PluginKind : std::uint32_t { Backend = 1, Pass = 2, Format = 3, Exporter = 4 };
/// "backend", "pass", "format", "exporter" (or "unknown").
const char* name(PluginKind kind);

class PluginContext;
class ModelFormat;
class Exporter;

/// Answers whether the plugin can work on this machine; on false, fills `reason`.
using PluginProbeFn = bool (*)(std::string& reason);
/// Adds the plugin's backends, kernels, schemas and passes through `context`.
using PluginRegisterFn = void (*)(PluginContext& context);

/// The descriptor every plugin exports. Fields are only ever appended (struct_size tells
/// the host which ones a plugin has); the leading fields never change.
struct PluginDescriptor {
  std::uint32_t magic;              ///< plugin_magic
  std::uint32_t struct_size;        ///< sizeof(PluginDescriptor) as the plugin was built
  std::uint16_t abi_major;          ///< plugin_abi_major at build time
  std::uint16_t abi_minor;          ///< plugin_abi_minor at build time
  std::uint32_t tern_version_major; ///< TERN_VERSION_MAJOR at build time (must equal the host's)
  std::uint32_t tern_version_minor; ///< TERN_VERSION_MINOR at build time
  std::uint32_t tern_version_patch; ///< TERN_VERSION_PATCH at build time
  const char* compiler_abi;         ///< TERN_COMPILER_ABI_TAG at build time
  const char* name;                 ///< the plugin's name: libtern-<name>.so
  const char* version;              ///< the plugin's own version text
  const char* description;          ///< one line for `tern plugins`
  PluginKind kind;                  ///< what it provides
  PluginProbeFn probe;              ///< optional (nullptr: always usable)
  PluginRegisterFn register_plugin; ///< required
};

/// What a plugin's register function receives. Every registration goes through it and is
/// held back until the function returns: then all of them become visible together, or,
/// when the function throws or one of them is refused, none does.
class PluginContext {
public:
  /// Made by the host for one plugin; `library` is the handle its registrations keep.
  PluginContext(std::string plugin_name, std::shared_ptr<void> library);
  /// The name of the plugin being registered.
  const std::string& plugin_name() const { return plugin_name_; }
  /// Registers a backend (users select it by its name()).
  void add_backend(std::shared_ptr<Backend> backend) { batch_.add_backend(std::move(backend)); }
  /// Registers the kernel table of a backend this plugin registers.
  void add_kernels(const std::string& backend_name, std::vector<KernelDef> table) {
    batch_.add_kernels(backend_name, std::move(table));
  }
  /// Registers an operator of the plugin's own: `schema.domain` must name the plugin's
  /// domain (e.g. "tern.ptq"), and its op_type must be new (core operators are never replaced).
  void add_schema(OpSchema schema) { batch_.add_schema(std::move(schema)); }
  /// Registers a model file format (plugins of kind Format).
  void add_model_format(std::shared_ptr<ModelFormat> format) { batch_.add_model_format(std::move(format)); }
  /// Registers a graph pass under `name` (see pass.hpp).
  void add_pass(const std::string& name, PassFn pass) { batch_.add_pass(name, std::move(pass)); }
  /// Registers an exporter (see exporter.hpp).
  void add_exporter(std::shared_ptr<Exporter> exporter) { batch_.add_exporter(std::move(exporter)); }
  /// Keeps the library handle alive: for objects the plugin registers elsewhere.
  const std::shared_ptr<void>& library() const { return library_; }
  /// What was registered so far (the host commits it when the register function returns).
  Registrations& registrations() { return batch_; }

private:
  std::string plugin_name_;
  std::shared_ptr<void> library_;
  Registrations batch_;
};

/// What the host knows of one plugin file.
struct PluginInfo {
  std::string name;           ///< from the descriptor (the file name before it is read)
  std::filesystem::path path; ///< the library file
  std::string kind;           ///< "backend", "pass" or "format"
  std::string version;        ///< the plugin's own version text
  std::string description;    ///< one line for `tern plugins`
  bool usable = false;        ///< loads, passes every check and its probe
  std::string reason;         ///< why not usable (empty when usable)
  bool registered = false;    ///< it registered into the current registry (Registry::current())
};

/// Finds, checks, loads and registers plugins. Libraries are never unloaded.
class PluginHost {
public:
  /// The process-wide host (never destroyed: libraries are never unloaded).
  static PluginHost& instance();

  /// Where plugins are searched, in order: TERN_PLUGIN_PATH (colon-separated), then
  /// <exe>/../lib/tern/plugins, then tern/plugins beside libtern_core.so (which is both
  /// the install layout and the build tree's plugin folder). Missing folders are kept in
  /// the list so callers can say where they looked.
  std::vector<std::filesystem::path> search_dirs() const;
  /// Every libtern-*.so in the search folders (first one of each name wins), checked and
  /// probed but not registered. Never throws for a bad plugin: it is listed as unusable.
  std::vector<PluginInfo> discover();
  /// Loads the plugin `name` (case-insensitive) once and registers it into the current
  /// registry unless it already is; returns its record. Throws tern::Error naming where it
  /// looked, the path and the cause; a plugin that fails to register leaves nothing behind.
  const PluginInfo& load(std::string_view name);
  /// Loads and registers the plugin at `path` (the explicit-path way).
  const PluginInfo& load_path(const std::filesystem::path& path);
  /// True when a plugin of that name registered into the current registry.
  bool is_loaded(std::string_view name) const;

private:
  PluginHost() = default;
  struct Loaded;
  Loaded& open_checked(const std::filesystem::path& path);
  const PluginInfo& register_loaded(Loaded& loaded);
  mutable std::recursive_mutex mutex_;
  std::vector<std::unique_ptr<Loaded>> loaded_;
};

} // namespace tern
