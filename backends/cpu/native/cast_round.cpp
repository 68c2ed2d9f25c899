// Cast (every Tern dtype pair) and Round: the kernels that change values' type or precision.
#include "native/common.hpp"
#include "native/native_ops.hpp"
#include "native/rounding.hpp"

#include <algorithm>

namespace tern::cpu {
namespace {

class CastKernel final : public Kernel {
public:
  explicit CastKernel(const Node& node) : node_(node) {
    const auto to = node.attr<std::string>("to");
    const std::optional<DataType> type = parse_data_type(to);
    native::require(node, type.has_value(), "attribute 'to' is '" + to + "', which is not a Tern dtype");
    to_ = *type;
  }

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 1, 1, 1);
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    native::require_dtype(node_, y, to_, "output");
    native::require_shape(node_, y.shape(), x.shape(), "output");
    // tern::convert is the one place values change type (it truncates toward zero like
    // ONNX's float->int Cast, and saturates); chunks of it run in parallel.
    const auto in_size = static_cast<std::int64_t>(size_of(x.dtype())),
               out_size = static_cast<std::int64_t>(size_of(to_));
    native::for_each_chunk(x.numel(), 1 << 16, 1, [&](std::int64_t begin, std::int64_t size) {
      convert(native::bytes_of(x) + begin * in_size, x.dtype(), native::bytes_of(y) + begin * out_size, to_,
              static_cast<std::size_t>(size));
    });
  }

private:
  const Node& node_;
  DataType to_ = DataType::Float32;
};

void round_f32(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 1, 1, 1, 1);
  native::require_dtype(node, inputs[0], DataType::Float32, "input");
  native::require_dtype(node, outputs[0], DataType::Float32, "output");
  native::require_shape(node, outputs[0].shape(), inputs[0].shape(), "output");
  const float* in = inputs[0].data<float>();
  float* out = outputs[0].data<float>();
  const std::int64_t count = inputs[0].numel();
#pragma omp parallel for if (count > (1 << 16))
  for (std::int64_t i = 0; i < count; ++i) out[i] = native::round_half_even(in[i]);
}

} // namespace

std::unique_ptr<Kernel> make_cast(const Node& node) { return std::make_unique<CastKernel>(node); }
std::unique_ptr<Kernel> make_round(const Node& node) { return native::stateless_kernel(node, round_f32); }

} // namespace tern::cpu
