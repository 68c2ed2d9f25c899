// Concat of any number of inputs of any dtype by byte copies (see concat.hpp).
#include "native/concat.hpp"

#include "native/common.hpp"
#include "native/native_ops.hpp"

#include <algorithm>
#include <cstring>

namespace tern::cpu::native {

std::size_t check_concat(const Node& node, std::span<const Tensor> inputs, const Tensor& y) {
  require(node, !inputs.empty(), "Concat needs at least one input");
  require(node, y.shape().rank() >= 1, "Concat needs inputs of rank >= 1");
  const std::size_t axis = normalize_axis(node, node.attr<std::int64_t>("axis"), y.shape().rank(), "axis");
  std::int64_t total = 0;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& input = inputs[k];
    require(node, input.defined(), "input " + std::to_string(k) + " is absent");
    require(node, input.dtype() == y.dtype(),
            "input " + std::to_string(k) + " is " + input.describe() + ", Y is " + std::string(name(y.dtype())));
    const Shape& x = input.shape();
    bool fits = x.rank() == y.shape().rank();
    for (std::size_t i = 0; fits && i < x.rank(); ++i) fits = i == axis || x[i] == y.shape()[i];
    require(node, fits,
            "input " + x.to_string() + " does not fit Y " + y.shape().to_string() + " along axis " +
                std::to_string(axis));
    total += x[axis];
  }
  require(node, total == y.shape()[axis],
          "inputs add up to " + std::to_string(total) + " along axis " + std::to_string(axis) + ", Y has " +
              std::to_string(y.shape()[axis]));
  return axis;
}

void concat_bytes(std::span<const Tensor> inputs, Tensor& y, std::size_t axis) {
  // Outer index: the axes before `axis`; each input's block of one outer index (the axis and
  // the axes after it) is contiguous, and so is Y's, which is the inputs' blocks in order.
  std::int64_t outer = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= y.shape()[i];
  if (outer == 0 || y.bytes() == 0) return;
  const std::size_t row = y.bytes() / static_cast<std::size_t>(outer);
  std::byte* dst = bytes_of(y);
#pragma omp parallel for if (y.bytes() > (std::size_t{1} << 20))
  for (std::int64_t o = 0; o < outer; ++o) {
    std::byte* target = dst + static_cast<std::size_t>(o) * row;
    for (const Tensor& input : inputs) {
      const std::size_t block = input.bytes() / static_cast<std::size_t>(outer);
      std::memcpy(target, bytes_of(input) + static_cast<std::size_t>(o) * block, block);
      target += block;
    }
  }
}

namespace {

void concat(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  require(node, outputs.size() == 1, "Concat has one output");
  concat_bytes(inputs, outputs[0], check_concat(node, inputs, outputs[0]));
}

} // namespace

} // namespace tern::cpu::native

namespace tern::cpu {

std::unique_ptr<Kernel> make_native_concat(const Node& node) { return native::stateless_kernel(node, native::concat); }

} // namespace tern::cpu
