#include "native/broadcast.hpp"

#include <algorithm>

namespace tern::cpu::native {

Broadcast::Broadcast(const Node& node, const std::vector<Shape>& inputs, const Shape& output) {
  std::size_t rank = 0;
  for (const Shape& shape : inputs) rank = std::max(rank, shape.rank());
  // Numpy: align on the right; along each axis every size is 1 or the one size > 1.
  std::vector<std::int64_t> dims(rank, 1);
  for (const Shape& shape : inputs) {
    const std::size_t lead = rank - shape.rank();
    for (std::size_t d = 0; d < shape.rank(); ++d) {
      std::int64_t& size = dims[lead + d];
      require(node, shape[d] == size || shape[d] == 1 || size == 1,
              "input shapes do not broadcast: " + shape.to_string() + " against size " + std::to_string(size) +
                  " in axis " + std::to_string(lead + d));
      if (size == 1) size = shape[d];
    }
  }
  require_shape(node, output, Shape(dims), "output");

  if (rank > 0) {
    row_length_ = dims.back();
    outer_dims_.assign(dims.begin(), dims.end() - 1);
  }
  for (const std::int64_t d : outer_dims_) rows_ *= d;
  for (const Shape& shape : inputs) {
    // Strides of the input seen in the output's rank: 0 where the input has size 1.
    const std::vector<std::int64_t> own = strides_of(shape);
    std::vector<std::int64_t> aligned(rank, 0);
    const std::size_t lead = rank - shape.rank();
    for (std::size_t d = 0; d < shape.rank(); ++d) aligned[lead + d] = shape[d] == 1 ? 0 : own[d];
    steps_.push_back(rank == 0 ? 0 : aligned.back());
    if (rank > 0) aligned.pop_back();
    outer_strides_.push_back(std::move(aligned));
  }
}

std::vector<Shape> shapes_of(std::span<const Tensor> tensors) {
  std::vector<Shape> shapes;
  for (const Tensor& t : tensors) shapes.push_back(t.shape());
  return shapes;
}

std::int64_t Broadcast::row_offset(std::size_t k, std::int64_t row) const {
  const std::vector<std::int64_t>& strides = outer_strides_[k];
  std::int64_t offset = 0;
  for (std::size_t d = outer_dims_.size(); d-- > 0;) {
    offset += row % outer_dims_[d] * strides[d];
    row /= outer_dims_[d];
  }
  return offset;
}

} // namespace tern::cpu::native
