// Kernels that make their output from a pattern rather than element by element arithmetic:
// Expand and Tile (the input repeated, any dtype), ConstantOfShape (one value repeated) and
// Range (an arithmetic sequence; float32/float64/int16/int32/int64).
#include "native/broadcast.hpp"
#include "native/native_ops.hpp"

#include <algorithm>
#include <type_traits>

namespace tern::cpu {
namespace {

using native::require;

// Expand is a broadcast of the input to the output's shape (which the schema computed from
// the input and the shape data), so the broadcast plan holds the output's shape as a
// second, phantom operand.
void expand(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 2, 2, 1, 1);
  const Tensor& x = inputs[0];
  Tensor& y = outputs[0];
  native::require_dtype(node, y, x.dtype(), "output");
  const native::Broadcast plan(node, {x.shape(), y.shape()}, y.shape());
  native::with_element_word(x.dtype(), [&](auto word) {
    using W = decltype(word);
    native::broadcast_map<W, W>(plan, inputs.first(1), y, [](W value) { return value; });
  });
}

void tile(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 2, 2, 1, 1);
  const Tensor& x = inputs[0];
  Tensor& y = outputs[0];
  native::require_dtype(node, y, x.dtype(), "output");
  const Shape& in = x.shape();
  const std::size_t rank = in.rank();
  const std::vector<std::int64_t> repeats = native::index_values(node, inputs[1], "repeats");
  require(node, repeats.size() == rank,
          "repeats has " + std::to_string(repeats.size()) + " values, expected " + std::to_string(rank));
  std::vector<std::int64_t> dims = in.dims();
  for (std::size_t d = 0; d < rank; ++d) dims[d] *= repeats[d];
  native::require_shape(node, y.shape(), Shape(dims), "output");
  if (y.numel() == 0) return;
  if (rank == 0) return native::copy_bytes(native::bytes_of(x), native::bytes_of(y), x.bytes());
  native::with_element_word(x.dtype(), [&](auto word) {
    using W = decltype(word);
    const W* src = static_cast<const W*>(x.raw());
    W* dst = static_cast<W*>(y.raw());
    const std::vector<std::int64_t> in_strides = native::strides_of(in);
    const std::int64_t row = dims[rank - 1];
    const std::int64_t rows = y.numel() / row;
    // Output row r reads the input row at its coordinates modulo the input's dimensions.
#pragma omp parallel for if (y.numel() > (1 << 16))
    for (std::int64_t r = 0; r < rows; ++r) {
      std::int64_t offset = 0, rest = r;
      for (std::size_t d = rank - 1; d-- > 0;) {
        offset += rest % dims[d] % in[d] * in_strides[d];
        rest /= dims[d];
      }
      W* target = dst + r * row;
      for (std::int64_t i = 0; i < row; ++i) target[i] = src[offset + i % in[rank - 1]];
    }
  });
}

/// ONNX's default value: a float32 0.
Tensor fill_value(const Node& node) {
  if (node.attrs().has("value")) return node.attrs().get<Tensor>("value");
  Tensor zero(Shape{1}, DataType::Float32);
  zero.data<float>()[0] = 0.0f;
  return zero;
}

class ConstantOfShapeKernel final : public Kernel {
public:
  explicit ConstantOfShapeKernel(const Node& node) : node_(node), value_(fill_value(node)) {
    require(node, value_.numel() == 1 && value_.backend().host_accessible(),
            "attribute 'value' must be one element in host memory");
  }
  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 1, 1, 1);
    native::require_dtype(node_, outputs[0], value_.dtype(), "output");
    native::require_shape(node_, outputs[0].shape(), Shape(native::index_values(node_, inputs[0], "shape")), "output");
    native::with_element_word(value_.dtype(), [&](auto word) {
      using W = decltype(word);
      std::fill_n(static_cast<W*>(outputs[0].raw()), outputs[0].numel(), *static_cast<const W*>(value_.raw()));
    });
  }

private:
  const Node& node_;
  Tensor value_;
};

// start + i * delta for every i the output holds: the schema sized it from the same values.
void range(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 3, 3, 1, 1);
  const DataType type = inputs[0].dtype();
  for (std::size_t k = 0; k < 3; ++k) {
    native::require_dtype(node, inputs[k], type, "input " + std::to_string(k));
    require(node, inputs[k].numel() == 1, "input " + std::to_string(k) + " must hold one value");
  }
  native::require_dtype(node, outputs[0], type, "output");
  require(node, outputs[0].shape().rank() == 1, "output must be 1-D");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      native::fail(node, "Range is not defined on bool");
    } else {
      const T start = *static_cast<const T*>(inputs[0].raw());
      const T delta = *static_cast<const T*>(inputs[2].raw());
      T* out = static_cast<T*>(outputs[0].raw());
      for (std::int64_t i = 0; i < outputs[0].numel(); ++i) out[i] = static_cast<T>(start + static_cast<T>(i) * delta);
    }
  });
}

} // namespace

std::unique_ptr<Kernel> make_expand(const Node& node) { return native::stateless_kernel(node, expand); }
std::unique_ptr<Kernel> make_tile(const Node& node) { return native::stateless_kernel(node, tile); }
std::unique_ptr<Kernel> make_constant_of_shape(const Node& node) {
  return std::make_unique<ConstantOfShapeKernel>(node);
}
std::unique_ptr<Kernel> make_range(const Node& node) { return native::stateless_kernel(node, range); }

} // namespace tern::cpu
