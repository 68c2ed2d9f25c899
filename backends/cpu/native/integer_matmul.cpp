// Integer Gemm and MatMul on CPUs whose int8 oneDNN kernels are not exact (no VNNI; see
// integer_conv.cpp). Exact int32 accumulation: each output row is built by adding scaled
// rows of B, so the innermost loop runs along contiguous memory (B is packed row-major
// once per run when transposed). Gemm: A untransposed ([rows, rest] for rank > 2), optional
// transB and int32 bias C ([N] or [1, N]). MatMul: numpy promotion and batch broadcasting.
// Both with an optional fused requantization per tensor or per output column.
#include "native/common.hpp"
#include "native/native_ops.hpp"
#include "native/requantize.hpp"

#include <algorithm>
#include <type_traits>

namespace tern::cpu {
namespace {

/// A batch of [m, k] x [k, n] products; B is row-major [k, n] in `b` after packing.
struct Products {
  std::int64_t m = 0, k = 0, n = 0;
  std::vector<std::int64_t> a_offsets, b_offsets; ///< per output matrix, in elements
};

class IntegerMatMulKernel final : public Kernel {
public:
  IntegerMatMulKernel(const Node& node, bool gemm)
      : node_(node), gemm_(gemm), requantization_(native::requantization_of(node, "requantize_")) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 2, gemm_ ? 3 : 2, 1, 1);
    const Tensor& a = inputs[0];
    const Tensor& b = inputs[1];
    native::require(node_, a.dtype() == DataType::Int8 || a.dtype() == DataType::UInt8,
                    "A is " + a.describe() + ", expected int8 or uint8");
    native::require_dtype(node_, b, DataType::Int8, "B");
    native::require_dtype(node_, outputs[0], requantization_ ? requantization_->to : DataType::Int32, "Y");
    const Products p = gemm_ ? gemm_products(a.shape(), b) : matmul_products(a.shape(), b);
    native::require(node_, static_cast<std::int64_t>(p.a_offsets.size()) * p.m * p.n == outputs[0].numel(),
                    "Y " + outputs[0].shape().to_string() + " does not hold the product");
    const std::int32_t* bias = nullptr;
    if (inputs.size() > 2 && inputs[2].defined()) {
      native::require_dtype(node_, inputs[2], DataType::Int32, "C");
      native::require(node_, inputs[2].numel() == p.n,
                      "C " + inputs[2].shape().to_string() + " must hold " + std::to_string(p.n) + " biases");
      bias = inputs[2].data<std::int32_t>();
    }
    const std::int8_t* b_rows = packed_ ? packed_->data<std::int8_t>() : b.data<std::int8_t>();
    dispatch(a.dtype(), [&](auto a_tag) {
      using A = typename decltype(a_tag)::type;
      if constexpr (std::is_same_v<A, std::int8_t> || std::is_same_v<A, std::uint8_t>) {
        dispatch(outputs[0].dtype(), [&](auto y_tag) {
          using Y = typename decltype(y_tag)::type;
          if constexpr (std::is_same_v<Y, std::int32_t> || std::is_same_v<Y, std::int8_t> ||
                        std::is_same_v<Y, std::uint8_t>)
            multiply(p, a.data<A>(), b_rows, bias, outputs[0].data<Y>());
        });
      }
    });
  }

private:
  /// Gemm: A read as [rows, rest]; a transposed B is packed into row-major [K, N].
  Products gemm_products(const Shape& a, const Tensor& b) {
    const Shape& bs = b.shape();
    native::require(node_, a.rank() >= 2 && bs.rank() == 2,
                    "A " + a.to_string() + " and B " + bs.to_string() + ": expected A of rank >= 2 and 2-D B");
    Products p;
    p.m = a[0];
    p.k = a.numel() / std::max<std::int64_t>(p.m, 1);
    const bool trans_b = node_.attr<std::int64_t>("transB") != 0;
    p.n = trans_b ? bs[0] : bs[1];
    native::require(node_, (trans_b ? bs[1] : bs[0]) == p.k,
                    "inner dimensions of A " + a.to_string() + " and B " + bs.to_string() + " differ");
    p.a_offsets = {0};
    p.b_offsets = {0};
    packed_.reset();
    if (trans_b) {
      packed_ = Tensor(Shape{p.k, p.n}, DataType::Int8);
      const std::int8_t* src = b.data<std::int8_t>();
      std::int8_t* dst = packed_->data<std::int8_t>();
      for (std::int64_t j = 0; j < p.n; ++j)
        for (std::int64_t i = 0; i < p.k; ++i) dst[i * p.n + j] = src[j * p.k + i];
    }
    return p;
  }

  /// MatMul: 1-D operands promoted, batch dimensions broadcast (offsets per output matrix).
  Products matmul_products(const Shape& as, const Tensor& b) const {
    std::vector<std::int64_t> a = as.dims(), bd = b.shape().dims();
    native::require(node_, !a.empty() && !bd.empty(), "MatMul's operands must be at least 1-D");
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (bd.size() == 1) bd.push_back(1);
    const std::size_t rank = std::max(a.size(), bd.size());
    a.insert(a.begin(), rank - a.size(), 1);
    bd.insert(bd.begin(), rank - bd.size(), 1);
    Products p;
    p.m = a[rank - 2];
    p.k = a[rank - 1];
    p.n = bd[rank - 1];
    native::require(node_, bd[rank - 2] == p.k,
                    "inner dimensions of " + as.to_string() + " and " + b.shape().to_string() + " differ");
    // Walk the broadcast batch dimensions with an odometer; a broadcast operand stays put.
    std::int64_t count = 1;
    std::vector<std::int64_t> batch(rank - 2);
    for (std::size_t d = 0; d + 2 < rank; ++d) {
      native::require(node_, a[d] == bd[d] || a[d] == 1 || bd[d] == 1,
                      "batch dimensions of " + as.to_string() + " and " + b.shape().to_string() + " do not broadcast");
      batch[d] = std::max(a[d], bd[d]);
      count *= batch[d];
    }
    std::vector<std::int64_t> index(batch.size(), 0);
    for (std::int64_t i = 0; i < count; ++i) {
      std::int64_t a_offset = 0, b_offset = 0, a_stride = p.m * p.k, b_stride = p.k * p.n;
      for (std::size_t d = batch.size(); d-- > 0;) {
        if (a[d] != 1) a_offset += index[d] * a_stride;
        if (bd[d] != 1) b_offset += index[d] * b_stride;
        a_stride *= a[d];
        b_stride *= bd[d];
      }
      p.a_offsets.push_back(a_offset);
      p.b_offsets.push_back(b_offset);
      for (std::size_t d = batch.size(); d-- > 0;) {
        if (++index[d] < batch[d]) break;
        index[d] = 0;
      }
    }
    return p;
  }

  template <class A, class Y>
  void multiply(const Products& p, const A* a, const std::int8_t* b, const std::int32_t* bias, Y* y) const {
    const auto matrices = static_cast<std::int64_t>(p.a_offsets.size());
    const native::Requantization* r = requantization_ ? &*requantization_ : nullptr;
#pragma omp parallel
    {
      std::vector<std::int32_t> row(static_cast<std::size_t>(p.n));
#pragma omp for collapse(2)
      for (std::int64_t t = 0; t < matrices; ++t) {
        for (std::int64_t i = 0; i < p.m; ++i) {
          const A* a_row = a + p.a_offsets[static_cast<std::size_t>(t)] + i * p.k;
          const std::int8_t* b_matrix = b + p.b_offsets[static_cast<std::size_t>(t)];
          for (std::int64_t j = 0; j < p.n; ++j) row[static_cast<std::size_t>(j)] = bias ? bias[j] : 0;
          for (std::int64_t k = 0; k < p.k; ++k) {
            const auto factor = static_cast<std::int32_t>(a_row[k]);
            const std::int8_t* b_row = b_matrix + k * p.n;
            for (std::int64_t j = 0; j < p.n; ++j) row[static_cast<std::size_t>(j)] += factor * b_row[j];
          }
          Y* out = y + (t * p.m + i) * p.n;
          for (std::int64_t j = 0; j < p.n; ++j) {
            const std::int32_t acc = row[static_cast<std::size_t>(j)];
            out[j] = r ? static_cast<Y>(r->apply(static_cast<float>(acc), static_cast<std::size_t>(j)))
                       : static_cast<Y>(acc);
          }
        }
      }
    }
  }

  const Node& node_;
  const bool gemm_;
  const std::optional<native::Requantization> requantization_;
  std::optional<Tensor> packed_; ///< a transposed Gemm B as row-major [K, N]
};

} // namespace

std::unique_ptr<Kernel> make_native_integer_gemm(const Node& node) {
  return std::make_unique<IntegerMatMulKernel>(node, true);
}
std::unique_ptr<Kernel> make_native_integer_matmul(const Node& node) {
  return std::make_unique<IntegerMatMulKernel>(node, false);
}

} // namespace tern::cpu
