// Activations and unary math (Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish,
// Tanh, Exp, Sqrt, Abs, Neg) as oneDNN eltwise over the tensor seen as 1-D: layout does
// not matter elementwise. An op of several steps (HardSigmoid) runs the later ones in place.
#include "context.hpp"
#include "dnnl_ops.hpp"

#include <limits>

namespace tern::cpu {
namespace {

using namespace onednn;

class EltwiseKernel final : public DnnlKernel {
public:
  explicit EltwiseKernel(const Node& node) : DnnlKernel(node) {
    // Fail when the plan is compiled, not on the first run, for an op without a mapping.
    if (node.op_type() != "Clip") (void)steps_for({});
  }

private:
  /// Clip's bounds come from its optional inputs 1 (min) and 2 (max); absent = unbounded.
  std::pair<float, float> clip_bounds(std::span<const Tensor> inputs) const {
    float bound[2] = {std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max()};
    for (std::size_t i = 1; i <= 2; ++i) {
      if (inputs.size() <= i || !inputs[i].defined()) continue;
      require(inputs[i].numel() == 1, [&] {
        return "Clip's input " + std::to_string(i) + " is " + inputs[i].shape().to_string() + ", not a single value";
      });
      bound[i - 1] = inputs[i].data<float>()[0];
    }
    return {bound[0], bound[1]};
  }

  std::vector<EltwiseStep> steps_for(std::span<const Tensor> inputs) const {
    const std::string& op = node().op_type();
    if (op == "Clip") {
      const auto [low, high] = clip_bounds(inputs);
      return activation_steps(op, low, high);
    }
    if (op == "LeakyRelu") return activation_steps(op, static_cast<float>(node().attr<double>("alpha")), 0.0f);
    if (op == "HardSigmoid")
      return activation_steps(op, static_cast<float>(node().attr<double>("alpha")),
                              static_cast<float>(node().attr<double>("beta")));
    return activation_steps(op, 0.0f, 0.0f);
  }

  // Clip's bounds are baked into the primitive: new values (computed bounds) rebuild it.
  bool stale(std::span<const Tensor> inputs) const override {
    return node().op_type() == "Clip" && clip_bounds(inputs) != bounds_;
  }

  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    require(outputs[0].numel() == inputs[0].numel(), [&] {
      return "Y " + outputs[0].shape().to_string() + " must have X's shape " + inputs[0].shape().to_string();
    });
    if (node().op_type() == "Clip") bounds_ = clip_bounds(inputs);
    desc_ = plain_desc({inputs[0].numel()});
    src_ = unbound(desc_);
    dst_ = unbound(desc_);
    primitives_.clear();
    for (const EltwiseStep& step : steps_for(inputs)) {
      const dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, step.algorithm, desc_, step.alpha,
                                             step.beta);
      primitives_.emplace_back(dnnl::eltwise_forward::primitive_desc(desc, user_scratchpad(), engine()));
    }
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    bind(src_, inputs[0]);
    bind(dst_, outputs[0]);
    for (std::size_t i = 0; i < primitives_.size(); ++i)
      primitives_[i].execute({{DNNL_ARG_SRC, i == 0 ? src_ : dst_}, {DNNL_ARG_DST, dst_}});
  }

  dnnl::memory::desc desc_;
  dnnl::memory src_, dst_; ///< made once per shape, pointed at each run's tensors
  std::vector<Primitive> primitives_;
  std::pair<float, float> bounds_;
};

} // namespace

std::unique_ptr<Kernel> make_eltwise(const Node& node) { return std::make_unique<EltwiseKernel>(node); }

} // namespace tern::cpu
