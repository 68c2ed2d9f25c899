// Softmax along one axis (opset 13 semantics, the schema's) as oneDNN softmax.
#include "context.hpp"
#include "dnnl_ops.hpp"

namespace tern::cpu {
namespace {

using namespace onednn;

class SoftmaxKernel final : public DnnlKernel {
public:
  explicit SoftmaxKernel(const Node& node) : DnnlKernel(node) {}

private:
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    const Shape& x = inputs[0].shape();
    require(x.rank() >= 1, "X is a scalar; Softmax needs an axis");
    require(outputs[0].shape() == x, [&] { return "Y " + outputs[0].shape().to_string() + " must have X's shape"; });
    const auto axis = static_cast<int>(x.axis(node().attr<std::int64_t>("axis")));
    desc_ = plain_desc(dims_of(x));
    const dnnl::softmax_forward::desc desc(dnnl::prop_kind::forward_inference, desc_, axis);
    softmax_ = Primitive(dnnl::softmax_forward::primitive_desc(desc, user_scratchpad(), engine()));
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    softmax_.execute({{DNNL_ARG_SRC, wrap(desc_, inputs[0])}, {DNNL_ARG_DST, wrap(desc_, outputs[0])}});
  }

  Primitive softmax_;
  dnnl::memory::desc desc_;
};

} // namespace

std::unique_ptr<Kernel> make_softmax(const Node& node) { return std::make_unique<SoftmaxKernel>(node); }

} // namespace tern::cpu
