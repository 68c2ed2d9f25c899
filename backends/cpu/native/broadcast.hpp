#pragma once
// Numpy multidirectional broadcasting, shared by the elementwise kernels with more than one
// input (Pow, Mod, Min, Max, Sum, Mean, comparisons, logic, Where) and Expand. The output is
// walked row by row (a row is its last axis): each input's offset is computed once per row,
// and within a row an input either advances by one element or repeats one value.

#include "native/common.hpp"

#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

namespace tern::cpu::native {

class Broadcast {
public:
  /// Fails naming `node` unless `inputs` broadcast together to exactly `output`.
  Broadcast(const Node& node, const std::vector<Shape>& inputs, const Shape& output);

  std::int64_t rows() const { return rows_; }
  std::int64_t row_length() const { return row_length_; }
  /// Offset, in elements of input `k`, of the first element of output row `row`.
  std::int64_t row_offset(std::size_t k, std::int64_t row) const;
  /// 1 when input `k` varies along the last output axis, 0 when it is broadcast there.
  std::int64_t row_step(std::size_t k) const { return steps_[k]; }

  /// Calls fn(row) for every output row, in parallel when the output is large.
  template <class Fn> void for_each_row(Fn&& fn) const {
#pragma omp parallel for if (rows_ * row_length_ > (1 << 16))
    for (std::int64_t row = 0; row < rows_; ++row) fn(row);
  }

private:
  std::vector<std::int64_t> outer_dims_;                 // output dims but the last
  std::vector<std::vector<std::int64_t>> outer_strides_; // per input: stride per outer axis, 0 when broadcast
  std::vector<std::int64_t> steps_;
  std::int64_t rows_ = 1;
  std::int64_t row_length_ = 1;
};

/// The shapes of `tensors`, for a Broadcast over them.
std::vector<Shape> shapes_of(std::span<const Tensor> tensors);

/// output[i] = fn(a[i], b[i], ...) over the inputs of `plan` (one per element type in Ins),
/// read as those C++ types: callers check the dtypes first.
template <class Out, class... Ins, class Fn>
void broadcast_map(const Broadcast& plan, std::span<const Tensor> inputs, Tensor& output, Fn fn) {
  Out* out = static_cast<Out*>(output.raw());
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    const std::tuple<const Ins*...> data{static_cast<const Ins*>(inputs[K].raw())...};
    plan.for_each_row([&](std::int64_t row) {
      Out* target = out + row * plan.row_length();
      const std::tuple<const Ins*...> first{(std::get<K>(data) + plan.row_offset(K, row))...};
      const std::int64_t steps[] = {plan.row_step(K)...};
      for (std::int64_t i = 0; i < plan.row_length(); ++i) target[i] = fn(std::get<K>(first)[i * steps[K]]...);
    });
  }
  (std::index_sequence_for<Ins...>{});
}

/// broadcast_map over a plan made from the inputs' shapes and the output's.
template <class Out, class... Ins, class Fn>
void broadcast_map(const Node& node, std::span<const Tensor> inputs, Tensor& output, Fn fn) {
  broadcast_map<Out, Ins...>(Broadcast(node, shapes_of(inputs), output.shape()), inputs, output, fn);
}

} // namespace tern::cpu::native
