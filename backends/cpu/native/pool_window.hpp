#pragma once
// A pooling window over right-aligned [D, H, W] axes (1- and 2-D pools have leading axes of
// size 1), and the table of tap offsets the max pools loop over: the int8 MaxPool on plain
// planes (integer_pool.cpp) and the float Conv+MaxPool on oneDNN's channel blocks
// (../dnnl/conv_pool.cpp).

#include <array>
#include <cstdint>
#include <vector>

namespace tern::cpu::native {

using Dims3 = std::array<std::int64_t, 3>;

struct PoolGeometry {
  std::int64_t planes = 0; ///< N * C
  Dims3 in{1, 1, 1}, out{1, 1, 1}, kernel{1, 1, 1}, stride{1, 1, 1}, dilation{1, 1, 1}, pad{0, 0, 0};
};

/// For every output position, the offsets of its window's taps, kernel[0]·kernel[1]·kernel[2]
/// per position, input element (d, h, w) lying at d·strides[0] + h·strides[1] + w·strides[2].
/// A tap in the padding repeats one inside the window: a maximum does not change when a
/// value counts twice, so the loop over the table has no branch. Throws when a window lies
/// entirely in the padding.
std::vector<std::int64_t> window_offsets(const PoolGeometry& g, const Dims3& strides);

} // namespace tern::cpu::native
