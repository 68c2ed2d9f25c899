#include "native/transpose_bytes.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tern::cpu::native {
namespace {

#if defined(__SSE2__)
/// Transposes the 16x16 tile at src (row stride src_stride) into dst (row stride
/// dst_stride): interleaving bytes, then 16-, 32- and 64-bit lanes, puts column k of the
/// tile into register k.
void transpose_tile(const std::uint8_t* src, std::int64_t src_stride, std::uint8_t* dst, std::int64_t dst_stride) {
  __m128i a[16], b[16];
  for (int i = 0; i < 16; ++i) a[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * src_stride));
  for (int i = 0; i < 8; ++i) { // rows 2i, 2i+1: columns 0-7 and 8-15 interleaved
    b[2 * i] = _mm_unpacklo_epi8(a[2 * i], a[2 * i + 1]);
    b[2 * i + 1] = _mm_unpackhi_epi8(a[2 * i], a[2 * i + 1]);
  }
  for (int q = 0; q < 4; ++q) { // rows 4q..4q+3: columns in groups of 4
    const int base = 4 * q;
    a[base] = _mm_unpacklo_epi16(b[base], b[base + 2]);
    a[base + 1] = _mm_unpackhi_epi16(b[base], b[base + 2]);
    a[base + 2] = _mm_unpacklo_epi16(b[base + 1], b[base + 3]);
    a[base + 3] = _mm_unpackhi_epi16(b[base + 1], b[base + 3]);
  }
  for (int h = 0; h < 2; ++h) { // rows 8h..8h+7: columns in pairs
    const int base = 8 * h;
    for (int j = 0; j < 4; ++j) {
      b[base + 2 * j] = _mm_unpacklo_epi32(a[base + j], a[base + 4 + j]);
      b[base + 2 * j + 1] = _mm_unpackhi_epi32(a[base + j], a[base + 4 + j]);
    }
  }
  for (int k = 0; k < 8; ++k) { // all 16 rows: one column per register
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (2 * k) * dst_stride), _mm_unpacklo_epi64(b[k], b[k + 8]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (2 * k + 1) * dst_stride), _mm_unpackhi_epi64(b[k], b[k + 8]));
  }
}
#endif

void transpose_one(const std::uint8_t* src, std::uint8_t* dst, std::int64_t rows, std::int64_t cols) {
  std::int64_t r = 0;
#if defined(__SSE2__)
  for (; r + 16 <= rows; r += 16) {
    std::int64_t c = 0;
    for (; c + 16 <= cols; c += 16) transpose_tile(src + r * cols + c, cols, dst + c * rows + r, rows);
    for (; c < cols; ++c)
      for (std::int64_t i = r; i < r + 16; ++i) dst[c * rows + i] = src[i * cols + c];
  }
#endif
  for (; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
}

} // namespace

void transpose_bytes(const std::uint8_t* src, std::uint8_t* dst, std::int64_t count, std::int64_t rows,
                     std::int64_t cols) {
  const std::int64_t size = rows * cols;
#pragma omp parallel for if (count * size > (1 << 16))
  for (std::int64_t m = 0; m < count; ++m) transpose_one(src + m * size, dst + m * size, rows, cols);
}

} // namespace tern::cpu::native
