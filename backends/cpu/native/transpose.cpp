// Transpose, any dtype: every output row (the last output axis) gathers input elements at
// a fixed stride, so the index math runs once per row, not once per element.
#include "native/common.hpp"
#include "native/native_ops.hpp"
#include "native/transpose_matrices.hpp"

#include <cstring>
#include <numeric>

namespace tern::cpu {
namespace {

class TransposeKernel final : public Kernel {
public:
  explicit TransposeKernel(const Node& node) : node_(node) {
    if (node.attrs().has("perm")) perm_ = node.attrs().get<std::vector<std::int64_t>>("perm");
  }

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 1, 1, 1);
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    const std::size_t rank = x.shape().rank();
    std::vector<std::int64_t> perm = perm_;
    if (perm.empty() && rank > 0) {
      perm.resize(rank); // ONNX's default reverses the axes
      std::iota(perm.rbegin(), perm.rend(), 0);
    }
    native::require(node_, perm.size() == rank,
                    "perm has " + std::to_string(perm.size()) + " axes, the input " + std::to_string(rank));
    std::vector<std::int64_t> dims(rank);
    for (std::size_t d = 0; d < rank; ++d) {
      native::require(node_, perm[d] >= 0 && perm[d] < static_cast<std::int64_t>(rank),
                      "perm entry " + std::to_string(perm[d]) + " is not an axis of the input");
      dims[d] = x.shape()[static_cast<std::size_t>(perm[d])];
    }
    native::require(node_, y.dtype() == x.dtype(), "output dtype differs from the input's");
    native::require_shape(node_, y.shape(), Shape(dims), "output");
    if (y.numel() == 0) return;
    if (transpose_blocks(x, y, perm)) return;

    // source[d]: the input stride of output axis d.
    const std::vector<std::int64_t> in_strides = native::strides_of(x.shape());
    std::vector<std::int64_t> source(rank);
    for (std::size_t d = 0; d < rank; ++d) source[d] = in_strides[static_cast<std::size_t>(perm[d])];
    const std::int64_t row = rank == 0 ? 1 : dims.back();
    const std::int64_t step = rank == 0 ? 0 : source.back();
    const std::int64_t rows = y.numel() / row;
    const std::size_t outer = rank == 0 ? 0 : rank - 1; // output axes but the last
    native::with_element_word(x.dtype(), [&](auto word) {
      using Word = decltype(word);
      const Word* in = static_cast<const Word*>(x.raw());
      Word* out = static_cast<Word*>(y.raw());
#pragma omp parallel for if (y.numel() > (1 << 16))
      for (std::int64_t r = 0; r < rows; ++r) {
        std::int64_t offset = 0, rest = r;
        for (std::size_t d = outer; d-- > 0;) { // innermost first
          offset += rest % dims[d] * source[d];
          rest /= dims[d];
        }
        Word* target = out + r * row;
        for (std::int64_t i = 0; i < row; ++i) target[i] = in[offset + i * step];
      }
    });
  }

private:
  /// Tensors of 1- or 4-byte elements whose perm swaps two runs of axes after leading ones,
  /// [0..a) [b..r) [a..b) (to and from channels last: [N, C, S...] <-> [N, S..., C]), are
  /// batched matrix transposes: transpose_matrices' tiles, or a copy where one run is of
  /// size 1 (a single channel, a pooled 1x1 plane). False (nothing done) otherwise.
  static bool transpose_blocks(const Tensor& x, Tensor& y, const std::vector<std::int64_t>& perm) {
    const std::size_t element = size_of(x.dtype());
    if (element != 1 && element != 4) return false;
    const auto rank = static_cast<std::int64_t>(perm.size());
    std::int64_t a = 0;
    while (a < rank && perm[static_cast<std::size_t>(a)] == a) ++a;
    if (a == rank) return false;
    const std::int64_t b = perm[static_cast<std::size_t>(a)];
    for (std::int64_t i = a; i < rank; ++i) {
      const std::int64_t expected = i < a + rank - b ? b + (i - a) : a + (i - a - (rank - b));
      if (perm[static_cast<std::size_t>(i)] != expected) return false;
    }
    const auto product = [&](std::int64_t from, std::int64_t to) {
      std::int64_t p = 1;
      for (std::int64_t d = from; d < to; ++d) p *= x.shape()[static_cast<std::size_t>(d)];
      return p;
    };
    const std::int64_t count = product(0, a), rows = product(a, b), cols = product(b, rank);
    if (rows == 1 || cols == 1)
      std::memcpy(y.raw(), x.raw(), static_cast<std::size_t>(x.numel()) * element);
    else if (element == 1)
      native::transpose_bytes(static_cast<const std::uint8_t*>(x.raw()), static_cast<std::uint8_t*>(y.raw()), count,
                              rows, cols);
    else
      native::transpose_words(static_cast<const std::uint32_t*>(x.raw()), static_cast<std::uint32_t*>(y.raw()), count,
                              rows, cols);
    return true;
  }

  const Node& node_;
  std::vector<std::int64_t> perm_;
};

} // namespace

std::unique_ptr<Kernel> make_transpose(const Node& node) { return std::make_unique<TransposeKernel>(node); }

} // namespace tern::cpu
