// Finds plugin files, checks their descriptors before running any of their code, probes
// and registers them. Libraries are kept loaded for the life of the process.
#include <tern/plugin.hpp>
#include <tern/registry.hpp>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <set>
#include <sstream>

namespace tern {
namespace fs = std::filesystem;

namespace {

constexpr const char* entry_symbol = "tern_plugin_descriptor";
constexpr const char* file_prefix = "libtern-";
constexpr const char* file_suffix = ".so";

/// "cpu" for ".../libtern-cpu.so", "" for anything else.
std::string plugin_name_of(const fs::path& path) {
  const std::string file = path.filename().string();
  const std::string prefix = file_prefix, suffix = file_suffix;
  if (file.size() <= prefix.size() + suffix.size() || !file.starts_with(prefix) || !file.ends_with(suffix)) return {};
  return file.substr(prefix.size(), file.size() - prefix.size() - suffix.size());
}

std::string version_text(std::uint32_t major, std::uint32_t minor, std::uint32_t patch) {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

/// Every plugin file in `dir`, sorted by name; nothing when the folder is missing.
std::vector<fs::path> plugin_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error))
    if (!plugin_name_of(entry.path()).empty()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

/// The dynamic loader's own words from Boost.DLL's message, which wraps them in
/// "load() failed (dlerror system message: <reason>): <unrelated errno text>".
std::string loader_reason(const std::string& what) {
  const std::string marker = "dlerror system message: ";
  const std::size_t begin = what.find(marker);
  const std::size_t end = what.rfind("):");
  if (begin == std::string::npos || end == std::string::npos || end < begin) return what;
  return what.substr(begin + marker.size(), end - begin - marker.size());
}

/// Why `d` cannot be used by this host, or "" when it can. Reads only plain fields.
std::string descriptor_mismatch(const PluginDescriptor& d) {
  const std::string host_abi = std::to_string(plugin_abi_major) + "." + std::to_string(plugin_abi_minor);
  const std::string plugin_abi = std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor);
  const std::string rebuild = "rebuild the plugin against Tern " TERN_VERSION_STRING;
  if (d.magic != plugin_magic) return "its descriptor has the wrong magic number: it is not a Tern plugin descriptor";
  // Fields are only appended, so a descriptor must at least hold those of this ABI's 1st minor.
  constexpr std::size_t required = offsetof(PluginDescriptor, register_plugin) + sizeof(PluginRegisterFn);
  if (d.struct_size < required)
    return "its descriptor is " + std::to_string(d.struct_size) + " bytes, smaller than the " +
           std::to_string(required) + " bytes every plugin ABI " + std::to_string(plugin_abi_major) +
           " descriptor has: it is damaged or not built from <tern/plugin_export.hpp>";
  if (d.abi_major != plugin_abi_major)
    return "it was built for plugin ABI " + plugin_abi + ", this Tern provides plugin ABI " + host_abi + ": " + rebuild;
  if (d.abi_minor > plugin_abi_minor)
    return "it needs plugin ABI " + plugin_abi + ", newer than this Tern's " + host_abi + ": upgrade Tern";
  if (d.tern_version_major != TERN_VERSION_MAJOR)
    return "it was built against Tern " +
           version_text(d.tern_version_major, d.tern_version_minor, d.tern_version_patch) +
           ", this is Tern " TERN_VERSION_STRING ": " + rebuild;
  const std::string plugin_compiler = d.compiler_abi ? d.compiler_abi : "(none)";
  if (plugin_compiler != TERN_COMPILER_ABI_TAG)
    return "it was built with compiler ABI '" + plugin_compiler +
           "', this Tern uses '" TERN_COMPILER_ABI_TAG
           "': rebuild it with the same compiler and standard library settings";
  if (d.name == nullptr || d.register_plugin == nullptr) return "its descriptor has no name or no register function";
  return {};
}

} // namespace

const char* name(PluginKind kind) {
  switch (kind) {
  case PluginKind::Backend: return "backend";
  case PluginKind::Pass: return "pass";
  case PluginKind::Format: return "format";
  case PluginKind::Exporter: return "exporter";
  }
  return "unknown";
}

struct PluginHost::Loaded {
  PluginInfo info;
  std::shared_ptr<boost::dll::shared_library> library;
  const PluginDescriptor* descriptor = nullptr;
};

PluginHost& PluginHost::instance() {
  static PluginHost* host = new PluginHost; // never destroyed: nothing is unloaded at exit
  return *host;
}

std::vector<fs::path> PluginHost::search_dirs() const {
  std::vector<fs::path> dirs;
  const auto add = [&dirs](const fs::path& dir) {
    const fs::path normal = dir.lexically_normal();
    if (!normal.empty() && std::find(dirs.begin(), dirs.end(), normal) == dirs.end()) dirs.push_back(normal);
  };
  if (const char* env = std::getenv("TERN_PLUGIN_PATH")) {
    std::stringstream list(env);
    for (std::string dir; std::getline(list, dir, ':');) add(dir);
  }
  boost::dll::fs::error_code error;
  const fs::path exe = boost::dll::program_location(error);
  if (!error) add(exe.parent_path() / ".." / "lib" / "tern" / "plugins");
  const fs::path core = boost::dll::this_line_location(error);
  if (!error) add(core.parent_path() / "tern" / "plugins");
  return dirs;
}

PluginHost::Loaded& PluginHost::open_checked(const fs::path& path) {
  std::lock_guard lock(mutex_);
  std::error_code error;
  const fs::path canonical = fs::weakly_canonical(path, error);
  for (const auto& loaded : loaded_)
    if (loaded->info.path == canonical) return *loaded;

  auto loaded = std::make_unique<Loaded>();
  PluginInfo& info = loaded->info;
  info.path = canonical;
  info.name = plugin_name_of(canonical);
  const std::string where = "plugin " + canonical.string() + ": ";
  try {
    if (!fs::is_regular_file(canonical)) throw Error("no such file");
    loaded->library = std::make_shared<boost::dll::shared_library>(canonical, boost::dll::load_mode::rtld_now |
                                                                                  boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    info.reason = where + "cannot be loaded: " + loader_reason(e.what());
  }
  if (info.reason.empty() && !loaded->library->has(entry_symbol))
    info.reason = where + "is not a Tern plugin: it does not export '" + entry_symbol + "'";
  if (info.reason.empty()) {
    const auto entry = loaded->library->get_alias<const PluginDescriptor*()>(entry_symbol);
    loaded->descriptor = entry();
    const std::string mismatch =
        loaded->descriptor ? descriptor_mismatch(*loaded->descriptor) : "its entry returned no descriptor";
    if (!mismatch.empty()) info.reason = where + "refused: " + mismatch;
  }
  if (info.reason.empty()) {
    const PluginDescriptor& d = *loaded->descriptor;
    info.name = d.name;
    info.kind = tern::name(d.kind);
    info.version = d.version ? d.version : "";
    info.description = d.description ? d.description : "";
    if (lowercase(info.name) != lowercase(plugin_name_of(canonical)))
      info.reason = where + "its descriptor names it '" + info.name + "', but the file is named for '" +
                    plugin_name_of(canonical) + "': rename one so they match";
  }
  if (info.reason.empty() && loaded->descriptor->probe != nullptr) {
    std::string why;
    bool usable = false;
    try {
      usable = loaded->descriptor->probe(why);
    } catch (const std::exception& e) {
      why = std::string("its probe threw: ") + e.what();
    }
    if (!usable)
      info.reason = "plugin '" + info.name + "' (" + canonical.string() + ") is unusable on this machine: " + why;
  }
  info.usable = info.reason.empty();
  loaded_.push_back(std::move(loaded));
  return *loaded_.back();
}

const PluginInfo& PluginHost::register_loaded(Loaded& loaded) {
  std::lock_guard lock(mutex_);
  PluginInfo& info = loaded.info;
  if (!info.usable) throw Error(info.reason);
  Registry& registry = Registry::current();
  if (!registry.has_plugin(info.name)) {
    PluginContext context(info.name, std::shared_ptr<void>(loaded.library, loaded.library.get()));
    try {
      loaded.descriptor->register_plugin(context);
      registry.commit(std::move(context.registrations())); // all of it, or nothing
    } catch (const std::exception& e) {
      info.usable = false;
      info.reason = "plugin '" + info.name + "' (" + info.path.string() + ") failed to register: " + e.what();
      throw Error(info.reason);
    }
    registry.mark_plugin(info.name);
  }
  info.registered = true;
  return info;
}

std::vector<PluginInfo> PluginHost::discover() {
  std::lock_guard lock(mutex_);
  std::vector<PluginInfo> found;
  std::set<std::string> seen;
  for (const fs::path& dir : search_dirs())
    for (const fs::path& file : plugin_files(dir))
      if (seen.insert(lowercase(plugin_name_of(file))).second) {
        found.push_back(open_checked(file).info);
        found.back().registered = Registry::current().has_plugin(found.back().name);
      }
  return found;
}

const PluginInfo& PluginHost::load(std::string_view name) {
  std::lock_guard lock(mutex_);
  const std::string wanted = lowercase(name);
  for (const auto& loaded : loaded_)
    if (loaded->info.usable && lowercase(loaded->info.name) == wanted && Registry::current().has_plugin(wanted))
      return loaded->info;
  std::vector<std::string> looked, others;
  for (const fs::path& dir : search_dirs()) {
    std::error_code error;
    looked.push_back(dir.string() + (fs::is_directory(dir, error) ? "" : " (missing)"));
    for (const fs::path& file : plugin_files(dir)) {
      if (lowercase(plugin_name_of(file)) == wanted) return register_loaded(open_checked(file));
      others.push_back(plugin_name_of(file));
    }
  }
  std::string message =
      "no plugin named '" + std::string(name) + "': looked for " + file_prefix + wanted + file_suffix + " in ";
  for (std::size_t i = 0; i < looked.size(); ++i) message += (i ? ", " : "") + looked[i];
  message += "; found ";
  if (others.empty()) message += "no plugins";
  for (std::size_t i = 0; i < others.size(); ++i) message += (i ? ", " : "") + others[i];
  throw Error(message + ". Add the plugin's folder to TERN_PLUGIN_PATH.");
}

const PluginInfo& PluginHost::load_path(const fs::path& path) {
  std::lock_guard lock(mutex_);
  return register_loaded(open_checked(path));
}

bool PluginHost::is_loaded(std::string_view name) const { return Registry::current().has_plugin(name); }

PluginContext::PluginContext(std::string plugin_name, std::shared_ptr<void> library)
    : plugin_name_(std::move(plugin_name)), library_(std::move(library)),
      batch_(Owner{"plugin '" + plugin_name_ + "'", library_}) {}

} // namespace tern
