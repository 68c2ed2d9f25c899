#pragma once
// Helpers every native kernel uses: argument checks (whose errors the scheduler prefixes
// with the node and backend, so they never name the node themselves), row-major
// strides, raw byte access, and copying elements by size (data movement never needs to
// know a dtype, only how wide its elements are).

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace tern::cpu::native {

/// Throws tern::Error(message); `node` is the kernel's, for checks that read it.
[[noreturn]] void fail(const Node& node, const std::string& message);
/// fail(node, message) unless `condition`.
inline void require(const Node& node, bool condition, const std::string& message) {
  if (!condition) fail(node, message);
}
/// require() whose message is built only on failure: for checks on every run, where
/// building it (shapes to text) would cost more than a small kernel's work.
template <class MakeMessage>
requires std::is_invocable_r_v<std::string, MakeMessage>
void require(const Node& node, bool condition, MakeMessage&& make_message) {
  if (!condition) fail(node, make_message());
}

/// Checks the argument counts a kernel was given: inputs in [min_inputs, max_inputs] with
/// the first `required` defined, exactly `output_count` outputs (optional outputs the node
/// leaves out are simply not passed).
void require_arity(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs, std::size_t required,
                   std::size_t max_inputs, std::size_t min_outputs, std::size_t max_outputs);
/// `tensor` must have `dtype`; `what` names it ("input 0").
void require_dtype(const Node& node, const Tensor& tensor, DataType dtype, const std::string& what);
/// `actual` must equal `expected`; `what` names the tensor.
void require_shape(const Node& node, const Shape& actual, const Shape& expected, const std::string& what);
/// The output must hold exactly the input's bytes (the reshaping ops).
void require_same_bytes(const Node& node, const Tensor& input, const Tensor& output);

/// Row-major strides (in elements) of `shape`.
std::vector<std::int64_t> strides_of(const Shape& shape);
/// The values of an int32/int64 index tensor (Reshape's shape, Slice's starts, ...).
std::vector<std::int64_t> index_values(const Node& node, const Tensor& tensor, const std::string& what);
/// Normalises a possibly negative axis against `rank`; fails naming `what`.
std::size_t normalize_axis(const Node& node, std::int64_t axis, std::size_t rank, const std::string& what);

inline std::byte* bytes_of(Tensor& tensor) { return static_cast<std::byte*>(tensor.raw()); }
inline const std::byte* bytes_of(const Tensor& tensor) { return static_cast<const std::byte*>(tensor.raw()); }

/// Calls body(begin, size) over [0, count) in chunks of `chunk` elements, shared by the
/// threads when there are more than `serial_chunks` of them (below that OpenMP's fork and
/// join cost more than a second thread gains). Each caller's chunk and bound are its own
/// measurements.
template <class Body>
void for_each_chunk(std::int64_t count, std::int64_t chunk, std::int64_t serial_chunks, const Body& body) {
  const std::int64_t chunks = (count + chunk - 1) / chunk;
#pragma omp parallel for if (chunks > serial_chunks)
  for (std::int64_t c = 0; c < chunks; ++c) body(c * chunk, std::min(chunk, count - c * chunk));
}

/// Copies `count` bytes; parallel for large copies.
void copy_bytes(const std::byte* src, std::byte* dst, std::size_t count);

/// Calls fn(Word{}) with an unsigned integer type as wide as one element of `dtype`, so
/// gathers and permutations move whole elements instead of calling memcpy per element.
template <class Fn> decltype(auto) with_element_word(DataType dtype, Fn&& fn) {
  switch (size_of(dtype)) {
  case 1: return fn(std::uint8_t{});
  case 2: return fn(std::uint16_t{});
  case 4: return fn(std::uint32_t{});
  default: return fn(std::uint64_t{});
  }
}

/// A kernel over a plain function: for the kernels that keep no state between runs.
using KernelFn = void (*)(const Node&, std::span<const Tensor>, std::span<Tensor>);
std::unique_ptr<Kernel> stateless_kernel(const Node& node, KernelFn fn);

} // namespace tern::cpu::native
