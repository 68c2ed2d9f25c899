#include "kernels.hpp"

#include <algorithm>

namespace naive {

void flatten(const tern::Node& /*node*/, Inputs inputs, Outputs outputs) {
  tern::check(inputs.size() == 1 && outputs.size() == 1 && inputs[0].numel() == outputs[0].numel(),
              "Flatten needs one input and one output of the same size");
  // Row-major data reads the same flattened; the output has its own buffer, so copy.
  const float* x = inputs[0].data<float>();
  std::copy(x, x + inputs[0].numel(), outputs[0].data<float>());
}

} // namespace naive
