#include "command.hpp"

#include <tern/plugin.hpp>
#include <tern/version.hpp>

namespace tern::cli {

Command version_command() {
  return {"version", "print Tern's version and plugin ABI", nullptr, [](po::options_description&) {},
          [](const po::variables_map&, Output& out) {
            const std::string abi = std::to_string(plugin_abi_major) + "." + std::to_string(plugin_abi_minor);
            out.text() << "tern " << tern::version() << " (plugin ABI " << abi << ", " << TERN_COMPILER_ABI_TAG
                       << ")\n";
            out.result() = {{"version", tern::version()}, {"plugin_abi", abi}, {"compiler_abi", TERN_COMPILER_ABI_TAG}};
            return 0;
          }};
}

} // namespace tern::cli
