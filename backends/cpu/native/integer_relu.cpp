// Relu on int8 and uint8, the activation between integer layers: max(x, 0) (a copy for
// uint8). Exact, so a Relu after a Requantize equals the float graph's Relu after Clip.
#include "native/common.hpp"
#include "native/native_ops.hpp"

#include <algorithm>

namespace tern::cpu {
namespace {

void integer_relu(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 1, 1, 1, 1);
  const Tensor& x = inputs[0];
  Tensor& y = outputs[0];
  native::require_dtype(node, y, x.dtype(), "output");
  native::require_same_bytes(node, x, y);
  if (x.dtype() == DataType::UInt8) {
    native::copy_bytes(native::bytes_of(x), native::bytes_of(y), x.bytes());
    return;
  }
  native::require_dtype(node, x, DataType::Int8, "input");
  const std::int8_t* in = x.data<std::int8_t>();
  std::int8_t* out = y.data<std::int8_t>();
  const std::int64_t count = x.numel();
#pragma omp parallel for if (count > (1 << 16))
  for (std::int64_t i = 0; i < count; ++i) out[i] = std::max<std::int8_t>(in[i], 0);
}

} // namespace

std::unique_ptr<Kernel> make_integer_relu(const Node& node) { return native::stateless_kernel(node, integer_relu); }

} // namespace tern::cpu
