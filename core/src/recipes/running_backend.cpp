#include "recipes/running_backend.hpp"

#include <tern/error.hpp>
#include <tern/registry.hpp>

namespace tern::detail {

std::optional<std::string> running_backend(const KernelQuery& query, const std::vector<std::string>& backends) {
  for (const std::string& name : backends) {
    Backend* found = nullptr;
    try {
      found = &backend(name);
    } catch (const Error&) {
      continue;
    }
    if (Registry::current().choose_kernel(found->name(), query).kernel != nullptr) return found->name();
  }
  return std::nullopt;
}

} // namespace tern::detail
