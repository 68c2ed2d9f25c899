#pragma once
// Tern's fused activations: Conv and Gemm may carry `activation`, `activation_alpha` and
// `activation_beta` (set by fuse_activations(), which `tern eval` applies), so a backend
// that runs Conv or Gemm must apply them too, or its results would be wrong.

#include <tern/graph.hpp>

#include <functional>
#include <string>

namespace naive {

/// The node's fused activation as a function (identity when it has none); throws
/// tern::Error for an activation this backend does not know.
std::function<float(float)> fused_activation(const tern::Node& node);
/// "" when fused_activation() knows the node's activation (or it has none), else why not:
/// for the kernel rows' checks, so such a node runs on the next backend instead.
std::string activation_support(const tern::Node& node);

} // namespace naive
