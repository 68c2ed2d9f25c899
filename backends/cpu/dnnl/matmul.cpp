// Gemm and MatMul as the oneDNN matmul primitive.
//   Gemm: Y = act(alpha * A' B' + beta * C). Transposes are strides on A and B (no copy;
//   a constant B is packed once into oneDNN's layout instead, see layout.hpp);
//   alpha is the output scale; beta * C is a sum post-op over Y, into which C was first
//   broadcast (oneDNN's bias is added before the scale, so it cannot carry beta * C),
//   except for the common C = one row of N with alpha = beta = 1: oneDNN's bias, which
//   saves that single-threaded broadcast and is the same one addition as the sum post-op.
//   A of rank > 2 is read as [dim0, rest] (Tern's Gemm extension), which is what a
//   Flatten(axis=1) before it makes: "Flatten+Gemm" (the scheduler's step fusion,
//   core/src/scheduler.cpp) runs the Gemm on the Flatten's input and saves that copy.
//   MatMul: numpy semantics; 1-D operands are promoted, batch dimensions are aligned from
//   the right and broadcast by oneDNN itself.
#include "context.hpp"
#include "dnnl_ops.hpp"
#include "layout.hpp"

#include <algorithm>
#include <unordered_map>

namespace tern::cpu {
namespace {

using namespace onednn;
using dnnl::memory;

/// True when input `index` of `node` is an initializer: its weights can be packed once.
bool constant_input(const Node& node, std::size_t index) {
  return node.inputs().size() > index && node.input(index) != nullptr && node.input(index)->constant() != nullptr;
}

class GemmKernel final : public DnnlKernel {
public:
  explicit GemmKernel(const Node& node) : DnnlKernel(node), b_(constant_input(node, 1)) {}

private:
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    const Shape& a = inputs[0].shape();
    const Shape& b = inputs[1].shape();
    const bool trans_a = node().attr<std::int64_t>("transA") != 0;
    const bool trans_b = node().attr<std::int64_t>("transB") != 0;
    require(a.rank() >= 2 && (a.rank() == 2 || !trans_a),
            [&] { return "A is " + a.to_string() + "; expected 2-D (or more without transA)"; });
    require(b.rank() == 2, [&] { return "B is " + b.to_string() + "; expected 2-D"; });
    const std::int64_t rows = a[0], cols = inputs[0].numel() / std::max<std::int64_t>(rows, 1);
    const std::int64_t m = trans_a ? cols : rows, k = trans_a ? rows : cols;
    const std::int64_t n = trans_b ? b[0] : b[1];
    require((trans_b ? b[1] : b[0]) == k,
            [&] { return "inner dimensions of A " + a.to_string() + " and B " + b.to_string() + " differ"; });
    require(outputs[0].shape() == Shape{m, n}, [&] {
      return "Y is " + outputs[0].shape().to_string() + ", expected [" + std::to_string(m) + "," + std::to_string(n) +
             "]";
    });
    has_c_ = inputs.size() > 2 && inputs[2].defined() && node().attr<double>("beta") != 0.0;
    if (has_c_)
      require(inputs[2].shape().rank() <= 2,
              [&] { return "C " + inputs[2].shape().to_string() + " must be at most 2-D"; });
    const auto alpha = static_cast<float>(node().attr<double>("alpha"));
    const auto beta = static_cast<float>(node().attr<double>("beta"));
    c_is_bias_ = has_c_ && alpha == 1.0f && beta == 1.0f && inputs[2].numel() == n &&
                 (inputs[2].shape().rank() == 1 || inputs[2].shape()[0] == 1);

    const auto strided = [](std::int64_t r, std::int64_t c, bool transposed) {
      return memory::desc({r, c}, memory::data_type::f32, transposed ? Dims{1, r} : Dims{c, 1});
    };
    const memory::desc a_desc = strided(m, k, trans_a), b_desc = strided(k, n, trans_b), y_desc = plain_desc({m, n});

    dnnl::primitive_attr attr = user_scratchpad();
    if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
    dnnl::post_ops post_ops;
    if (has_c_ && !c_is_bias_) post_ops.append_sum(beta);
    append_fused_activation(node(), post_ops);
    attr.set_post_ops(post_ops);
    // Constant B in the layout oneDNN picks (packed once): brgemm otherwise copies B into
    // that layout on every run. Computed B stays as it is, a reorder would cost the same.
    const memory::desc weights = b_.constant() ? any({k, n}) : b_desc;
    const memory::desc bias = c_is_bias_ ? plain_desc({1, n}) : memory::desc();
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_desc, weights, bias, y_desc), attr, engine());
    matmul_ = Primitive(pd);
    b_.prepare(b_desc, pd.weights_desc());
    args_ = {{DNNL_ARG_SRC, unbound(a_desc)}, {DNNL_ARG_DST, unbound(y_desc)}};
    if (c_is_bias_) args_[DNNL_ARG_BIAS] = unbound(bias);
  }

  std::int64_t multiply_adds(std::span<const Tensor> inputs, std::span<Tensor> outputs) const override {
    return matmul_multiply_adds(inputs[1], outputs[0]);
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    if (c_is_bias_)
      bind(args_[DNNL_ARG_BIAS], inputs[2]);
    else if (has_c_)
      broadcast_into(inputs[2], outputs[0]); // the sum post-op reads it back
    bind(args_[DNNL_ARG_SRC], inputs[0]);
    bind(args_[DNNL_ARG_DST], outputs[0]);
    args_[DNNL_ARG_WEIGHTS] = b_.read(inputs[1]);
    matmul_.execute(args_);
  }

  bool has_c_ = false;
  bool c_is_bias_ = false; ///< C added as oneDNN's bias instead of broadcast + sum
  Primitive matmul_;
  WeightsOperand b_;
  std::unordered_map<int, memory> args_; ///< kept between runs: only the buffers change
};

class MatMulKernel final : public DnnlKernel {
public:
  explicit MatMulKernel(const Node& node) : DnnlKernel(node) {}

private:
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    Dims a = dims_of(inputs[0].shape());
    Dims b = dims_of(inputs[1].shape());
    require(inputs[0].shape().rank() >= 1 && inputs[1].shape().rank() >= 1, "MatMul's operands must be at least 1-D");
    if (inputs[0].shape().rank() == 1) a.insert(a.begin(), 1); // a row [1, K]
    if (inputs[1].shape().rank() == 1) b.push_back(1);         // a column [K, 1]
    const std::size_t rank = std::max(a.size(), b.size());
    require(rank <= DNNL_MAX_NDIMS,
            [&] { return "MatMul of rank " + std::to_string(rank) + " exceeds oneDNN's limit"; });
    a = left_pad(std::move(a), rank);
    b = left_pad(std::move(b), rank);
    require(a[rank - 1] == b[rank - 2], [&] {
      return "inner dimensions of " + inputs[0].shape().to_string() + " and " + inputs[1].shape().to_string() +
             " differ";
    });
    Dims y(rank);
    for (std::size_t i = 0; i + 2 < rank; ++i) {
      require(a[i] == b[i] || a[i] == 1 || b[i] == 1, [&] {
        return "batch dimensions of " + inputs[0].shape().to_string() + " and " + inputs[1].shape().to_string() +
               " do not broadcast";
      });
      y[i] = std::max(a[i], b[i]);
    }
    y[rank - 2] = a[rank - 2];
    y[rank - 1] = b[rank - 1];
    // Y drops the promoted dimensions, which leaves its row-major bytes unchanged.
    std::int64_t count = 1;
    for (const std::int64_t d : y) count *= d;
    require(count == outputs[0].numel(), [&] {
      return "Y is " + outputs[0].shape().to_string() + ", expected " + std::to_string(count) + " elements";
    });
    a_ = plain_desc(a);
    b_ = plain_desc(b);
    y_ = plain_desc(y);
    matmul_ = Primitive(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_, b_, y_), user_scratchpad(), engine()));
  }

  std::int64_t multiply_adds(std::span<const Tensor> inputs, std::span<Tensor> outputs) const override {
    return matmul_multiply_adds(inputs[1], outputs[0]);
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    matmul_.execute({{DNNL_ARG_SRC, wrap(a_, inputs[0])},
                     {DNNL_ARG_WEIGHTS, wrap(b_, inputs[1])},
                     {DNNL_ARG_DST, wrap(y_, outputs[0])}});
  }

  Primitive matmul_;
  memory::desc a_, b_, y_;
};

} // namespace

std::unique_ptr<Kernel> make_gemm(const Node& node) { return std::make_unique<GemmKernel>(node); }

std::string flatten_gemm_support(const KernelQuery& query) {
  const Node& gemm = query.node;
  const Value* a = gemm.input(0);
  const Node* flatten = a != nullptr ? a->producer() : nullptr;
  if (flatten == nullptr || flatten->op_type() != "Flatten") return "Gemm's A is not computed by a Flatten";
  // The Gemm kernel reads an A of rank > 2 as [dim0, rest]: what Flatten(axis=1) makes.
  if (const auto axis = flatten->attr<std::int64_t>("axis"); axis != 1)
    return "the fused kernel reads A as Flatten(axis=1) makes it, not axis " + std::to_string(axis);
  if (gemm.attr<std::int64_t>("transA") != 0) return "Gemm transposes A (transA), which the fused kernel cannot";
  if (!query.input_shapes.empty() && query.input_shapes[0].rank() < 2)
    return "Flatten's input " + query.input_shapes[0].to_string() + " is not of rank 2 or more";
  return {};
}

std::unique_ptr<Kernel> make_flatten_gemm(const Node& gemm) { return std::make_unique<GemmKernel>(gemm); }
std::unique_ptr<Kernel> make_matmul(const Node& node) { return std::make_unique<MatMulKernel>(node); }

} // namespace tern::cpu
