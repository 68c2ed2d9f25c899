#pragma once
// Which backend will run a node, for the recipes that rewrite a node only where that
// backend also runs the rewritten form (channels_last_ops, fuse_residual_adds).

#include <tern/kernel.hpp>

#include <optional>
#include <string>
#include <vector>

namespace tern::detail {

/// The name of the first backend of `backends` whose kernel table runs `query`, as the
/// scheduler will choose it, or nullopt. A backend whose plugin cannot load runs nothing
/// (the scheduler says why when asked to run the graph).
std::optional<std::string> running_backend(const KernelQuery& query, const std::vector<std::string>& backends);

} // namespace tern::detail
