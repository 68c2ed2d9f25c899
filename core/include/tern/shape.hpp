#pragma once
/// \file shape.hpp
/// Tensor shapes; a dimension may be dynamic (unknown until run time, e.g. the batch).

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <vector>

namespace tern {

/// A tensor shape. Dimensions are >= 0, or Shape::dynamic for a dimension known only at
/// run time (ONNX's dim_param, typically the batch).
class Shape {
public:
  /// The value of a dimension known only at run time.
  static constexpr std::int64_t dynamic = -1;

  /// A scalar's shape (rank 0).
  Shape() = default;
  /// Shape{N, 3, 28, 28}.
  Shape(std::initializer_list<std::int64_t> dims) : dims_(dims) {}
  /// A shape from a list of dimensions.
  explicit Shape(std::vector<std::int64_t> dims) : dims_(std::move(dims)) {}

  /// Number of dimensions.
  std::size_t rank() const { return dims_.size(); }
  /// Dimension `axis` (throws std::out_of_range beyond the rank).
  std::int64_t operator[](std::size_t axis) const { return dims_.at(axis); }
  /// Dimension `axis`, writable.
  std::int64_t& operator[](std::size_t axis) { return dims_.at(axis); }
  /// The dimensions.
  const std::vector<std::int64_t>& dims() const { return dims_; }
  /// Iteration over the dimensions.
  auto begin() const { return dims_.begin(); }
  /// End of the dimensions.
  auto end() const { return dims_.end(); }

  /// True when no dimension is dynamic.
  bool is_static() const;
  /// Number of elements, never wrapped: throws tern::Error when a dimension is dynamic or
  /// negative, or when the product of the dimensions does not fit int64.
  std::int64_t numel() const;
  /// Normalises a possibly negative axis (Python style) to [0, rank); throws when out of range.
  std::size_t axis(std::int64_t axis) const;
  /// "[N,3,28,28]" style text ("?" for dynamic dimensions).
  std::string to_string() const;

  /// Equal ranks and dimensions (dynamic equals dynamic only).
  friend bool operator==(const Shape&, const Shape&) = default;

private:
  std::vector<std::int64_t> dims_;
};

/// Prints to_string(): readable shapes in test failures and logs.
std::ostream& operator<<(std::ostream& out, const Shape& shape);

} // namespace tern
