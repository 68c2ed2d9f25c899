#pragma once
// The 256 results of an elementwise function of one 8-bit integer, a TableLookup's table.
// The float operators themselves compute them, float rounding included, so the table holds
// exactly what the graph it replaces computes.

#include <tern/graph.hpp>

#include <functional>
#include <string>
#include <vector>

namespace tern::ptq {

/// Adds to `table` the nodes that read value `from`; returns the name of their result.
using TableStep = std::function<std::string(Graph& table, const std::string& from)>;

/// Runs `function` (elementwise; its inputs other than `operand` constants) on every value
/// of `type` (int8 or uint8), lowest first: each value read through `into` (the graph's
/// dequantization) and each result written through `out_of` (its requantization), on
/// `backends`.
Tensor tabulate(const Node& function, std::size_t operand, DataType type, const std::vector<std::string>& backends,
                const TableStep& into, const TableStep& out_of);

} // namespace tern::ptq
