// Integer Gemm and MatMul on CPUs whose int8 oneDNN kernels are not exact (no VNNI; see
// integer_conv.cpp). Exact int32 accumulation. Gemm: B packed once (int8_gemm's int16
// pairs) and multiplied by 16 rows of A at a time; A untransposed ([rows, rest] for rank >
// 2), optional transB and int32 bias C ([N] or [1, N]). MatMul (numpy promotion, batch
// broadcasting; rarer in quantized networks): each output row built by adding scaled rows
// of B along contiguous memory. Both with an optional fused requantization per tensor or
// per output column.
#include "native/common.hpp"
#include "native/int8_gemm.hpp"
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
    dispatch(a.dtype(), [&](auto a_tag) {
      using A = typename decltype(a_tag)::type;
      if constexpr (std::is_same_v<A, std::int8_t> || std::is_same_v<A, std::uint8_t>) {
        dispatch(outputs[0].dtype(), [&](auto y_tag) {
          using Y = typename decltype(y_tag)::type;
          if constexpr (std::is_same_v<Y, std::int32_t> || std::is_same_v<Y, std::int8_t> ||
                        std::is_same_v<Y, std::uint8_t>) {
            if (gemm_)
              multiply_gemm(p, a.data<A>(), b.data<std::int8_t>(), bias, outputs[0].data<Y>());
            else
              multiply(p, a.data<A>(), b.data<std::int8_t>(), bias, outputs[0].data<Y>());
          }
        });
      }
    });
  }

private:
  /// Gemm: A read as [rows, rest], B as [K, N] (or [N, K] with transB).
  Products gemm_products(const Shape& a, const Tensor& b) const {
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

  /// Gemm: the packed B^T (row j = output column j) times blocks of 16 rows of A.
  template <class A, class Y>
  void multiply_gemm(const Products& p, const A* a, const std::int8_t* b, const std::int32_t* bias, Y* y) {
    const bool trans_b = node_.attr<std::int64_t>("transB") != 0;
    // Constant weights are packed once; computed ones on every run.
    if (!packed_ || node_.input(1) == nullptr || node_.input(1)->constant() == nullptr)
      packed_.emplace(b, p.n, p.k, trans_b ? p.k : 1, trans_b ? 1 : p.n);
    const native::PackedWeights& weights = *packed_;
    const std::int64_t blocks = (p.m + native::block_columns - 1) / native::block_columns;
    const native::Requantization* r = requantization_ ? &*requantization_ : nullptr;
#pragma omp parallel
    {
      std::vector<std::int16_t> columns(native::column_block_size(weights.pairs()));
      std::vector<std::int32_t> tile(static_cast<std::size_t>(weights.padded_rows() * native::block_columns));
#pragma omp for schedule(static)
      for (std::int64_t block = 0; block < blocks; ++block) {
        const std::int64_t first = block * native::block_columns;
        const std::int64_t count = std::min(native::block_columns, p.m - first);
        std::fill(columns.begin(), columns.end(), std::int16_t{0});
        for (std::int64_t c = 0; c < count; ++c)
          for (std::int64_t k = 0; k < p.k; ++k)
            native::set_column_value(columns.data(), k, c, a[(first + c) * p.k + k]);
        weights.multiply(columns.data(), tile.data());
        for (std::int64_t c = 0; c < count; ++c) {
          Y* out = y + (first + c) * p.n;
          for (std::int64_t j = 0; j < p.n; ++j) {
            const std::int32_t acc =
                tile[static_cast<std::size_t>(j * native::block_columns + c)] + (bias ? bias[j] : 0);
            out[j] = r ? static_cast<Y>(r->apply(static_cast<float>(acc), static_cast<std::size_t>(j)))
                       : static_cast<Y>(acc);
          }
        }
      }
    }
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
  std::optional<native::PackedWeights> packed_; ///< Gemm's B as int16 pairs
};

} // namespace

std::unique_ptr<Kernel> make_native_integer_gemm(const Node& node) {
  return std::make_unique<IntegerMatMulKernel>(node, true);
}
std::unique_ptr<Kernel> make_native_integer_matmul(const Node& node) {
  return std::make_unique<IntegerMatMulKernel>(node, false);
}

} // namespace tern::cpu
