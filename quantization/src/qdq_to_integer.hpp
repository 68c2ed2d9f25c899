#pragma once
// A QDQ model (QuantizeLinear / DequantizeLinear around float operators, as tern quantize
// --format qdq and ONNX Runtime's quantize_static write it) onto Tern's integer kernels.
// Every quantized activation keeps the file's integers and zero point (real value =
// (q - zero point) * scale); an operator that reads DequantizeLinear outputs and whose
// result only one QuantizeLinear reads becomes its integer form:
//   - Conv / Gemm / MatMul with int8 weights (zero point 0): int8/uint8 X, int32
//     accumulation, X's zero point folded into the bias as b - z_x * sum(W) (padding made
//     explicit: a Pad of z_x), then a Requantize by s_x * s_w / s_y, or, where no
//     QuantizeLinear follows (the logits), a DequantizeLinear by s_x * s_w. An int32 bias
//     on s_x * s_w is taken as it is; a float one, or one on another scale, is rounded to it;
//   - Add, Concat of inputs on other scales, a BatchNormalization no Conv absorbed: int32
//     sums at 2^8 times the output's resolution (each term off by 1/512 of a step at most)
//     plus the zero points' and biases' constants, requantized once by 2^-8;
//   - Mul of two activations: the int32 product of the centred integers;
//   - GlobalAveragePool, AveragePool without padding: a depthwise Conv of ones, then a
//     Requantize by s_x / (window size * s_y);
//   - Pad on one scale and zero point: the integers padded with the constant's integer;
//   - Relu / Clip on one scale and zero point: a Requantize that only clamps;
//   - an elementwise function of one activation (Sigmoid, HardSwish, Tanh, x * 0.5, ...): a
//     TableLookup of its 256 results, computed by the file's own DequantizeLinear, function
//     and QuantizeLinear;
//   - MaxPool, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Identity, Concat on one
//     scale and zero point: the same operator on the integers.
// An output zero point other than 0 is added in int32 after the Requantize and cast to the
// 8-bit type. Zero points that only shift the type (int8 -128 is uint8 0, uint8 128 is
// int8 0) are first rewritten to 0, so most activations need no zero point at all.
// Parameters may be float constants, DequantizeLinear of constants, or QuantizeLinear ->
// DequantizeLinear of them, also through Identity nodes (what exporters and quantizers write
// for parameters that nodes share). Whatever matches none of these (other operators,
// weights with zero points) stays as the file has it: float between DequantizeLinear and
// QuantizeLinear, its exact ONNX meaning.

#include "options.hpp"

#include <tern/pass.hpp>

namespace tern::ptq {

void qdq_to_integer(Graph& graph, PassContext& context, const Options& options);

} // namespace tern::ptq
