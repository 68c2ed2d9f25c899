// Conv (1-, 2- and 3-D; groups, depthwise, asymmetric pads, strides, dilations, bias, a
// fused activation) as one oneDNN convolution. oneDNN picks the layouts of src, weights
// and dst (format_tag::any); Tern's row-major tensors are reordered in and out only when
// they differ (see layout.hpp), and constant weights are reordered once, not per run.
#include "context.hpp"
#include "dnnl_ops.hpp"
#include "layout.hpp"

#include <tern/window.hpp>

#include <unordered_map>

namespace tern::cpu {
namespace {

using namespace onednn;
using dnnl::memory;

class ConvKernel final : public DnnlKernel {
public:
  explicit ConvKernel(const Node& node)
      : DnnlKernel(node), weights_(node.input(1) != nullptr && node.input(1)->constant() != nullptr) {}

private:
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    const Shape& x = inputs[0].shape();
    const Shape& w = inputs[1].shape();
    require(x.rank() >= 3 && x.rank() <= 5, "X is " + x.to_string() + "; oneDNN convolves 1-, 2- and 3-D inputs");
    require(w.rank() == x.rank(), "W " + w.to_string() + " must have the rank of X " + x.to_string());
    const auto group = node().attr<std::int64_t>("group");
    require(group >= 1 && w[0] % group == 0 && w[1] * group == x[1],
            "W " + w.to_string() + " does not fit X " + x.to_string() + " with group " + std::to_string(group));
    const bool has_bias = inputs.size() > 2 && inputs[2].defined();
    if (has_bias) require(inputs[2].shape() == Shape{w[0]}, "B " + inputs[2].shape().to_string() + " must be [" +
                                                                std::to_string(w[0]) + "]");

    const Window window = resolve_window(node(), x, std::vector<std::int64_t>(w.begin() + 2, w.end()));
    Dims dilations;
    // oneDNN counts the zeros inserted between taps: ONNX's dilation minus one.
    for (const std::int64_t d : window.dilations) dilations.push_back(d - 1);

    // Grouped weights are [G, M/G, C/G, k...] for oneDNN: the same bytes as ONNX's [M, C/G, k...].
    Dims weight_dims = dims_of(w);
    if (group > 1) {
      weight_dims[0] = w[0] / group;
      weight_dims.insert(weight_dims.begin(), group);
    }
    const memory::desc bias = has_bias ? plain_desc({w[0]}) : memory::desc();
    const Shape& y = outputs[0].shape();

    dnnl::post_ops post_ops;
    append_fused_activation(node(), post_ops);
    dnnl::primitive_attr attr;
    attr.set_post_ops(post_ops);
    const auto primitive_desc = [&](const memory::desc& dst) {
      const dnnl::convolution_forward::desc desc(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, any(dims_of(x)), any(weight_dims),
          bias, dst, window.strides, dilations, window.pads_begin, window.pads_end);
      return dnnl::convolution_forward::primitive_desc(desc, attr, engine(), /*allow_empty=*/true);
    };
    // The dst layout decides oneDNN's kernel. A plain dst gets its gemm convolution (a third
    // of the speed of the others here); "any" gets brgconv in nhwc, whose reorder back to
    // Tern's nchw costs twice that of a 16-channel-blocked dst, which is as fast to compute
    // (measured on LeNet and ResNet-18 at batch 1 and 64). Below 16 channels blocking pads.
    // src stays "any": with a handful of input channels oneDNN then reads plain nchw itself.
    dnnl::convolution_forward::primitive_desc pd;
    if (y[1] >= 16) pd = primitive_desc(channel_blocked(dims_of(y)));
    if (!pd || is_reference(pd)) pd = primitive_desc(any(dims_of(y)));
    require(static_cast<bool>(pd), "oneDNN has no convolution for X " + x.to_string() + ", W " + w.to_string() +
                                       " and these attributes");
    conv_ = dnnl::convolution_forward(pd);
    src_.prepare(plain_desc(dims_of(x)), pd.src_desc(), ScratchSlot::Source);
    weights_.prepare(plain_desc(weight_dims), pd.weights_desc());
    dst_.prepare(plain_desc(dims_of(y)), pd.dst_desc(), ScratchSlot::Destination);
    args_.clear();
    if (has_bias) args_[DNNL_ARG_BIAS] = unbound(bias);
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    args_[DNNL_ARG_SRC] = src_.read(inputs[0]);
    args_[DNNL_ARG_WEIGHTS] = weights_.read(inputs[1]);
    args_[DNNL_ARG_DST] = dst_.write(outputs[0]);
    if (const auto bias = args_.find(DNNL_ARG_BIAS); bias != args_.end()) bind(bias->second, inputs[2]);
    conv_.execute(stream(), args_);
    dst_.written();
  }

  dnnl::convolution_forward conv_;
  Relayout src_, dst_;
  WeightsOperand weights_;
  std::unordered_map<int, memory> args_; ///< kept between runs: only the buffers change
};

} // namespace

std::unique_ptr<Kernel> make_conv(const Node& node) { return std::make_unique<ConvKernel>(node); }

} // namespace tern::cpu
