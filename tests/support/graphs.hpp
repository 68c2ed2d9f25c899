#pragma once
// Small graphs and tensors shared by the suites.

#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace tern::test {

/// x[N, width] -> Relu -> ... (`layers` times) -> y.
Graph relu_chain(int layers, std::int64_t width);

/// A float32 tensor of `shape` with values uniform in [low, high), reproducible by seed.
Tensor random_tensor(const Shape& shape, std::uint32_t seed, float low = -1.0f, float high = 1.0f);

/// Runs a one-input graph on the "reference" backend and returns its first output.
Tensor run_reference(const Graph& graph, const Tensor& input);

/// Node attributes from {key, value} pairs, e.g. attributes({{"axis", std::int64_t{1}}}).
Attributes attributes(std::initializer_list<std::pair<const char*, Attribute>> entries);

/// How many nodes of `graph` have op type `op_type`.
std::size_t count_of(const Graph& graph, const std::string& op_type);

/// Largest |a[i] - b[i]|; fails the current test when the element counts differ.
double max_abs_diff(const Tensor& a, const Tensor& b);

/// Same shape and every element within 1e-4 relative (absolute 1e-4 below magnitude 1):
/// float kernels against naive loops, which sum in another order.
::testing::AssertionResult close_to(const Tensor& actual, const Tensor& expected);

} // namespace tern::test
