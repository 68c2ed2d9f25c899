#pragma once
// Numpy multidirectional broadcasting, shared by the variadic and binary elementwise kernels
// (Pow, Min, Max, Sum, Mean). The output is walked row by row (a row is its last axis): each
// input's offset is computed once per row, and within a row an input either advances by one
// element or repeats one value.

#include "native/common.hpp"

#include <cstdint>
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
  std::vector<std::int64_t> outer_dims_;                // output dims but the last
  std::vector<std::vector<std::int64_t>> outer_strides_; // per input: stride per outer axis, 0 when broadcast
  std::vector<std::int64_t> steps_;
  std::int64_t rows_ = 1;
  std::int64_t row_length_ = 1;
};

} // namespace tern::cpu::native
