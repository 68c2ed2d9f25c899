#pragma once
// The "naive" backend's kernels, one per file: plain loops over float32 host tensors, in
// the shapes the scheduler has already inferred and allocated.

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

#include <span>

namespace naive {

using Inputs = std::span<const tern::Tensor>;
using Outputs = std::span<tern::Tensor>;

/// Conv over N×C×H×W with groups, strides, dilations, pads (2-D only), optional bias and
/// the fused activation Tern's fuse_activations() may add.
void conv(const tern::Node& node, Inputs inputs, Outputs outputs);
/// y = max(x, 0).
void relu(const tern::Node& node, Inputs inputs, Outputs outputs);
/// MaxPool over N×C×H×W (2-D, no Indices output); padding never wins a maximum.
void max_pool(const tern::Node& node, Inputs inputs, Outputs outputs);
/// Flatten: the data is unchanged, only the shape (already inferred) differs.
void flatten(const tern::Node& node, Inputs inputs, Outputs outputs);
/// Gemm: alpha·A'·B' + beta·C with transA/transB, C broadcast, A of rank > 2 flattened,
/// and a fused activation.
void gemm(const tern::Node& node, Inputs inputs, Outputs outputs);

} // namespace naive
