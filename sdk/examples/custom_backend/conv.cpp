#include "activation.hpp"
#include "kernels.hpp"

#include <tern/window.hpp>

namespace naive {

void conv(const tern::Node& node, Inputs inputs, Outputs outputs) {
  // Messages need not name the node: the scheduler adds it (and the backend) to errors.
  tern::check(inputs.size() >= 2 && outputs.size() == 1, "Conv takes X, W (and B) and one output");
  const tern::Tensor& x = inputs[0];
  const tern::Tensor& w = inputs[1];
  tern::Tensor& y = outputs[0];
  tern::check(x.shape().rank() == 4 && w.shape().rank() == 4, [&] {
    return "backend 'naive' runs 2-D Conv only, got input " + x.describe();
  }); // conv_support() declines the rest
  const auto& xs = x.shape();
  const auto& ws = w.shape();
  const auto& ys = y.shape();
  const tern::Window window = tern::resolve_window(node, xs, {ws[2], ws[3]});
  const std::int64_t groups = node.attr<std::int64_t>("group");
  const std::int64_t in_per_group = ws[1], out_per_group = ws[0] / groups;
  const float* bias = inputs.size() > 2 && inputs[2].defined() ? inputs[2].data<float>() : nullptr;
  const auto activate = fused_activation(node);

  const float* in = x.data<float>();
  const float* weights = w.data<float>();
  float* out = y.data<float>();
  for (std::int64_t n = 0; n < ys[0]; ++n)
    for (std::int64_t m = 0; m < ys[1]; ++m) {
      const std::int64_t first_channel = (m / out_per_group) * in_per_group;
      for (std::int64_t oh = 0; oh < ys[2]; ++oh)
        for (std::int64_t ow = 0; ow < ys[3]; ++ow) {
          float sum = bias ? bias[m] : 0.0f;
          for (std::int64_t c = 0; c < in_per_group; ++c)
            for (std::int64_t kh = 0; kh < ws[2]; ++kh) {
              const std::int64_t ih = oh * window.strides[0] - window.pads_begin[0] + kh * window.dilations[0];
              if (ih < 0 || ih >= xs[2]) continue; // zero padding
              for (std::int64_t kw = 0; kw < ws[3]; ++kw) {
                const std::int64_t iw = ow * window.strides[1] - window.pads_begin[1] + kw * window.dilations[1];
                if (iw < 0 || iw >= xs[3]) continue;
                sum += in[((n * xs[1] + first_channel + c) * xs[2] + ih) * xs[3] + iw] *
                       weights[((m * in_per_group + c) * ws[2] + kh) * ws[3] + kw];
              }
            }
          out[((n * ys[1] + m) * ys[2] + oh) * ys[3] + ow] = activate(sum);
        }
    }
}

std::string conv_support(const tern::KernelQuery& query) {
  const std::size_t rank = query.input_shapes.at(0).rank();
  if (rank != 4) return "backend 'naive' runs 2-D Conv only (4-D input), got a " + std::to_string(rank) + "-D input";
  return activation_support(query.node);
}

} // namespace naive
