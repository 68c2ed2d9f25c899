#pragma once
// One kernel per file: Relu on float32 host tensors.

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

namespace tern::template_plugin {

/// y = max(x, 0), elementwise; the scheduler has allocated y with x's shape.
void relu_f32(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs);

} // namespace tern::template_plugin
