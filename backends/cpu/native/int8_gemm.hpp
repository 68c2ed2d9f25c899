#pragma once
// The exact int8 matrix product of the native integer Conv and Gemm (CPUs whose oneDNN int8
// kernels would saturate: no VNNI and weights beyond ±63). Operands are widened to int16
// and multiplied in pairs with AVX2's vpmaddwd, whose two 16 x 16-bit products are summed
// in 32 bits: exact for every int8/uint8 value, unlike vpmaddubsw's 16-bit sums. Plain C++
// on CPUs without AVX2, or when the environment sets TERN_CPU_NO_AVX2.
//
// The product is taken one block of `block_columns` columns of the right operand at a time:
// the caller packs those columns (im2col for a Conv, rows of A for a Gemm) and writes out
// the int32 tile, so each OpenMP thread works on its own blocks with its own buffers.

#include <cstdint>
#include <vector>

namespace tern::cpu::native {

/// Columns of the right operand multiplied at once (two AVX2 vectors of 8 int32).
inline constexpr std::int64_t block_columns = 16;
/// Rows of the weights multiplied at once.
inline constexpr std::int64_t block_rows = 4;

/// Weights W[rows, depth] as int16 pairs: per block of 4 rows, per pair of depth indices k,
/// the 4 rows' (w[k], w[k + 1]); rows padded to a multiple of 4 and depth to even with 0.
class PackedWeights {
public:
  /// w(r, k) = w[r * row_stride + k * depth_stride].
  PackedWeights(const std::int8_t* w, std::int64_t rows, std::int64_t depth, std::int64_t row_stride,
                std::int64_t depth_stride);
  std::int64_t rows() const { return rows_; }
  std::int64_t depth() const { return depth_; }
  /// Depth index pairs: the length of a packed column block.
  std::int64_t pairs() const { return (depth_ + 1) / 2; }
  /// Rows rounded up to a multiple of block_rows: the height of a tile.
  std::int64_t padded_rows() const { return (rows_ + block_rows - 1) / block_rows * block_rows; }

  /// tile[r * block_columns + c] = Σ_k w(r, k) · x(k, c) over every (padded) row r and the
  /// block's columns c, where `columns` holds x as make_column_block() lays it out.
  void multiply(const std::int16_t* columns, std::int32_t* tile) const;

private:
  std::int64_t rows_, depth_;
  std::vector<std::int16_t> data_;
};

/// A column block's storage for `pairs` depth pairs: per pair, the block's 16 columns as
/// (x(k, c), x(k + 1, c)); fill it with set_column_value (unset entries must be 0).
inline std::size_t column_block_size(std::int64_t pairs) { return static_cast<std::size_t>(pairs * block_columns * 2); }
inline void set_column_value(std::int16_t* columns, std::int64_t k, std::int64_t c, std::int16_t value) {
  columns[(k / 2) * block_columns * 2 + c * 2 + k % 2] = value;
}

} // namespace tern::cpu::native
