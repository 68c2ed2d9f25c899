#pragma once
// The rewrite at the heart of the PTQ: given calibrated (and clipped) ranges, it normalises
// the parameters, inserts the scaling nodes after affine, merge and averaging nodes, and
// turns them into quantizers (Mul by the rescale, Round, Clip to the integer range), with
// sign optimisation and single shift as options. The result is fake-quantized: float32
// tensors holding integers, standard ONNX operators only.

#include "options.hpp"

#include <tern/pass.hpp>

namespace tern::ptq {

inline constexpr const char* input_scale_key = "quantization.ptq.input_scale"; ///< inputs are multiplied by this
inline constexpr const char* input_limit_key = "quantization.ptq.input_limit"; ///< then clamped to ±this
inline constexpr const char* input_round_key = "quantization.ptq.input_round"; ///< and rounded when "1"
/// On each activation quantizer's Clip (its Requantize in the integer graph): the real value
/// of one step of the integers it makes, which the integer graph's ratios alone cannot tell
/// (to_qdq writes it as the QuantizeLinear scale).
inline constexpr const char* step_key = "quantization.ptq.step";

void quantize_normalized_network(Graph& graph, PassContext& context, const Options& options);

} // namespace tern::ptq
