#pragma once
// Tern's fused activations: Conv and Gemm may carry `activation`, `activation_alpha` and
// `activation_beta` (set by fuse_activations(), which `tern eval` applies), so a backend
// that runs Conv or Gemm must apply them too, or its results would be wrong.

#include <tern/graph.hpp>

#include <functional>

namespace naive {

/// The node's fused activation as a function (identity when it has none); throws
/// tern::Error naming the node for an activation this backend does not know.
std::function<float(float)> fused_activation(const tern::Node& node);

} // namespace naive
