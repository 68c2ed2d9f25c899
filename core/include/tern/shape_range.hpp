#pragma once
/// \file shape_range.hpp
/// Which dimensions an ONNX Shape node (opset 15) reports: [start, end) of its input's, a
/// negative bound counted from the end and both clamped to [0, rank] like a Python slice.
/// Shared by its inference, the cpu kernel and the fold_shapes recipe.

#include <tern/graph.hpp>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace tern {

/// [begin, end) of the dimensions `node` (a Shape) reports of an input of rank `rank`.
inline std::pair<std::int64_t, std::int64_t> shape_range(const Node& node, std::int64_t rank) {
  const auto clamp = [rank](std::int64_t i) { return std::clamp<std::int64_t>(i < 0 ? i + rank : i, 0, rank); };
  const std::int64_t begin = clamp(node.attr<std::int64_t>("start"));
  const std::int64_t end = node.attrs().has("end") ? clamp(node.attr<std::int64_t>("end")) : rank;
  return {begin, std::max(begin, end)};
}

} // namespace tern
