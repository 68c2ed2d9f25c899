#pragma once
// Transposing matrices of bytes, the layout change between Tern's nchw and the nhwc that
// oneDNN's int8 kernels use (per image: [C, HW] <-> [HW, C]). oneDNN 2.6's 8-bit reorders
// run at a few GB/s (0.38 ms for LeNet's 64x32x26x26 on one thread); 16x16 SSE2 tiles do
// the same in a fraction of that.

#include <cstdint>

namespace tern::cpu::native {

/// For each of `count` matrices: dst[c * rows + r] = src[r * cols + c] (src is rows x cols,
/// row-major; dst is its transpose). Matrices follow each other in both buffers. OpenMP
/// over matrices.
void transpose_bytes(const std::uint8_t* src, std::uint8_t* dst, std::int64_t count, std::int64_t rows,
                     std::int64_t cols);

} // namespace tern::cpu::native
