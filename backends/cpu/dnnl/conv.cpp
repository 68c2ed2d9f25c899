// Conv (1-, 2- and 3-D; groups, depthwise, asymmetric pads, strides, dilations, bias, a
// fused activation) as one oneDNN convolution. oneDNN picks the layouts of src, weights
// and dst (format_tag::any); Tern's row-major tensors are reordered in and out only when
// they differ (see layout.hpp), and constant weights are reordered once, not per run.
// ConvChannelsLast is the same convolution on channels-last X and Y, in which oneDNN's
// nhwc kernels run without reordering them, and may add a residual Z of Y's shape;
// ConvBlocked the same on channel blocks (nChw8c, nChw16c), read by its blocked kernels.
#include "conv.hpp"

#include "dnnl_ops.hpp"
#include "native/common.hpp"

#include <tern/channels_last.hpp>
#include <tern/window.hpp>

namespace tern::cpu {
namespace onednn {

using dnnl::memory;

/// The execution argument of the residual: the source of the first post-op.
constexpr int residual_arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1;

Convolution::Convolution(const Node& node, bool fused, Layout layout)
    : node_(node), fused_(fused), layout_(layout), plain_rank_(node.input(1) ? node.input(1)->shape().rank() : 0),
      weights_(node.input(1) != nullptr && node.input(1)->constant() != nullptr) {}

// The scheduler names the node it runs; a fused Conv is not that node, so it is named here.
void Convolution::fail(const std::string& message) const {
  throw Error(fused_ ? "the fused " + node_.describe() + ": " + message : message);
}

Shape Convolution::output_shape(const Shape& x, const Shape& w) const {
  require(x.rank() >= 3 && x.rank() <= 5 && w.rank() == x.rank(),
          [&] { return "X " + x.to_string() + " and W " + w.to_string() + " must both be 3-, 4- or 5-D"; });
  const Window window = resolve_window(node_, x, std::vector<std::int64_t>(w.begin() + 2, w.end()));
  std::vector<std::int64_t> y{x[0], w[0]};
  for (const std::int64_t size : window_output_sizes(node_, window, x)) y.push_back(size);
  return Shape(y);
}

Shape Convolution::unpadded(const Shape& shape, const Shape& view, std::int64_t channels) const {
  if (layout_of(view) != Layout::Blocks || channels > shape[1] || channels <= shape[1] - view.dims().back())
    return shape;
  std::vector<std::int64_t> dims = shape.dims();
  dims[1] = channels;
  return Shape(std::move(dims));
}

Layout Convolution::layout_of(const Shape& shape) const {
  return layout_ == Layout::Blocks && shape.rank() == plain_rank_ ? Layout::Plain : layout_;
}

void Convolution::prepare(std::span<const Tensor> inputs, const Shape& y_view) {
  const Shape& x_view = inputs[0].shape();
  Shape x = channels_first_of(x_view, layout_of(x_view));
  Shape y = channels_first_of(y_view, layout_of(y_view));
  const Shape& w = inputs[1].shape();
  require(x.rank() >= 3 && x.rank() <= 5,
          [&] { return "X is " + x.to_string() + "; oneDNN convolves 1-, 2- and 3-D inputs"; });
  require(w.rank() == x.rank(), [&] { return "W " + w.to_string() + " must have the rank of X " + x.to_string(); });
  const auto group = node_.attr<std::int64_t>("group");
  if (w.rank() >= 2 && group >= 1) { // blocks hold channels padded to whole blocks: W's are the real ones
    x = unpadded(x, x_view, w[1] * group);
    y = unpadded(y, y_view, w[0]);
  }
  const memory::desc x_held = held_desc(x_view, layout_of(x_view), x[1]);
  held_y_ = held_desc(y_view, layout_of(y_view), y[1]);
  require(group >= 1 && w[0] % group == 0 && w[1] * group == x[1], [&] {
    return "W " + w.to_string() + " does not fit X " + x.to_string() + " with group " + std::to_string(group);
  });
  const bool has_bias = inputs.size() > 2 && inputs[2].defined();
  if (has_bias)
    require(inputs[2].shape() == Shape{w[0]},
            [&] { return "B " + inputs[2].shape().to_string() + " must be [" + std::to_string(w[0]) + "]"; });

  const Window window = resolve_window(node_, x, std::vector<std::int64_t>(w.begin() + 2, w.end()));
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

  const bool has_residual = inputs.size() > 3 && inputs[3].defined();
  if (has_residual)
    require(inputs[3].shape() == y_view, [&] {
      return "Z " + inputs[3].shape().to_string() + " must have the output's shape " + y_view.to_string();
    });
  const auto primitive_desc = [&](const memory::desc& src, const memory::desc& dst, Residual residual) {
    dnnl::post_ops post_ops;
    if (residual == Residual::Read) post_ops.append_binary(dnnl::algorithm::binary_add, held_y_);
    if (residual == Residual::Accumulated) post_ops.append_sum(1.0f);
    append_fused_activation(node_, post_ops); // after the residual: act(conv + B + Z)
    dnnl::primitive_attr attr = user_scratchpad();
    attr.set_post_ops(post_ops);
    const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                               src, any(weight_dims), bias, dst, window.strides, dilations,
                                               window.pads_begin, window.pads_end);
    return dnnl::convolution_forward::primitive_desc(desc, attr, engine(), /*allow_empty=*/true);
  };
  // The dst layout decides oneDNN's kernel. A plain dst gets its gemm convolution (a third
  // of the speed of the others here); "any" gets brgconv in nhwc, whose reorder back to
  // Tern's nchw costs twice that of a 16-channel-blocked dst, which is as fast to compute
  // (measured on LeNet and ResNet-18 at batch 1 and 64). Below 16 channels blocking pads.
  // src stays "any": with a handful of input channels oneDNN then reads plain nchw itself.
  // Channels last, src and dst are Tern's tensors as they are (nhwc kernels run as fast
  // as the blocked ones here: scripts/bench_matrix.py), unless oneDNN has no such kernel.
  // On blocks the same: each its blocked kernel.
  // A residual Z (ConvChannelsLast's and ConvBlocked's input 3) is added to each output as
  // it is written, before the activation. oneDNN 2.6's brgconv kernels, the fastest for
  // most nhwc convolutions, take it only as a sum into Y (Z copied there first); the
  // others read it in place (a binary post-op), and forcing that on a brgconv shape slows
  // it by up to a third (ResNet-18's 256-channel 3x3 at batch 64: 120 -> 160 ms). The
  // blocked kernels take the sum.
  dnnl::convolution_forward::primitive_desc pd;
  residual_ = Residual::None;
  if (layout_ != Layout::Plain) { // only the channels-last and blocked Convs take a residual
    residual_ = has_residual ? Residual::Accumulated : Residual::None;
    pd = primitive_desc(x_held, held_y_, residual_);
    const bool summed = pd && !is_reference(pd) &&
                        (layout_ == Layout::Blocks || std::string_view(pd.impl_info_str()).starts_with("brg"));
    if (has_residual && !summed) {
      residual_ = Residual::Read;
      pd = primitive_desc(x_held, held_y_, residual_);
    }
  } else if (y[1] >= 16) {
    pd = primitive_desc(any(dims_of(x)), channel_blocked(dims_of(y)), Residual::None);
  }
  if (!pd || is_reference(pd)) { // a sum would land in a scratch Y: the residual is read in place
    residual_ = has_residual ? Residual::Read : Residual::None;
    pd = primitive_desc(any(dims_of(x)), any(dims_of(y)), residual_);
  }
  require(static_cast<bool>(pd), [&] {
    return "oneDNN has no convolution for X " + x.to_string() + ", W " + w.to_string() + " and these attributes";
  });
  pd_ = pd;
  conv_ = Primitive(pd_);
  src_.prepare(x_held, pd_.src_desc(), ScratchSlot::Source);
  weights_.prepare(plain_desc(weight_dims), pd_.weights_desc());
  args_.clear();
  if (has_bias) args_[DNNL_ARG_BIAS] = unbound(bias);
  if (residual_ == Residual::Read) args_[residual_arg] = unbound(held_y_);
}

void Convolution::execute(std::span<const Tensor> inputs, const dnnl::memory& dst) {
  args_[DNNL_ARG_SRC] = src_.read(inputs[0]);
  args_[DNNL_ARG_WEIGHTS] = weights_.read(inputs[1]);
  args_[DNNL_ARG_DST] = dst;
  if (const auto bias = args_.find(DNNL_ARG_BIAS); bias != args_.end()) bind(bias->second, inputs[2]);
  if (const auto residual = args_.find(residual_arg); residual != args_.end()) bind(residual->second, inputs[3]);
  if (residual_ == Residual::Accumulated) // the sum adds what Y holds: Z, in Y's own layout (see prepare)
    native::copy_bytes(static_cast<const std::byte*>(inputs[3].raw()), static_cast<std::byte*>(dst.get_data_handle()),
                       inputs[3].bytes());
  conv_.execute(args_);
}

} // namespace onednn

namespace {

using namespace onednn;

class ConvKernel final : public DnnlKernel {
public:
  ConvKernel(const Node& node, Layout layout) : DnnlKernel(node), conv_(node, /*fused=*/false, layout) {}

private:
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    const Shape& y = outputs[0].shape();
    conv_.prepare(inputs, y);
    dst_.prepare(conv_.held_y_desc(), conv_.dst_desc(), ScratchSlot::Destination);
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    conv_.execute(inputs, dst_.write(outputs[0]));
    dst_.written();
  }

  std::int64_t multiply_adds(std::span<const Tensor> inputs, std::span<Tensor> outputs) const override {
    return affine_multiply_adds(inputs[1], outputs[0].numel(), inputs[1].shape()[0]);
  }

  Convolution conv_;
  Relayout dst_;
};

} // namespace

std::string conv_support(const KernelQuery& query) {
  if (query.input_shapes.empty()) return {};
  const Shape& x = query.input_shapes[0];
  if (x.rank() < 3 || x.rank() > 5)
    return "the cpu backend convolves 1-, 2- and 3-D inputs (X of rank 3 to 5); X is " + x.to_string();
  return {};
}

std::unique_ptr<Kernel> make_conv(const Node& node) { return std::make_unique<ConvKernel>(node, Layout::Plain); }
std::unique_ptr<Kernel> make_conv_channels_last(const Node& node) {
  return std::make_unique<ConvKernel>(node, Layout::ChannelsLast);
}
std::unique_ptr<Kernel> make_conv_blocked(const Node& node) {
  return std::make_unique<ConvKernel>(node, Layout::Blocks);
}

} // namespace tern::cpu
