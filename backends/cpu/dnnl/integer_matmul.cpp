// Integer Gemm and MatMul (int8/uint8 A, int8 B, Gemm's optional int32 bias C; see the
// core's integer_affine.hpp) as one oneDNN int8 matmul, on CPUs where that is exact
// (integer_support.hpp). As for Conv: dst int32, or requantized in the primitive when the
// float32 bias sum is provably exact, else int32 into a kernel-owned tensor and the native
// requantization after it. A constant B is packed once into oneDNN's layout.
//   Gemm: A (untransposed) read as [rows, rest]; transB as strides; C is [N] or [1, N].
//   MatMul: numpy promotion of 1-D operands, batch dimensions broadcast by oneDNN.
#include "context.hpp"
#include "dnnl_ops.hpp"
#include "integer_support.hpp"
#include "layout.hpp"

#include <algorithm>
#include <unordered_map>

namespace tern::cpu {
namespace {

using namespace onednn;
using dnnl::memory;

class IntegerMatMulKernel final : public DnnlKernel {
public:
  IntegerMatMulKernel(const Node& node, bool gemm)
      : DnnlKernel(node, {DataType::Int8, DataType::UInt8, DataType::Int32}), gemm_(gemm),
        b_(constant_input(node, 1) != nullptr), requantization_(native::requantization_of(node, "requantize_")) {}

private:
  /// A, B (plain, B possibly transposed through strides) and Y dims of equal rank.
  struct Operands {
    Dims a, b, y;
    memory::desc b_plain;
    bool trans_b = false;
  };

  Operands gemm_operands(const Shape& a, const Shape& b) const {
    require(a.rank() >= 2 && b.rank() == 2,
            [&] { return "A " + a.to_string() + " and B " + b.to_string() + ": expected A of rank >= 2 and 2-D B"; });
    Operands o;
    const std::int64_t m = a[0], k = a.numel() / std::max<std::int64_t>(m, 1);
    o.trans_b = node().attr<std::int64_t>("transB") != 0;
    const std::int64_t n = o.trans_b ? b[0] : b[1];
    require((o.trans_b ? b[1] : b[0]) == k,
            [&] { return "inner dimensions of A " + a.to_string() + " and B " + b.to_string() + " differ"; });
    o.a = {m, k};
    o.b = {k, n};
    o.y = {m, n};
    o.b_plain = memory::desc(o.b, memory::data_type::s8, o.trans_b ? Dims{1, k} : Dims{n, 1});
    return o;
  }

  Operands matmul_operands(const Shape& as, const Shape& bs) const {
    require(as.rank() >= 1 && bs.rank() >= 1, "MatMul's operands must be at least 1-D");
    Operands o;
    o.a = dims_of(as);
    o.b = dims_of(bs);
    if (as.rank() == 1) o.a.insert(o.a.begin(), 1);
    if (bs.rank() == 1) o.b.push_back(1);
    const std::size_t rank = std::max(o.a.size(), o.b.size());
    require(rank <= DNNL_MAX_NDIMS,
            [&] { return "MatMul of rank " + std::to_string(rank) + " exceeds oneDNN's limit"; });
    o.a = left_pad(std::move(o.a), rank);
    o.b = left_pad(std::move(o.b), rank);
    require(o.a[rank - 1] == o.b[rank - 2],
            [&] { return "inner dimensions of " + as.to_string() + " and " + bs.to_string() + " differ"; });
    o.y.resize(rank);
    for (std::size_t i = 0; i + 2 < rank; ++i) {
      require(o.a[i] == o.b[i] || o.a[i] == 1 || o.b[i] == 1,
              [&] { return "batch dimensions of " + as.to_string() + " and " + bs.to_string() + " do not broadcast"; });
      o.y[i] = std::max(o.a[i], o.b[i]);
    }
    o.y[rank - 2] = o.a[rank - 2];
    o.y[rank - 1] = o.b[rank - 1];
    o.b_plain = plain_desc(o.b, memory::data_type::s8);
    return o;
  }

  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    require(inputs[0].dtype() != DataType::Int32 && inputs[1].dtype() == DataType::Int8, [&] {
      return "expected int8/uint8 A and int8 B, got " + inputs[0].describe() + " and " + inputs[1].describe();
    });
    const Operands o = gemm_ ? gemm_operands(inputs[0].shape(), inputs[1].shape())
                             : matmul_operands(inputs[0].shape(), inputs[1].shape());
    const std::size_t rank = o.y.size();
    const std::int64_t k = o.a[rank - 1], n = o.y[rank - 1];
    std::int64_t count = 1;
    for (const std::int64_t d : o.y) count *= d;
    require(count == outputs[0].numel(), [&] {
      return "Y is " + outputs[0].shape().to_string() + ", expected " + std::to_string(count) + " elements";
    });
    const DataType y_type = requantization_ ? requantization_->to : DataType::Int32;
    require(outputs[0].dtype() == y_type,
            [&] { return "Y is " + outputs[0].describe() + ", expected " + std::string(name(y_type)); });
    const bool has_bias = inputs.size() > 2 && inputs[2].defined();
    if (has_bias)
      require(inputs[2].dtype() == DataType::Int32 && inputs[2].numel() == n,
              [&] { return "C is " + inputs[2].describe() + "; expected " + std::to_string(n) + " int32 biases"; });

    const std::int64_t x_max = inputs[0].dtype() == DataType::UInt8 ? 255 : 128;
    // Per output column n: B's taps are k = 0..K-1, laid out as transB says.
    in_primitive_ =
        requantization_ && (!has_bias || bias_sum_exact(constant_input(node(), 1), constant_input(node(), 2), n, k,
                                                        o.trans_b ? k : 1, o.trans_b ? 1 : n, x_max));
    const memory::data_type y_dnnl = in_primitive_ ? dnnl_type(y_type) : memory::data_type::s32;
    const memory::desc a_desc = plain_desc(o.a, dnnl_type(inputs[0].dtype())), y_desc = plain_desc(o.y, y_dnnl);
    Dims bias_dims(rank, 1);
    bias_dims.back() = n;
    const memory::desc bias = has_bias ? plain_desc(bias_dims, memory::data_type::s32) : memory::desc();
    const dnnl::primitive_attr attr = user_scratchpad(
        in_primitive_ ? requantize_attr(*requantization_, static_cast<int>(rank) - 1) : dnnl::primitive_attr());
    const memory::desc b_desc = b_.constant() ? any(o.b, memory::data_type::s8) : o.b_plain;
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_desc, b_desc, bias, y_desc), attr, engine());
    matmul_ = Primitive(pd);
    b_.prepare(o.b_plain, pd.weights_desc());
    args_ = {{DNNL_ARG_SRC, unbound(a_desc)}, {DNNL_ARG_DST, unbound(y_desc)}};
    if (has_bias) args_[DNNL_ARG_BIAS] = unbound(bias);
    accumulators_ = requantization_ && !in_primitive_ ? Tensor(outputs[0].shape(), DataType::Int32) : Tensor();
    channels_ = n;
  }

  std::int64_t multiply_adds(std::span<const Tensor> inputs, std::span<Tensor> outputs) const override {
    return matmul_multiply_adds(inputs[1], outputs[0]);
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    Tensor& target = accumulators_.defined() ? accumulators_ : outputs[0];
    bind(args_[DNNL_ARG_SRC], inputs[0]);
    bind(args_[DNNL_ARG_DST], target);
    if (const auto bias = args_.find(DNNL_ARG_BIAS); bias != args_.end()) bind(bias->second, inputs[2]);
    args_[DNNL_ARG_WEIGHTS] = b_.read(inputs[1]);
    matmul_.execute(args_);
    if (!accumulators_.defined()) return;
    native::requantize(*requantization_, accumulators_, outputs[0], channels_, 1);
  }

  const bool gemm_;
  Primitive matmul_;
  WeightsOperand b_;
  const std::optional<native::Requantization> requantization_;
  bool in_primitive_ = false;
  Tensor accumulators_; ///< int32 Y when requantizing after the primitive, else undefined
  std::int64_t channels_ = 1;
  std::unordered_map<int, memory> args_; ///< kept between runs: only the buffers change
};

} // namespace

std::unique_ptr<Kernel> make_integer_gemm(const Node& node) {
  return std::make_unique<IntegerMatMulKernel>(node, true);
}

std::unique_ptr<Kernel> make_integer_matmul(const Node& node) {
  return std::make_unique<IntegerMatMulKernel>(node, false);
}

} // namespace tern::cpu
