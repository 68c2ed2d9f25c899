#include <tern/channels_last.hpp>

#include <numeric>

namespace tern {

std::vector<std::int64_t> to_channels_last(std::size_t rank) {
  std::vector<std::int64_t> perm(rank);
  std::iota(perm.begin(), perm.end(), 1);
  perm.front() = 0;
  perm.back() = 1;
  return perm;
}

std::vector<std::int64_t> to_channels_first(std::size_t rank) {
  std::vector<std::int64_t> perm(rank);
  std::iota(perm.begin(), perm.end(), -1);
  perm.front() = 0;
  if (rank > 1) perm[1] = static_cast<std::int64_t>(rank) - 1;
  return perm;
}

namespace {

/// `shape` with its dimensions taken in `perm`'s order (Transpose's output shape).
Shape permuted(const Shape& shape, const std::vector<std::int64_t>& perm) {
  std::vector<std::int64_t> dims;
  dims.reserve(perm.size());
  for (const std::int64_t axis : perm) dims.push_back(shape[static_cast<std::size_t>(axis)]);
  return Shape(std::move(dims));
}

} // namespace

Shape channels_first_shape(const Shape& channels_last) {
  return permuted(channels_last, to_channels_first(channels_last.rank()));
}

Shape channels_last_shape(const Shape& channels_first) {
  return permuted(channels_first, to_channels_last(channels_first.rank()));
}

Shape channels_first_view(const Shape& shape, bool channels_last) {
  return channels_last ? channels_first_shape(shape) : shape;
}

Shape in_layout(const Shape& channels_first, bool channels_last) {
  return channels_last ? channels_last_shape(channels_first) : channels_first;
}

Shape channel_blocks_shape(const Shape& channels_first, std::int64_t block) {
  std::vector<std::int64_t> dims = channels_first.dims();
  if (dims[1] != Shape::dynamic) dims[1] = (dims[1] + block - 1) / block;
  dims.push_back(block);
  return Shape(std::move(dims));
}

Shape channels_first_of_blocks(const Shape& blocks) {
  std::vector<std::int64_t> dims = blocks.dims();
  const std::int64_t block = dims.back();
  dims.pop_back();
  if (dims[1] != Shape::dynamic) dims[1] = block == Shape::dynamic ? Shape::dynamic : dims[1] * block;
  return Shape(std::move(dims));
}

} // namespace tern
