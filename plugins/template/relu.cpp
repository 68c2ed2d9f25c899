#include "relu.hpp"

#include <algorithm>

namespace tern::template_plugin {

void relu_f32(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  // Every kernel checks what it is given, even where the scheduler already did. Messages
  // need not name the node: the scheduler adds it, and the backend, to every kernel error.
  (void)node;
  check(inputs.size() == 1 && outputs.size() == 1, "Relu takes one input and one output");
  const Tensor& x = inputs[0];
  Tensor& y = outputs[0];
  check(x.shape() == y.shape(),
        [&] { return "output shape " + y.shape().to_string() + " differs from input shape " + x.shape().to_string(); });
  const float* in = x.data<float>();
  float* out = y.data<float>();
  std::transform(in, in + x.numel(), out, [](float v) { return v > 0.0f ? v : 0.0f; });
}

} // namespace tern::template_plugin
