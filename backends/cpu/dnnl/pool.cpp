// MaxPool, AveragePool and GlobalAveragePool (1-, 2- and 3-D) as oneDNN pooling_v2 (the
// version with dilations), over Tern's plain tensors; MaxPoolChannelsLast and
// GlobalAveragePoolChannelsLast the same on channels-last X and Y, the Blocked ones on
// channel blocks.
#include "pool.hpp"

#include "dnnl_ops.hpp"
#include "layout.hpp"

#include <tern/channels_last.hpp>
#include <tern/window.hpp>

#include <algorithm>

namespace tern::cpu {
namespace onednn {

Pooling::Pooling(const Node& node, PoolKind kind, const Shape& x, const Shape& y) {
  const std::size_t spatial = x.rank() - 2;
  Window window;
  if (kind == PoolKind::GlobalAverage) {
    window.kernel.assign(x.begin() + 2, x.end());
    window.strides.assign(spatial, 1);
    window.dilations.assign(spatial, 1);
    window.pads_begin.assign(spatial, 0);
    window.pads_end.assign(spatial, 0);
  } else {
    window = resolve_window(node, x, node.attr<std::vector<std::int64_t>>("kernel_shape"));
  }
  const bool include_pad = kind == PoolKind::Average && node.attr<std::int64_t>("count_include_pad") != 0;
  algorithm = kind == PoolKind::Max ? dnnl::algorithm::pooling_max
              : include_pad         ? dnnl::algorithm::pooling_avg_include_padding
                                    : dnnl::algorithm::pooling_avg_exclude_padding;
  strides = window.strides;
  kernel = window.kernel;
  pads_begin = window.pads_begin;

  divisor_fix.assign(spatial, {});
  bool needs_fix = false;
  for (std::size_t a = 0; a < spatial; ++a) {
    dilations.push_back(window.dilations[a] - 1); // oneDNN counts the gaps between taps
    const std::int64_t extent = window.dilations[a] * (window.kernel[a] - 1) + 1;
    const std::int64_t in = x[a + 2], out = y[a + 2], stride = window.strides[a], begin = window.pads_begin[a];
    // The end padding for which floor((in + begin + end - extent) / stride) + 1 == out:
    // larger than the node's under ceil_mode, smaller when floor drops a remainder.
    const std::int64_t end = (out - 1) * stride + extent - in - begin;
    pads_end.push_back(std::max<std::int64_t>(end, 0));
    // count_include_pad divides by the window's part inside input + declared pads (ONNX,
    // PyTorch); oneDNN divides by the whole kernel, also over the extra ceil padding.
    if (include_pad && end > window.pads_end[a]) {
      divisor_fix[a].assign(static_cast<std::size_t>(out), 1.0f);
      for (std::int64_t o = 0; o < out; ++o) {
        const std::int64_t start = o * stride - begin;
        const std::int64_t inside = std::min(start + window.kernel[a], in + window.pads_end[a]) - start;
        divisor_fix[a][static_cast<std::size_t>(o)] = static_cast<float>(window.kernel[a]) / static_cast<float>(inside);
      }
      needs_fix = true;
    }
  }
  if (!needs_fix) divisor_fix.clear();
}

dnnl::pooling_v2_forward::primitive_desc Pooling::primitive_desc(const dnnl::memory::desc& src,
                                                                 const dnnl::memory::desc& dst) const {
  const dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, src, dst, strides, kernel,
                                            dilations, pads_begin, pads_end);
  return dnnl::pooling_v2_forward::primitive_desc(desc, user_scratchpad(), engine());
}

} // namespace onednn

namespace {

using namespace onednn;

class PoolKernel final : public DnnlKernel {
public:
  /// `layout`: how X and Y hold their values, channels last or in blocks for the
  /// ChannelsLast and Blocked pools (never the ceil_mode windows fix_divisors() rescales,
  /// which reads channels first).
  PoolKernel(const Node& node, PoolKind kind, Layout layout = Layout::Plain)
      : DnnlKernel(node), kind_(kind), layout_(layout) {
    // Indices would need a workspace in ONNX's flat-index format; nobody asks for them yet.
    require(node.outputs().size() == 1, "MaxPool's Indices output is not supported by the oneDNN kernel");
  }

private:
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    const Shape& x_view = inputs[0].shape();
    const Shape& y_view = outputs[0].shape();
    require(y_view.rank() == x_view.rank(),
            [&] { return "Y " + y_view.to_string() + " must have the rank of X " + x_view.to_string(); });
    const Shape x = channels_first_of(x_view, layout_);
    const Shape y = channels_first_of(y_view, layout_);
    require(x.rank() >= 3 && x.rank() <= 5,
            [&] { return "X is " + x_view.to_string() + "; oneDNN pools 1-, 2- and 3-D inputs"; });
    const Pooling pooling(node(), kind_, x, y);
    divisor_fix_ = pooling.divisor_fix;
    // Tern's layouts: pooling is bound by memory traffic, so reordering to a blocked layout
    // and back would cost more than any kernel gains; oneDNN's jit pooling takes them all.
    const dnnl::memory::desc src = held_desc(x_view, layout_), dst = held_desc(y_view, layout_);
    src_ = unbound(src);
    dst_ = unbound(dst);
    pool_ = Primitive(pooling.primitive_desc(src, dst));
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    bind(src_, inputs[0]);
    bind(dst_, outputs[0]);
    pool_.execute({{DNNL_ARG_SRC, src_}, {DNNL_ARG_DST, dst_}});
    if (!divisor_fix_.empty()) fix_divisors(outputs[0]);
  }

  /// Rescales the windows that reach into the ceil_mode padding (see prepare()).
  void fix_divisors(Tensor& y) const {
    const Shape& shape = y.shape();
    const std::size_t spatial = divisor_fix_.size();
    std::int64_t plane = 1;
    for (std::size_t a = 0; a < spatial; ++a) plane *= shape[a + 2];
    float* data = y.data<float>();
    for (std::int64_t p = 0; p < plane; ++p) {
      float factor = 1.0f;
      for (std::int64_t rest = p, a = static_cast<std::int64_t>(spatial) - 1; a >= 0; --a) {
        const auto axis = static_cast<std::size_t>(a);
        const std::int64_t o = rest % shape[axis + 2];
        rest /= shape[axis + 2];
        if (!divisor_fix_[axis].empty()) factor *= divisor_fix_[axis][static_cast<std::size_t>(o)];
      }
      if (factor == 1.0f) continue;
      for (std::int64_t nc = 0; nc < shape[0] * shape[1]; ++nc) data[nc * plane + p] *= factor;
    }
  }

  const PoolKind kind_;
  const Layout layout_;
  Primitive pool_;
  dnnl::memory src_, dst_;                      ///< made once per shape, pointed at each run's tensors
  std::vector<std::vector<float>> divisor_fix_; ///< per axis, per output index; empty: none
};

} // namespace

std::string pool_support(const KernelQuery& query) {
  // Indices would need a workspace in ONNX's flat-index format; nobody asks for them yet.
  if (query.node.op_type() == "MaxPool" && query.node.outputs().size() != 1)
    return "MaxPool's Indices output is not supported on cpu";
  if (query.input_shapes.empty()) return {};
  const Shape& x = query.input_shapes[0];
  if (x.rank() < 3 || x.rank() > 5)
    return "the cpu backend pools 1-, 2- and 3-D inputs (X of rank 3 to 5); X is " + x.to_string();
  return {};
}

std::unique_ptr<Kernel> make_max_pool(const Node& node) { return std::make_unique<PoolKernel>(node, PoolKind::Max); }
std::unique_ptr<Kernel> make_max_pool_channels_last(const Node& node) {
  return std::make_unique<PoolKernel>(node, PoolKind::Max, Layout::ChannelsLast);
}
std::unique_ptr<Kernel> make_max_pool_blocked(const Node& node) {
  return std::make_unique<PoolKernel>(node, PoolKind::Max, Layout::Blocks);
}
std::unique_ptr<Kernel> make_average_pool(const Node& node) {
  return std::make_unique<PoolKernel>(node, PoolKind::Average);
}
std::unique_ptr<Kernel> make_global_average_pool(const Node& node) {
  return std::make_unique<PoolKernel>(node, PoolKind::GlobalAverage);
}
std::unique_ptr<Kernel> make_global_average_pool_channels_last(const Node& node) {
  return std::make_unique<PoolKernel>(node, PoolKind::GlobalAverage, Layout::ChannelsLast);
}
std::unique_ptr<Kernel> make_global_average_pool_blocked(const Node& node) {
  return std::make_unique<PoolKernel>(node, PoolKind::GlobalAverage, Layout::Blocks);
}

} // namespace tern::cpu
