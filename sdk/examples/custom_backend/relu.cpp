#include "kernels.hpp"

#include <algorithm>

namespace naive {

void relu(const tern::Node& /*node*/, Inputs inputs, Outputs outputs) {
  tern::check(inputs.size() == 1 && outputs.size() == 1, "Relu takes one input and one output");
  const float* x = inputs[0].data<float>();
  float* y = outputs[0].data<float>();
  std::transform(x, x + inputs[0].numel(), y, [](float v) { return std::max(v, 0.0f); });
}

} // namespace naive
