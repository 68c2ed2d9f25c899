#pragma once
// Shared by the cuda suites: whether the "cuda" plugin can run here (each kernel test skips
// with the plugin's own reason when not: machines without a GPU or driver), and running one
// op on a backend with its outputs brought back to the host.

#include "graphs.hpp"
#include "op_testing.hpp"

#include <tern/plugin.hpp>
#include <tern/tern.hpp>

#include <cstdlib>
#include <optional>
#include <string>

namespace tern::test {

/// The plugin's record from discovery (probed once per process).
inline const PluginInfo* cuda_plugin() {
  static const std::optional<PluginInfo> info = [] {
    std::optional<PluginInfo> found;
    for (const PluginInfo& plugin : PluginHost::instance().discover())
      if (plugin.name == "cuda") found = plugin;
    return found;
  }();
  return info ? &*info : nullptr;
}

/// Why "cuda" cannot be used here, or empty when it can.
inline std::string cuda_unusable_reason() {
  const PluginInfo* info = cuda_plugin();
  if (info == nullptr) return "libtern-cuda.so was not found";
  return info->usable ? std::string() : info->reason;
}

/// `name`'s value in the environment, or `fallback`: sizes a GPU run may change.
inline std::size_t env_count(const char* name, std::size_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr ? static_cast<std::size_t>(std::stoull(text)) : fallback;
}

/// Runs `op` on `backend` (see run_op) and copies its outputs to the host.
inline std::vector<Tensor> run_on(const std::string& backend, const std::string& op, const std::vector<Feed>& feeds,
                                  Attributes attrs = {}, std::size_t output_count = 1) {
  PluginHost::instance().load("ptq"); // the Ptq* operators' schemas are the PTQ plugin's
  std::vector<Tensor> outputs = run_op(op, feeds, std::move(attrs), output_count, backend);
  for (Tensor& output : outputs) output = output.to(host_backend());
  return outputs;
}

} // namespace tern::test

/// Skips the current test, giving the plugin's reason, unless "cuda" is usable.
#define TERN_REQUIRE_CUDA()                                                                                            \
  do {                                                                                                                 \
    if (const std::string reason = ::tern::test::cuda_unusable_reason(); !reason.empty())                              \
      GTEST_SKIP() << "the cuda backend is unusable here: " << reason;                                                 \
  } while (0)
