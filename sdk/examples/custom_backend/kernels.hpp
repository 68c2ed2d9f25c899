#pragma once
// The "naive" backend's kernels, one per file: plain loops over float32 host tensors, in
// the shapes the scheduler has already inferred and allocated. A kernel that runs only some
// nodes of its op comes with a check (a KernelSupport) that declines the others with a
// reason: the scheduler then runs them on the next backend of the user's list. Kernel
// errors need not name the node: the scheduler adds it, and the backend.

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

#include <span>
#include <string>

namespace naive {

using Inputs = std::span<const tern::Tensor>;
using Outputs = std::span<tern::Tensor>;

/// Conv over N×C×H×W with groups, strides, dilations, pads (2-D only), optional bias and
/// the fused activation Tern's fuse_activations() may add.
void conv(const tern::Node& node, Inputs inputs, Outputs outputs);
/// Declines a Conv whose input is not 4-D (1-D or 3-D convolutions), or whose fused
/// activation conv() does not know.
std::string conv_support(const tern::KernelQuery& query);
/// y = max(x, 0).
void relu(const tern::Node& node, Inputs inputs, Outputs outputs);
/// MaxPool over N×C×H×W (2-D, no Indices output); padding never wins a maximum.
void max_pool(const tern::Node& node, Inputs inputs, Outputs outputs);
/// Declines a MaxPool whose input is not 4-D, or that has an Indices output.
std::string max_pool_support(const tern::KernelQuery& query);
/// Flatten: the data is unchanged, only the shape (already inferred) differs.
void flatten(const tern::Node& node, Inputs inputs, Outputs outputs);
/// Gemm: alpha·A'·B' + beta·C with transA/transB, C broadcast, A of rank > 2 flattened
/// (without transA), and a fused activation.
void gemm(const tern::Node& node, Inputs inputs, Outputs outputs);
/// Declines a Gemm with A below rank 2 or B not 2-D, a transposed A of rank > 2, or a
/// fused activation gemm() does not know.
std::string gemm_support(const tern::KernelQuery& query);

} // namespace naive
