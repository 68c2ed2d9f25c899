#include "kernels.hpp"

#include <tern/window.hpp>

#include <algorithm>
#include <limits>

namespace naive {

void max_pool(const tern::Node& node, Inputs inputs, Outputs outputs) {
  // Messages need not name the node: the scheduler adds it (and the backend) to errors.
  tern::check(inputs.size() == 1, "MaxPool takes one input");
  tern::check(outputs.size() == 1, "backend 'naive' does not compute MaxPool's Indices output");
  const tern::Tensor& x = inputs[0];
  tern::Tensor& y = outputs[0];
  tern::check(x.shape().rank() == 4, [&] { return "backend 'naive' runs 2-D MaxPool only, got " + x.describe(); });
  const auto& xs = x.shape();
  const auto& ys = y.shape();
  // The output size (ceil_mode included) is y's shape, inferred with this same window.
  const tern::Window window = tern::resolve_window(node, xs, node.attr<std::vector<std::int64_t>>("kernel_shape"));

  const float* in = x.data<float>();
  float* out = y.data<float>();
  for (std::int64_t plane = 0; plane < ys[0] * ys[1]; ++plane)
    for (std::int64_t oh = 0; oh < ys[2]; ++oh)
      for (std::int64_t ow = 0; ow < ys[3]; ++ow) {
        float best = -std::numeric_limits<float>::infinity();
        for (std::int64_t kh = 0; kh < window.kernel[0]; ++kh) {
          const std::int64_t ih = oh * window.strides[0] - window.pads_begin[0] + kh * window.dilations[0];
          if (ih < 0 || ih >= xs[2]) continue;
          for (std::int64_t kw = 0; kw < window.kernel[1]; ++kw) {
            const std::int64_t iw = ow * window.strides[1] - window.pads_begin[1] + kw * window.dilations[1];
            if (iw >= 0 && iw < xs[3]) best = std::max(best, in[(plane * xs[2] + ih) * xs[3] + iw]);
          }
        }
        out[(plane * ys[2] + oh) * ys[3] + ow] = best;
      }
}

std::string max_pool_support(const tern::KernelQuery& query) {
  if (query.node.outputs().size() != 1) return "backend 'naive' does not compute MaxPool's Indices output";
  const std::size_t rank = query.input_shapes.at(0).rank();
  if (rank != 4) return "backend 'naive' runs 2-D MaxPool only (4-D input), got a " + std::to_string(rank) + "-D input";
  return {};
}

} // namespace naive
