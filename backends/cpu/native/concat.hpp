#pragma once
// Concat as byte copies, for every dtype: what oneDNN's concat primitive has no data type for
// (the int64 shape vectors exporters concatenate, float64, bool) and more inputs than one
// oneDNN primitive takes (../dnnl/concat.cpp).

#include <tern/graph.hpp>

#include <cstddef>
#include <span>

namespace tern::cpu::native {

/// Checks Concat's inputs against its output `y` (one dtype, one rank, equal dims but along
/// the axis, whose extents add up to y's) and returns the axis, normalised.
std::size_t check_concat(const Node& node, std::span<const Tensor> inputs, const Tensor& y);

/// Fills `y` with the inputs concatenated along `axis` (as check_concat returned it).
void concat_bytes(std::span<const Tensor> inputs, Tensor& y, std::size_t axis);

} // namespace tern::cpu::native
