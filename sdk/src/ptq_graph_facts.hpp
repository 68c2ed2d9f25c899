#pragma once
// Internal: what the per-layer tools (the quality report, AdaRound, mixed precision) read off
// a fake-quantized graph that quantize_network made: the meta keys the "ptq" plugin records, a
// node's output quantizer and the step of its input.

#include <tern/graph.hpp>

#include <optional>
#include <string>
#include <vector>

namespace tern::ptq::detail {

/// Facts the "ptq" plugin records on a node whose output it quantized (quantize_graph.cpp).
inline constexpr const char* scale_key = "quantization.ptq.scale";
/// The precision tags auto_assign_node_precision sets, and keeps where already present
/// (quantization/src/precision.hpp).
inline constexpr const char* activation_precision_key = "quantization.ptq.precision";
inline constexpr const char* weight_precision_key = "quantization.ptq.weightprecision";
inline constexpr const char* accumulation_precision_key = "quantization.ptq.accumulationprecision";

/// The number a node's meta holds under `key` (0 when absent).
double meta_number(const Node& node, const std::string& key);

/// The only node reading `value`, or nullptr.
Node* sole_reader(const Graph& graph, const Value& value);

/// A node's output quantizer in the quantized graph: [Mul(rescale)] → Round → Clip, and a Mul
/// back to real units where the network's output is dequantized.
struct Quantizer {
  const Value* end = nullptr; ///< its last value
  std::vector<double> rescale{1.0};
  double lo = 0.0, hi = 0.0;
  double to_real = 1.0; ///< end · to_real = the real value
  bool rounds = true;   ///< false for a network output kept at accumulation precision
};

/// The quantizer after `node` (whose output scale is `scale`), or nullopt when there is none.
std::optional<Quantizer> quantizer_after(const Graph& graph, const Node& node, double scale);

/// The real value of one integer step of `value` in the quantized graph: the scale of the
/// node whose quantizer made it (through pooling and reshaping, which keep it).
double step_of(const Graph& graph, const Value* value);

} // namespace tern::ptq::detail
