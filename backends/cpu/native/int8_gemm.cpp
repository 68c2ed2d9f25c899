#include "native/int8_gemm.hpp"

#include "native/cpu_features.hpp"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tern::cpu::native {
namespace {

/// The portable product of one column block: the same sums as the AVX2 one, in int32.
void multiply_portable(const std::int16_t* w, std::int64_t row_blocks, std::int64_t pairs, const std::int16_t* columns,
                       std::int32_t* tile) {
  for (std::int64_t block = 0; block < row_blocks; ++block) {
    const std::int16_t* wb = w + block * pairs * block_rows * 2;
    std::int32_t acc[block_rows][block_columns] = {};
    for (std::int64_t pair = 0; pair < pairs; ++pair) {
      const std::int16_t* x = columns + pair * block_columns * 2;
      for (std::int64_t r = 0; r < block_rows; ++r) {
        const std::int32_t w0 = wb[(pair * block_rows + r) * 2], w1 = wb[(pair * block_rows + r) * 2 + 1];
        for (std::int64_t c = 0; c < block_columns; ++c) acc[r][c] += w0 * x[c * 2] + w1 * x[c * 2 + 1];
      }
    }
    std::memcpy(tile + block * block_rows * block_columns, acc, sizeof acc);
  }
}

#if defined(__x86_64__)
/// 4 rows x 16 columns per step: 8 accumulators of 8 int32, one vpmaddwd per row and half
/// block per depth pair (x(k, c) · w(r, k) + x(k + 1, c) · w(r, k + 1), exact in int32).
__attribute__((target("avx2"))) void multiply_avx2(const std::int16_t* w, std::int64_t row_blocks, std::int64_t pairs,
                                                   const std::int16_t* columns, std::int32_t* tile) {
  for (std::int64_t block = 0; block < row_blocks; ++block) {
    const std::int16_t* wb = w + block * pairs * block_rows * 2;
    __m256i acc[block_rows][2];
    for (auto& row : acc) row[0] = row[1] = _mm256_setzero_si256();
    for (std::int64_t pair = 0; pair < pairs; ++pair) {
      const std::int16_t* x = columns + pair * block_columns * 2;
      const __m256i low = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
      const __m256i high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 16));
      for (std::int64_t r = 0; r < block_rows; ++r) {
        std::int32_t both;
        std::memcpy(&both, wb + (pair * block_rows + r) * 2, sizeof both);
        const __m256i weights = _mm256_set1_epi32(both);
        acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(low, weights));
        acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(high, weights));
      }
    }
    std::int32_t* out = tile + block * block_rows * block_columns;
    for (std::int64_t r = 0; r < block_rows; ++r) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * block_columns), acc[r][0]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * block_columns + 8), acc[r][1]);
    }
  }
}
#endif

} // namespace

PackedWeights::PackedWeights(const std::int8_t* w, std::int64_t rows, std::int64_t depth, std::int64_t row_stride,
                             std::int64_t depth_stride)
    : rows_(rows), depth_(depth), data_(static_cast<std::size_t>(padded_rows() * pairs() * 2), 0) {
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t k = 0; k < depth; ++k) {
      const std::int64_t block = r / block_rows, pair = k / 2;
      const auto index = ((block * pairs() + pair) * block_rows + r % block_rows) * 2 + k % 2;
      data_[static_cast<std::size_t>(index)] = w[r * row_stride + k * depth_stride];
    }
}

void PackedWeights::multiply(const std::int16_t* columns, std::int32_t* tile) const {
  const std::int64_t row_blocks = padded_rows() / block_rows;
#if defined(__x86_64__)
  if (use_avx2()) return multiply_avx2(data_.data(), row_blocks, pairs(), columns, tile);
#endif
  multiply_portable(data_.data(), row_blocks, pairs(), columns, tile);
}

} // namespace tern::cpu::native
