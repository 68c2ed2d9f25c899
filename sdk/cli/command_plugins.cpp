#include "command.hpp"

#include <tern/plugin.hpp>

#include <filesystem>
#include <iomanip>

namespace tern::cli {
namespace {

int list_plugins(const po::variables_map&, Output& out) {
  PluginHost& host = PluginHost::instance();
  const auto dirs = host.search_dirs();
  const auto plugins = host.discover();

  nlohmann::json searched = nlohmann::json::array();
  out.text() << "Searched for libtern-<name>.so in:\n";
  for (const auto& dir : dirs) {
    std::error_code error;
    const bool exists = std::filesystem::is_directory(dir, error);
    out.text() << "  " << dir.string() << (exists ? "" : "  (missing)") << "\n";
    searched.push_back(dir.string());
  }
  nlohmann::json list = nlohmann::json::array();
  out.text() << "\n" << plugins.size() << " plugin(s) found:\n";
  for (const PluginInfo& plugin : plugins) {
    out.text() << "  " << std::left << std::setw(12) << plugin.name << std::setw(9) << plugin.kind << std::setw(9)
               << plugin.version << (plugin.usable ? "usable" : "UNUSABLE") << "  " << plugin.description << "\n"
               << "  " << std::string(12, ' ') << plugin.path.string() << "\n";
    if (!plugin.usable) out.text() << "  " << std::string(12, ' ') << "why: " << plugin.reason << "\n";
    list.push_back({{"name", plugin.name},
                    {"kind", plugin.kind},
                    {"version", plugin.version},
                    {"path", plugin.path.string()},
                    {"usable", plugin.usable},
                    {"reason", plugin.reason}});
  }
  out.text() << "\nBackends are loaded by name when used (e.g. --backend template). Add folders with\n"
                "TERN_PLUGIN_PATH=dir1:dir2; see docs/PLUGINS.md to write your own.\n";
  out.result() = {{"plugins", list}, {"searched", searched}};
  return 0;
}

} // namespace

Command plugins_command() {
  return {"plugins", "list the plugins found, their kind, version, and whether they are usable here", nullptr,
          [](po::options_description&) {}, list_plugins};
}

} // namespace tern::cli
