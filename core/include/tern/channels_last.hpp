#pragma once
/// \file channels_last.hpp
/// Channels last: [N, D1, ..., Dk, C] instead of ONNX's [N, C, D1, ..., Dk]. The layout
/// oneDNN's int8 convolutions take; ConvChannelsLast and the recipe that keeps activations
/// in it between them (channels_last_ops) share these. Channel blocks: [N, C/b, D1, ...,
/// Dk, b], the channels cut into blocks of b, each block channels last (oneDNN's nChw8c,
/// nChw16c): the layout of ConvBlocked and the other ops channel_blocks writes.

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
/// [N, C, D...] of a tensor of `shape` that is channels last when `channels_last` (a
/// ChannelsLast op's X or Y), channels first otherwise: the view window arithmetic reads.
Shape channels_first_view(const Shape& shape, bool channels_last);
/// The reverse: the shape of a tensor whose channels-first view is `channels_first`.
Shape in_layout(const Shape& channels_first, bool channels_last);

/// [N, ceil(C/b), D..., b] of a channels-first [N, C, D...] (rank >= 2): the last block
/// padded where C is not a multiple of `block` (see the channel_blocks recipe).
Shape channel_blocks_shape(const Shape& channels_first, std::int64_t block);
/// [N, C, D...] of channel blocks [N, C/b, D..., b] (rank >= 3), C counting the padding.
Shape channels_first_of_blocks(const Shape& blocks);

} // namespace tern
