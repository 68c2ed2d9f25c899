// Conv (1-, 2- and 3-D; groups, depthwise, asymmetric pads, strides, dilations, bias, a
// fused activation) as one oneDNN convolution. oneDNN picks the layouts of src and
// weights (format_tag::any); Tern's row-major tensors are reordered into them only when
// they differ, and constant weights are reordered once per primitive, not per run.
#include "context.hpp"
#include "dnnl_ops.hpp"

#include <tern/window.hpp>

#include <optional>

namespace tern::cpu {
namespace {

using namespace onednn;
using dnnl::memory;

class ConvKernel final : public DnnlKernel {
public:
  explicit ConvKernel(const Node& node)
      : DnnlKernel(node), constant_weights_(node.input(1) != nullptr && node.input(1)->constant() != nullptr) {}

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
    src_plain_ = plain_desc(dims_of(x));
    weights_plain_ = plain_desc(weight_dims);
    dst_ = plain_desc(dims_of(outputs[0].shape()));
    bias_ = has_bias ? plain_desc({w[0]}) : memory::desc();
    const auto any = [](const Dims& dims) { return memory::desc(dims, memory::data_type::f32, memory::format_tag::any); };

    dnnl::post_ops post_ops;
    append_fused_activation(node(), post_ops);
    dnnl::primitive_attr attr;
    attr.set_post_ops(post_ops);
    const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                               any(dims_of(x)), any(weight_dims), bias_, dst_, window.strides,
                                               dilations, window.pads_begin, window.pads_end);
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine());
    conv_ = dnnl::convolution_forward(pd);

    src_reorder_.reset();
    if (pd.src_desc() != src_plain_) {
      src_ = memory(pd.src_desc(), engine());
      src_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), src_plain_, engine(), pd.src_desc()));
    }
    weights_reorder_.reset();
    if (pd.weights_desc() != weights_plain_) {
      weights_ = memory(pd.weights_desc(), engine());
      weights_reorder_ =
          dnnl::reorder(dnnl::reorder::primitive_desc(engine(), weights_plain_, engine(), pd.weights_desc()));
      if (constant_weights_) reorder_weights(inputs[1]);
    }
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    memory src = wrap(src_plain_, inputs[0]);
    if (src_reorder_) {
      src_reorder_->execute(stream(), src, src_);
      src = src_;
    }
    memory weights = wrap(weights_plain_, inputs[1]);
    if (weights_reorder_) {
      // Weights that are computed (not an initializer) may change between runs.
      if (!constant_weights_) reorder_weights(inputs[1]);
      weights = weights_;
    }
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, wrap(dst_, outputs[0])}};
    if (inputs.size() > 2 && inputs[2].defined()) args.emplace(DNNL_ARG_BIAS, wrap(bias_, inputs[2]));
    conv_.execute(stream(), args);
  }

  void reorder_weights(const Tensor& w) {
    dnnl::memory plain = wrap(weights_plain_, w);
    weights_reorder_->execute(stream(), plain, weights_);
    stream().wait();
  }

  const bool constant_weights_;
  dnnl::convolution_forward conv_;
  memory::desc src_plain_, weights_plain_, bias_, dst_;
  std::optional<dnnl::reorder> src_reorder_, weights_reorder_;
  memory src_, weights_; ///< oneDNN's layouts, when they differ from the plain ones
};

} // namespace

std::unique_ptr<Kernel> make_conv(const Node& node) { return std::make_unique<ConvKernel>(node); }

} // namespace tern::cpu
