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

Shape permuted(const Shape& shape, const std::vector<std::int64_t>& perm) {
  std::vector<std::int64_t> dims;
  dims.reserve(perm.size());
  for (const std::int64_t axis : perm) dims.push_back(shape[static_cast<std::size_t>(axis)]);
  return Shape(std::move(dims));
}

} // namespace tern
