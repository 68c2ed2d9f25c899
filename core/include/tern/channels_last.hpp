#pragma once
/// \file channels_last.hpp
/// Channels last: [N, D1, ..., Dk, C] instead of ONNX's [N, C, D1, ..., Dk]. The layout
/// oneDNN's int8 convolutions take; ConvChannelsLast and the recipe that keeps activations
/// in it between them (channels_last_ops) share these.

#include <tern/shape.hpp>

#include <cstdint>
#include <vector>

namespace tern {

/// The Transpose perm taking [N, C, D...] of rank `rank` (>= 2) to [N, D..., C]: [0, 2, ..., rank-1, 1].
std::vector<std::int64_t> to_channels_last(std::size_t rank);
/// Its inverse, [N, D..., C] to [N, C, D...]: [0, rank-1, 1, ..., rank-2].
std::vector<std::int64_t> to_channels_first(std::size_t rank);
/// [N, C, D...] of a channels-last [N, D..., C] (rank >= 2).
Shape channels_first_shape(const Shape& channels_last);
/// [N, D..., C] of a channels-first [N, C, D...] (rank >= 2).
Shape channels_last_shape(const Shape& channels_first);

} // namespace tern
