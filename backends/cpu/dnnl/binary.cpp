// Add, Sub, Mul, Div with numpy broadcasting as oneDNN binary. oneDNN broadcasts src1
// only: when A is the broadcast operand, commutative ops swap A and B; otherwise A is
// first broadcast into Y and the op runs in place on Y (src0 = dst).
// "Add+Relu" (the scheduler's step fusion, core/src/scheduler.cpp) is an Add whose only
// reader is a Relu, as one binary with a relu post-op: ResNet's residual sums, where the
// separate Relu was one more pass over a large activation.
#include "context.hpp"
#include "dnnl_ops.hpp"

namespace tern::cpu {
namespace {

using namespace onednn;

/// Merges each pair of neighbouring axes on which neither operand broadcasts (the same
/// row-major bytes): a squeeze-excitation's scale on channel blocks, [N, C/b, H, W, b] *
/// [N, C/b, 1, 1, b], becomes [N*C/b, H, W, b] * [N*C/b, 1, 1, b], the form of its
/// channels-last [N, H, W, C] * [N, 1, 1, C] that oneDNN's jit binary runs; it ran the
/// rank-5 form by its reference loop, 30 times slower.
void merge_full_axes(Dims& y, Dims& a, Dims& b) {
  for (std::size_t i = 0; i + 1 < y.size();) {
    const bool full = a[i] == y[i] && b[i] == y[i] && a[i + 1] == y[i + 1] && b[i + 1] == y[i + 1];
    if (!full) {
      ++i;
      continue;
    }
    for (Dims* dims : {&y, &a, &b}) {
      (*dims)[i] *= (*dims)[i + 1];
      dims->erase(dims->begin() + static_cast<std::ptrdiff_t>(i) + 1);
    }
  }
}

class BinaryKernel final : public DnnlKernel {
public:
  BinaryKernel(const Node& node, dnnl::algorithm algorithm, bool commutative, bool relu = false)
      : DnnlKernel(node), algorithm_(algorithm), commutative_(commutative), relu_(relu) {}

private:
  enum class Mode { Direct, Swapped, InPlace };

  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    Dims y = dims_of(outputs[0].shape());
    Dims a = left_pad(dims_of(inputs[0].shape()), y.size());
    Dims b = left_pad(dims_of(inputs[1].shape()), y.size());
    const auto fits = [&](const Dims& operand) {
      if (operand.size() != y.size()) return false;
      for (std::size_t i = 0; i < y.size(); ++i)
        if (operand[i] != y[i] && operand[i] != 1) return false;
      return true;
    };
    require(fits(a) && fits(b), [&] {
      return inputs[0].shape().to_string() + " and " + inputs[1].shape().to_string() + " do not broadcast to Y " +
             outputs[0].shape().to_string();
    });
    merge_full_axes(y, a, b);
    mode_ = a == y ? Mode::Direct : b == y && commutative_ ? Mode::Swapped : Mode::InPlace;
    src0_ = plain_desc(mode_ == Mode::Swapped ? b : y);
    src1_ = plain_desc(mode_ == Mode::Swapped ? a : b);
    dst_ = plain_desc(y);
    const dnnl::binary::desc desc(algorithm_, src0_, src1_, dst_);
    dnnl::post_ops post_ops;
    if (relu_) post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    dnnl::primitive_attr attr = user_scratchpad();
    attr.set_post_ops(post_ops);
    binary_ = Primitive(dnnl::binary::primitive_desc(desc, attr, engine()));
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    const dnnl::memory dst = wrap(dst_, outputs[0]);
    dnnl::memory src0 = dst;
    if (mode_ == Mode::InPlace)
      broadcast_into(inputs[0], outputs[0]);
    else
      src0 = wrap(src0_, inputs[mode_ == Mode::Swapped ? 1 : 0]);
    const dnnl::memory src1 = wrap(src1_, inputs[mode_ == Mode::Swapped ? 0 : 1]);
    binary_.execute({{DNNL_ARG_SRC_0, src0}, {DNNL_ARG_SRC_1, src1}, {DNNL_ARG_DST, dst}});
  }

  const dnnl::algorithm algorithm_;
  const bool commutative_;
  const bool relu_; ///< a fused Relu (Add+Relu)
  Mode mode_ = Mode::Direct;
  Primitive binary_;
  dnnl::memory::desc src0_, src1_, dst_;
};

} // namespace

std::unique_ptr<Kernel> make_binary(const Node& node) {
  const std::string& op = node.op_type();
  if (op == "Add") return std::make_unique<BinaryKernel>(node, dnnl::algorithm::binary_add, true);
  if (op == "Sub") return std::make_unique<BinaryKernel>(node, dnnl::algorithm::binary_sub, false);
  if (op == "Mul") return std::make_unique<BinaryKernel>(node, dnnl::algorithm::binary_mul, true);
  if (op == "Div") return std::make_unique<BinaryKernel>(node, dnnl::algorithm::binary_div, false);
  throw Error(op + " is not a binary operator oneDNN runs (Add, Sub, Mul, Div)");
}

std::string add_relu_support(const KernelQuery& query) {
  const Value* sum = query.node.input(0);
  if (sum == nullptr || sum->producer() == nullptr || sum->producer()->op_type() != "Add")
    return "Relu's input is not computed by an Add";
  return {};
}

std::unique_ptr<Kernel> make_add_relu(const Node& relu) {
  return std::make_unique<BinaryKernel>(*relu.input(0)->producer(), dnnl::algorithm::binary_add, true, /*relu=*/true);
}

} // namespace tern::cpu
