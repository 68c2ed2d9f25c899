// BatchNormalization (inference) as oneDNN batch normalization with the given statistics
// (use_global_stats) and separate scale and shift. Any rank >= 2 is seen as [N, C, rest].
#include "context.hpp"
#include "dnnl_ops.hpp"

namespace tern::cpu {
namespace {

using namespace onednn;

class BatchNormKernel final : public DnnlKernel {
public:
  explicit BatchNormKernel(const Node& node) : DnnlKernel(node) {}

private:
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    const Shape& x = inputs[0].shape();
    require(x.rank() >= 2, [&] { return "X is " + x.to_string() + "; expected [N, C, ...]"; });
    require(outputs[0].shape() == x, [&] { return "Y " + outputs[0].shape().to_string() + " must have X's shape"; });
    for (std::size_t i = 1; i <= 4; ++i)
      require(inputs.size() > i && inputs[i].defined() && inputs[i].shape() == Shape{x[1]}, [&] {
        return "input " + std::to_string(i) + " must hold one value per channel (" + std::to_string(x[1]) + ")";
      });
    // Flattening the spatial axes keeps the bytes and lets oneDNN take any rank, as 2-D
    // images [N, C, rest, 1]: oneDNN 2.6's jit kernels take those; [N, C, rest] got its
    // reference loop, 15 times slower (61 % of float DenseNet-121, its pre-activation BNs).
    std::int64_t rest = 1;
    for (std::size_t i = 2; i < x.rank(); ++i) rest *= x[i];
    data_ = plain_desc({x[0], x[1], rest, 1});
    channel_ = plain_desc({x[1]});
    const auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
                       dnnl::normalization_flags::use_shift;
    const dnnl::batch_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, data_,
                                                       static_cast<float>(node().attr<double>("epsilon")), flags);
    bn_ = Primitive(dnnl::batch_normalization_forward::primitive_desc(desc, user_scratchpad(), engine()));
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    bn_.execute({{DNNL_ARG_SRC, wrap(data_, inputs[0])},
                 {DNNL_ARG_SCALE, wrap(channel_, inputs[1])},
                 {DNNL_ARG_SHIFT, wrap(channel_, inputs[2])},
                 {DNNL_ARG_MEAN, wrap(channel_, inputs[3])},
                 {DNNL_ARG_VARIANCE, wrap(channel_, inputs[4])},
                 {DNNL_ARG_DST, wrap(data_, outputs[0])}});
  }

  Primitive bn_;
  dnnl::memory::desc data_, channel_;
};

} // namespace

std::unique_ptr<Kernel> make_batch_normalization(const Node& node) { return std::make_unique<BatchNormKernel>(node); }

} // namespace tern::cpu
