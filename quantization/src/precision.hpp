#pragma once
// Node precision tags, as the seed names them, and the integer ranges they give.

#include <tern/dtype.hpp>
#include <tern/graph.hpp>

#include <cstdint>

namespace tern::ptq {

inline constexpr const char* precision_key = "quantization.ptq.precision";              // activations (output)
inline constexpr const char* weight_precision_key = "quantization.ptq.weightprecision"; // weights of affine nodes
inline constexpr const char* accumulation_precision_key = "quantization.ptq.accumulationprecision"; // biases and sums

/// Tags every node that produces a quantized value; tags already present are kept, so
/// manual tags give mixed precision. Throws when the accumulation is not wider than the
/// operands or a precision is not one PTQ supports.
void auto_assign_node_precision(Graph& graph, DataType weights, DataType activations, DataType accumulation);

/// The precision tag `key` of `node`; throws naming the node when it is missing.
DataType tagged_precision(const Node& node, const char* key);

/// An integer interval [lo, hi] that quantized values take.
struct IntRange {
  std::int64_t lo = 0;
  std::int64_t hi = 0;
};

/// Symmetric signed range of `bits` (-(2^(b-1)-1) .. 2^(b-1)-1) or unsigned (0 .. 2^b-1).
IntRange int_range(unsigned bits, bool is_unsigned);

} // namespace tern::ptq
