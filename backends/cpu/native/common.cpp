#include "native/common.hpp"

#include <algorithm>
#include <cstring>

namespace tern::cpu::native {

// The node is not named: the scheduler adds it, and the backend, to every kernel error.
void fail(const Node& node, const std::string& message) {
  (void)node;
  throw Error(message);
}

void require_arity(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs, std::size_t required,
                   std::size_t max_inputs, std::size_t min_outputs, std::size_t max_outputs) {
  // Every native kernel checks this on every run: messages are built only on failure.
  require(node, inputs.size() >= required && inputs.size() <= max_inputs, [&] {
    return "got " + std::to_string(inputs.size()) + " inputs, expected " + std::to_string(required) + " to " +
           std::to_string(max_inputs);
  });
  for (std::size_t i = 0; i < required; ++i)
    require(node, inputs[i].defined(), [&] { return "input " + std::to_string(i) + " is required but absent"; });
  require(node, outputs.size() >= min_outputs && outputs.size() <= max_outputs, [&] {
    return "got " + std::to_string(outputs.size()) + " outputs, expected " + std::to_string(min_outputs) + " to " +
           std::to_string(max_outputs);
  });
}

void require_dtype(const Node& node, const Tensor& tensor, DataType dtype, const std::string& what) {
  require(node, tensor.dtype() == dtype,
          [&] { return what + " is " + std::string(name(tensor.dtype())) + ", expected " + std::string(name(dtype)); });
}

void require_shape(const Node& node, const Shape& actual, const Shape& expected, const std::string& what) {
  require(node, actual == expected,
          [&] { return what + " has shape " + actual.to_string() + ", expected " + expected.to_string(); });
}

void require_same_bytes(const Node& node, const Tensor& input, const Tensor& output) {
  require(node, input.dtype() == output.dtype() && input.numel() == output.numel(),
          [&] { return "output " + output.describe() + " does not hold the elements of input " + input.describe(); });
}

std::vector<std::int64_t> strides_of(const Shape& shape) {
  std::vector<std::int64_t> strides(shape.rank(), 1);
  for (std::size_t d = shape.rank(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

std::vector<std::int64_t> index_values(const Node& node, const Tensor& tensor, const std::string& what) {
  require(node, tensor.dtype() == DataType::Int64 || tensor.dtype() == DataType::Int32,
          what + " is " + std::string(name(tensor.dtype())) + ", expected int64 or int32");
  return tensor.to_int64s();
}

std::size_t normalize_axis(const Node& node, std::int64_t axis, std::size_t rank, const std::string& what) {
  const auto signed_rank = static_cast<std::int64_t>(rank);
  require(node, axis >= -signed_rank && axis < signed_rank,
          what + " " + std::to_string(axis) + " is outside [" + std::to_string(-signed_rank) + ", " +
              std::to_string(signed_rank) + ") for rank " + std::to_string(rank));
  return static_cast<std::size_t>(axis < 0 ? axis + signed_rank : axis);
}

void copy_bytes(const std::byte* src, std::byte* dst, std::size_t count) {
  if (src == dst || count == 0) return;
  // Below a few MiB one thread saturates memory bandwidth; above, chunks of 1 MiB.
  for_each_chunk(static_cast<std::int64_t>(count), std::int64_t{1} << 20, 4,
                 [&](std::int64_t begin, std::int64_t size) {
                   std::memcpy(dst + begin, src + begin, static_cast<std::size_t>(size));
                 });
}

std::unique_ptr<Kernel> stateless_kernel(const Node& node, KernelFn fn) {
  return std::make_unique<FunctionKernel>(node, fn);
}

} // namespace tern::cpu::native
