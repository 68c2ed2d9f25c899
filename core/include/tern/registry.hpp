#pragma once
/// \file registry.hpp
/// The process-wide registries of backends, kernels, passes and model formats. They live
/// in libtern_core.so only (one copy for the host and every plugin). Plugins add to them
/// through PluginContext; applications read them, and may register in-process backends.

#include <tern/backend.hpp>
#include <tern/kernel.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tern {

class Pass;
class ModelFormat;

/// Lower-case copy of `text`: names of plugins, backends and passes compare this way.
std::string lowercase(std::string_view text);

/// A registered kernel with the library that provides it (kept alive while used).
struct RegisteredKernel {
  KernelDef def;
  std::shared_ptr<void> owner; ///< the plugin library handle; null for in-process kernels
};

/// Registers a backend (and optionally the plugin library that owns it).
void register_backend(std::shared_ptr<Backend> backend, std::shared_ptr<void> owner = {});
/// Registers one kernel of `backend_name`.
void register_kernel(const std::string& backend_name, KernelDef def, std::shared_ptr<void> owner = {});
/// The registered backend `name` (case-insensitive), or nullptr. Loads no plugin.
Backend* find_backend(std::string_view name);
/// The backend `name`, loading the plugin of that name when it is not registered yet;
/// throws tern::Error with the plugin host's reasons when it cannot be had.
Backend& backend(std::string_view name);
/// Names of registered backends (loaded so far), sorted.
std::vector<std::string> registered_backends();
/// The kernel of `backend_name` for `op_type` over `input_types`, or nullptr.
const RegisteredKernel* find_kernel(std::string_view backend_name, const std::string& op_type,
                                    const std::vector<DataType>& input_types);
/// Every kernel registered for `backend_name`.
std::vector<const RegisteredKernel*> kernels_of(std::string_view backend_name);

} // namespace tern
