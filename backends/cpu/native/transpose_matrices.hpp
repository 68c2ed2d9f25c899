#pragma once
// Transposing matrices of bytes and of 4-byte words: the layout change between Tern's nchw
// and nhwc (per image: [C, HW] <-> [HW, C]) at the edges of a channels-last region, int8 or
// float. oneDNN 2.6's 8-bit reorders run at a few GB/s (0.38 ms for LeNet's 64x32x26x26 on
// one thread), and the generic Transpose gathers one element at a time; SSE2 tiles (16x16
// bytes, 4x4 words) do the same in a fraction of that.

#include <cstdint>

namespace tern::cpu::native {

/// For each of `count` matrices: dst[c * rows + r] = src[r * cols + c] (src is rows x cols,
/// row-major; dst is its transpose). Matrices follow each other in both buffers. OpenMP
/// over matrices.
void transpose_bytes(const std::uint8_t* src, std::uint8_t* dst, std::int64_t count, std::int64_t rows,
                     std::int64_t cols);
/// The same for 4-byte elements (float32, int32).
void transpose_words(const std::uint32_t* src, std::uint32_t* dst, std::int64_t count, std::int64_t rows,
                     std::int64_t cols);

} // namespace tern::cpu::native
